"""Following pages: same filter and sort each time, loops and failures stop clearly."""

from __future__ import annotations

import httpx
import pytest

import kfp_nb
from tests._data import case

from ._mock import FakeServer, from_case, reply, run_body

FLT = {
    "predicates": [{"key": "state", "operation": "EQUALS", "string_value": "FAILED"}]
}


def _strict_server(pages: list[dict]) -> FakeServer:
    """Serves ``pages`` by token; like KFP, a token needs the same filter and sort."""
    first_params: dict = {}

    def handle(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        token = params.get("page_token")
        if token is None:
            first_params.update(params)
            return reply(200, pages[0])
        for key in ("filter", "sort_by"):
            if key in params and params[key] != first_params.get(key):
                return from_case(case("07")["server_response"][1])
        return reply(200, pages[int(token.split("-")[-1]) - 1])

    return FakeServer().on("GET", "/runs", handle)


def test_case07_two_pages_with_the_same_filter_and_sort():
    c = case("07")
    first, last = c["server_response"][0]["body"], c["server_response"][2]["body"]
    first = {**first, "next_page_token": "opaque-token-page-2"}
    fake = _strict_server([first, last])
    runs = list(
        fake.client().iter_runs(filter=FLT, sort_by="created_at desc", page_size=20)
    )
    assert [r.run_id[-2:] for r in runs] == ["16", "17"]
    one, two = fake.params(0), fake.params(1)
    assert two["page_token"] == "opaque-token-page-2"
    assert (one["filter"], one["sort_by"]) == (two["filter"], two["sort_by"])
    assert one["page_size"] == two["page_size"] == "20"


def test_token_with_base64_characters_is_percent_encoded():
    token = "eyJTb3J0Ijo+/x=="
    fake = FakeServer().on(
        "GET",
        "/runs",
        reply(200, {"runs": [run_body("a")], "next_page_token": token}),
        reply(200, {"runs": [run_body("b")]}),
    )
    assert len(list(fake.client().iter_runs())) == 2
    assert b"page_token=eyJTb3J0Ijo%2B%2Fx%3D%3D" in fake.requests[1].url.query


def test_mismatch_on_a_later_page_is_retried_with_the_token_alone():
    # A real server can call an identical numeric filter different (SEMANTICS §5).
    fake = FakeServer().on(
        "GET",
        "/runs",
        reply(200, {"runs": [run_body("a")], "next_page_token": "t2"}),
        from_case(case("07")["server_response"][1]),
        reply(200, {"runs": [run_body("b")], "next_page_token": "t3"}),
        reply(200, {"runs": [run_body("c")]}),
    )
    runs = list(fake.client().iter_runs(filter=FLT, sort_by="created_at"))
    assert [r.run_id for r in runs] == ["a", "b", "c"]
    assert "filter" not in fake.params(2) and fake.params(2)["page_token"] == "t2"
    assert "filter" not in fake.params(3)


def test_case09_repeated_token_stops_with_rows_attached():
    c = case("09")["server_response"]
    fake = FakeServer().on("GET", "/runs", from_case(c[0]), from_case(c[1]))
    with pytest.raises(kfp_nb.PaginationError) as info:
        list(fake.client().iter_runs(page_size=100))
    error = info.value
    assert "loop-token" in str(error) and "again" in str(error)
    assert len(error.rows) == 1 and error.pages == 2
    assert len(fake.requests) == 2


def test_a_cycle_of_tokens_is_caught_too():
    fake = FakeServer().on(
        "GET",
        "/runs",
        reply(200, {"runs": [run_body("a")], "next_page_token": "A"}),
        reply(200, {"runs": [run_body("b")], "next_page_token": "B"}),
        reply(200, {"runs": [run_body("c")], "next_page_token": "A"}),
    )
    with pytest.raises(kfp_nb.PaginationError) as info:
        list(fake.client().iter_runs())
    assert len(info.value.rows) == 3


def test_max_pages_caps_a_server_minting_tokens_forever():
    counter = iter(range(10**6))

    def endless(request):
        return reply(
            200, {"runs": [run_body()], "next_page_token": f"t{next(counter)}"}
        )

    fake = FakeServer().on("GET", "/runs", endless)
    with pytest.raises(kfp_nb.PaginationError, match="max_pages=5"):
        list(fake.client().iter_runs(max_pages=5))
    assert len(fake.requests) == 5


@pytest.mark.parametrize("token", ["", None])
def test_empty_token_ends_the_listing(token):
    fake = FakeServer().on(
        "GET", "/runs", reply(200, {"runs": [run_body()], "next_page_token": token})
    )
    assert len(list(fake.client().iter_runs())) == 1
    assert len(fake.requests) == 1


def test_failure_mid_listing_says_how_far_it_got():
    fake = FakeServer().on(
        "GET",
        "/runs",
        reply(200, {"runs": [run_body("a"), run_body("b")], "next_page_token": "t2"}),
        reply(200, {"runs": [run_body("c")], "next_page_token": "t3"}),
        reply(500, {"code": 13, "message": "db gone"}),
    )
    with pytest.raises(kfp_nb.PaginationError) as info:
        list(fake.client(retries=0).iter_runs())
    error = info.value
    assert "page 3" in str(error) and "2 page(s)" in str(error)
    assert "3 row(s)" in str(error) and "db gone" in str(error)
    assert [r["run_id"] for r in error.rows] == ["a", "b", "c"]
    assert isinstance(error.__cause__, kfp_nb.ServerError)


def test_failure_on_the_first_page_is_the_plain_error():
    fake = FakeServer().on("GET", "/runs", reply(404, {"code": 5, "message": "nope"}))
    with pytest.raises(kfp_nb.NotFound):
        list(fake.client().iter_runs(experiment_id="nope"))


def test_iter_tasks_follows_pages_with_the_run_id():
    fake = FakeServer().on(
        "GET",
        "/tasks",
        reply(200, {"tasks": [{"task_id": "t1"}], "next_page_token": "p2"}),
        reply(200, {"tasks": [{"task_id": "t2"}]}),
    )
    tasks = list(fake.client().iter_tasks(run_id="r1", page_size=1))
    assert [t.task_id for t in tasks] == ["t1", "t2"]
    assert fake.params(1) == {"run_id": "r1", "page_token": "p2", "page_size": "1"}


def test_list_runs_passes_every_option():
    fake = FakeServer().on("GET", "/runs", reply(200, {}))
    fake.client(namespace="team-a").list_runs(
        experiment_id="e",
        page_token="t",
        page_size=7,
        sort_by="name",
        view="FULL",
        filter='{"predicates":[]}',
    )
    params = fake.params()
    assert params["namespace"] == "team-a" and params["experiment_id"] == "e"
    assert params["page_size"] == "7" and params["view"] == "FULL"
    assert params["filter"] == "%7B%22predicates%22%3A%5B%5D%7D"


def test_list_tasks_refuses_run_and_parent_together():
    with pytest.raises(ValueError, match="not both"):
        FakeServer().client().list_tasks(run_id="a", parent_id="b")
