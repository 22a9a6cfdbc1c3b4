"""A server that breaks the paging contract gets a PaginationWarning, once.

Two breaks are seen: the same ``run_id`` / ``task_id`` on more than one page
(the rows are all kept, repeats included), and a listing that ends with fewer
rows than the ``total_size`` its first and last pages reported. The fake
server below answers with bodies shaped as KFP's (SEMANTICS.md §5); the last
test lists the embedded server over real HTTP while runs are being created,
which must not warn.
"""

from __future__ import annotations

import asyncio
import threading
import warnings
from typing import Any

import httpx
import pytest

import kfp_nb
from kfp_nb._warnings import KFPWarning, PaginationWarning

from ._mock import FakeServer, reply, run_body


def _task(task_id: str) -> dict[str, Any]:
    return {
        "task_id": task_id,
        "run_id": "r1",
        "name": f"step-{task_id}",
        "state": "SUCCEEDED",
        "create_time": "2024-02-05T21:26:07Z",
    }


def _paged(
    key: str, pages: list[list[dict]], totals: list[int]
) -> list[httpx.Response]:
    """One reply per page; page N carries token ``tN`` to the next one."""
    replies = []
    for number, (rows, total) in enumerate(zip(pages, totals, strict=True), 1):
        body: dict[str, Any] = {key: rows}
        if total:
            body["total_size"] = total  # left out when 0, as the server does
        if number < len(pages):
            body["next_page_token"] = f"t{number}"
        replies.append(reply(200, body))
    return replies


def _runs_server(pages: list[list[str]], totals: list[int]) -> FakeServer:
    rows = [[run_body(r) for r in page] for page in pages]
    fake = FakeServer().on("GET", "/runs", *_paged("runs", rows, totals))
    return fake.on("GET", "/experiments", reply(200, {}))


def _tasks_server(pages: list[list[str]], totals: list[int]) -> FakeServer:
    rows = [[_task(t) for t in page] for page in pages]
    return FakeServer().on("GET", "/tasks", *_paged("tasks", rows, totals))


def _pagination_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, PaginationWarning)]


# Seven rows of page 1 come again on page 2: the server re-sorted in between.
REPEATED = [[f"r{i}" for i in range(10)], [f"r{i}" for i in range(3, 10)] + ["r10"]]


def test_repeated_run_ids_keep_every_row_and_warn_once_naming_five():
    fake = _runs_server(REPEATED, [11, 11])
    with pytest.warns(PaginationWarning) as caught:
        frame = fake.client().runs(progress=False)
    assert len(_pagination_warnings(caught)) == 1
    assert caught[0].filename == __file__  # points at the caller's line
    text = _pagination_warnings(caught)[0]
    assert text.startswith("GET /apis/v2beta1/runs: 7 row(s) came again")
    assert "'r3', 'r4', 'r5', 'r6', 'r7', ..." in text and "'r8'" not in text
    assert "All 18 rows are kept" in text and "nothing is lost" in text
    assert len(frame) == 18  # kept, repeats included
    assert frame["run_id"].value_counts()["r5"] == 2
    # 11 distinct runs of total_size 11: nothing is missing, so no second part.
    assert "total_size" not in text
    assert issubclass(PaginationWarning, KFPWarning)


def test_iter_runs_yields_every_row_and_warns_about_repeats():
    fake = _runs_server([["a", "b"], ["b", "c"]], [3, 3])
    with pytest.warns(PaginationWarning, match=r"1 row\(s\).*run_id 'b'") as caught:
        runs = [run.run_id for run in fake.client().iter_runs()]
    assert runs == ["a", "b", "b", "c"]
    assert len(_pagination_warnings(caught)) == 1


def test_repeated_task_ids_warn_for_tasks_and_iter_tasks():
    fake = _tasks_server([["t1", "t2"], ["t2", "t3"]], [3, 3])
    with pytest.warns(PaginationWarning, match="GET /apis/v2beta1/tasks.*task_id 't2'"):
        frame = fake.client().tasks("r1")
    assert frame["task_id"].tolist() == ["t1", "t2", "t2", "t3"]
    fake = _tasks_server([["t1", "t2"], ["t2", "t3"]], [3, 3])
    with pytest.warns(PaginationWarning, match="task_id 't2'"):
        assert len(list(fake.client().iter_tasks(run_id="r1"))) == 4


def test_the_async_client_warns_the_same_way():
    async def main() -> tuple[int, int, int]:
        async with _runs_server(REPEATED, [11, 11]).async_client() as client:
            frame = await client.runs(progress=False)
        async with _runs_server([["a"], ["a"]], [1, 1]).async_client() as client:
            ids = [run.run_id async for run in client.iter_runs()]
        tasks_fake = _tasks_server([["t1"], ["t2"]], [5, 5])
        async with tasks_fake.async_client() as client:
            tasks = await client.tasks("r1")
        return len(frame), len(ids), len(tasks)

    with pytest.warns(PaginationWarning) as caught:
        sizes = asyncio.run(main())
    assert sizes == (18, 2, 2)
    texts = _pagination_warnings(caught)
    assert len(texts) == 3
    assert "7 row(s) came again" in texts[0] and "run_id 'a'" in texts[1]
    assert "with 2 tasks" in texts[2] and "total_size=5" in texts[2]


def test_a_listing_short_of_its_unchanged_total_warns():
    fake = _runs_server([["a", "b", "c"], ["d", "e", "f"]], [10, 10])
    with pytest.warns(PaginationWarning) as caught:
        frame = fake.client().runs(progress=False)
    assert len(frame) == 6
    (text,) = _pagination_warnings(caught)
    assert text.startswith("GET /apis/v2beta1/runs: the listing ended after 2 page")
    assert "with 6 runs" in text and "total_size=10" in text and "4 may be" in text
    assert "created, deleted or archived while listing" in text


def test_repeats_and_a_short_count_make_one_warning():
    fake = _runs_server([["a", "b"], ["b", "c"]], [5, 5])
    with pytest.warns(PaginationWarning) as caught:
        fake.client().runs(progress=False)
    (text,) = _pagination_warnings(caught)
    assert "run_id 'b'" in text and "with 3 runs" in text and "total_size=5" in text


@pytest.mark.parametrize(
    ("pages", "totals"),
    [
        ([["a", "b"], ["c"]], [3, 3]),  # as promised
        ([["a", "b"], ["c"]], [0, 0]),  # no total_size sent
        ([["a", "b"], ["c"]], [5, 3]),  # runs deleted while listing
        ([["a", "b"], ["c"]], [3, 4]),  # a run created behind the cursor
        ([["a", "b"], []], [4, 0]),  # an empty last page: "{}", no total
        ([["a", "b", "c"]], [3]),  # one page
        ([], []),  # nothing at all: "{}"
    ],
)
def test_a_listing_that_kept_the_contract_does_not_warn(pages, totals):
    fake = _runs_server(pages or [[]], totals or [0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", KFPWarning)
        frame = fake.client().runs(progress=False)
        runs = list(_runs_server(pages or [[]], totals or [0]).client().iter_runs())
    assert len(frame) == len(runs) == sum(map(len, pages))


def test_a_limit_or_max_pages_that_cut_the_listing_short_does_not_warn():
    pages = [["a", "b"], ["c", "d"], ["e"]]
    with warnings.catch_warnings():
        warnings.simplefilter("error", KFPWarning)
        frame = _runs_server(pages, [9, 9, 9]).client().runs(limit=3, progress=False)
        with pytest.raises(kfp_nb.PaginationError, match="max_pages=2"):
            list(_runs_server(pages, [9, 9, 9]).client().iter_runs(max_pages=2))
    assert frame["run_id"].tolist() == ["a", "b", "c"]


def test_repeats_in_the_pages_a_limit_kept_still_warn():
    fake = _runs_server([["a", "b"], ["b", "c"], ["d"]], [9, 9, 9])
    with pytest.warns(PaginationWarning) as caught:
        frame = fake.client().runs(limit=4, progress=False)
    (text,) = _pagination_warnings(caught)
    assert "run_id 'b'" in text and "total_size" not in text
    assert frame["run_id"].tolist() == ["a", "b", "b", "c"]


# -- the embedded server over real HTTP -----------------------------------------


def _create(server, names: list[str]) -> None:
    from kfp_nb.server._pipelines import DEMO_PIPELINES

    spec = DEMO_PIPELINES[min(DEMO_PIPELINES)]
    with httpx.Client(base_url=f"{server.url}/apis/v2beta1") as http:
        for name in names:
            answer = http.post(
                "/runs", json={"display_name": name, "pipeline_spec": spec}
            )
            assert answer.status_code == 200, answer.text


def test_the_embedded_server_listing_during_inserts_does_not_warn(server):
    # Keyset pages never repeat a row, and a total that grows while listing is
    # not a short count: runs(), iter_runs() and tasks() stay silent.
    _create(server, [f"before-{i}" for i in range(30)])
    stop = threading.Event()
    created: list[int] = []

    def insert() -> None:
        while not stop.is_set() and len(created) < 200:
            _create(server, [f"during-{len(created)}"])
            created.append(1)

    writer = threading.Thread(target=insert)
    writer.start()
    try:
        with warnings.catch_warnings(), kfp_nb.Client(server.url) as client:
            warnings.simplefilter("error", KFPWarning)
            frames = [client.runs(page_size=4, progress=False) for _ in range(3)]
            ascending = [r.run_id for r in client.iter_runs(page_size=4)]
            run_id = frames[0]["run_id"].iloc[-1]
            tasks = client.tasks(run_id)
            task_ids = [
                t.task_id for t in client.iter_tasks(run_id=run_id, page_size=2)
            ]
    finally:
        stop.set()
        writer.join()
    assert created, "no run was created while listing"
    for frame in frames:
        assert frame["run_id"].is_unique and len(frame) >= 30
    assert len(set(ascending)) == len(ascending) >= 30
    assert tasks["task_id"].is_unique and len(set(task_ids)) == len(task_ids)
