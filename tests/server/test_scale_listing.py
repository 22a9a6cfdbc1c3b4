"""Listing at scale: keyset pages over every sort field, exact total_size with a
cached count, query plans that use the indexes, and reads beside writes."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kfp_nb.server import launch
from kfp_nb.server._query import RUNS, build_list_query
from kfp_nb.server._store import Store
from tests.server._plans import QueryRecorder

from ._http import create_run

API = "/apis/v2beta1"
_NS = uuid.UUID("0b7e1d8c-54a4-4c52-9d0e-3f1e2a6b7c90")
# Few distinct values per column, mixed case, so pages cut through ties.
_NAMES = ["alpha", "Alpha", "ALPHA", "beta", "Beta", "gamma", "a_b", "a%b", ""]
_STATES = ["SUCCEEDED", "FAILED", "RUNNING", "PAUSED"]
_STORAGE = ["AVAILABLE", "ARCHIVED"]
_SORTABLE = [
    "run_id", "id", "display_name", "name", "created_at", "finished_at",
    "scheduled_at", "description", "storage_state", "status", "state", "namespace",
    "recurring_run_id", "runtime_details",
]  # fmt: skip


def _row(i: int, experiments: list[str]) -> tuple[Any, ...]:
    state = _STATES[i % 4]
    created = 1_700_000_000 + 60 * (i // 3)  # three runs per second value
    return (
        str(uuid.uuid5(_NS, f"run/{i}")), experiments[i % len(experiments)],
        _NAMES[i % len(_NAMES)], f"desc {i % 5}", _STORAGE[i % 7 == 3], created,
        created + (i % 2), 0 if state == "RUNNING" else created + 100 + i % 4,
        state, state.capitalize(), "rr" if i % 10 == 1 else "",
        '[{"update_time":"2023-11-14T22:13:20+00:00","state":"PENDING"}]',
        f'{{"parameters":{{"i":{i}}}}}',
    )  # fmt: skip


def seed(path: str, count: int) -> list[str]:
    """``count`` runs over two experiments, written straight into a new database."""
    store = Store(path)
    experiments = [str(uuid.uuid5(_NS, f"exp/{k}")) for k in range(2)]
    try:
        with store.tx() as db:
            for k, exp in enumerate(experiments):
                store.insert_experiment(db, f"exp-{k}", "", 1_700_000_000,
                                        experiment_id=exp)  # fmt: skip
            db.executemany(
                "INSERT INTO runs(run_id, experiment_id, display_name, description, "
                "storage_state, created_at, scheduled_at, finished_at, state, "
                "conditions, recurring_run_id, state_history, runtime_config) "
                "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [_row(i, experiments) for i in range(count)],
            )
    finally:
        store.close()
    return experiments


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Iterator[tuple[Any, list[str]]]:
    """A server over 301 seeded runs (never written to by these tests)."""
    path = str(tmp_path_factory.mktemp("scale") / "runs.db")
    experiments = seed(path, 301)
    proc = launch(db=path, demo=False)
    yield proc, experiments
    proc.stop()


@pytest.fixture(scope="module")
def http(seeded) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=seeded[0].url + API, timeout=30.0) as client:
        yield client


def _walk(http: httpx.Client, params: dict[str, Any]) -> tuple[list[dict], set[int]]:
    """Every page of a listing; (runs in order, total_size values seen)."""
    runs, totals, token = [], set(), ""
    scope = {k: v for k, v in params.items() if k == "experiment_id"}
    for _ in range(1000):
        # Later pages send the token (it holds sort and filter) and the scope.
        query = {"page_size": params.get("page_size", 7)}
        query.update({"page_token": token, **scope} if token else params)
        resp = http.get("/runs", params=query)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        runs += body.get("runs", [])
        totals.add(body.get("total_size", 0))
        token = body.get("next_page_token", "")
        if not token:
            return runs, totals
    raise AssertionError("the token chain never ended")


def _expected(seeded_rows: list[dict], column: str, desc: bool) -> list[str]:
    """The oracle: ASCII case-folded value (COLLATE NOCASE), then the id."""

    def key(row: dict) -> tuple[Any, str]:
        value = row[column]
        return (value.lower() if isinstance(value, str) else value,
                row["run_id"].lower())  # fmt: skip

    return [r["run_id"] for r in sorted(seeded_rows, key=key, reverse=desc)]


@pytest.fixture(scope="module")
def stored(seeded) -> list[dict]:
    db = sqlite3.connect(f"file:{seeded[0].db}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("SELECT * FROM runs")]
    finally:
        db.close()


@pytest.mark.parametrize("desc", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("field", _SORTABLE)
def test_keyset_pages_walk_every_sort_field_through_ties(http, stored, field, desc):
    sort = f"{field} desc" if desc else field
    runs, totals = _walk(http, {"sort_by": sort})
    column = RUNS.fields[field]
    assert [r["run_id"] for r in runs] == _expected(stored, column, desc)
    assert totals == {len(stored)}


def test_metric_sort_orders_by_id_and_pages(http, stored):
    """No v1 metrics are stored, so every run ties and the id decides."""
    runs, _ = _walk(http, {"sort_by": "metric:accuracy desc", "page_size": 50})
    ids = [r["run_id"] for r in runs]
    assert ids == sorted((r["run_id"] for r in stored), reverse=True)


def test_filtered_pages_walk_in_order_with_a_constant_total(http, stored):
    flt = json.dumps({"predicates": [
        {"key": "state", "operation": "EQUALS", "string_value": "succeeded"},
        {"key": "name", "operation": "IS_SUBSTRING", "string_value": "a"},
    ]})  # fmt: skip
    runs, totals = _walk(http, {"filter": flt, "sort_by": "name desc"})
    matching = [r for r in stored if r["state"] == "SUCCEEDED"
                and "a" in r["display_name"].lower()]  # fmt: skip
    assert [r["run_id"] for r in runs] == _expected(matching, "display_name", True)
    assert totals == {len(matching)} and 0 < len(matching) < len(stored)


def test_experiment_scope_pages_newest_first(http, seeded, stored):
    exp = seeded[1][1]
    runs, totals = _walk(http, {"experiment_id": exp, "sort_by": "created_at desc"})
    mine = [r for r in stored if r["experiment_id"] == exp]
    assert [r["run_id"] for r in runs] == _expected(mine, "created_at", True)
    assert totals == {len(mine)}


# -- total_size stays exact ------------------------------------------------------


def _total(api: httpx.Client, **params: Any) -> int:
    body = api.get("/runs", params={"page_size": 2, **params}).json()
    return body.get("total_size", 0)


def test_total_size_follows_inserts_deletes_updates_and_other_writers(
    server, training_spec
):
    with httpx.Client(base_url=server.url + API, timeout=30.0) as api:
        runs = [create_run(api, training_spec, f"count-{i}") for i in range(5)]
        named = json.dumps(
            {
                "predicates": [
                    {
                        "key": "name",
                        "operation": "IS_SUBSTRING",
                        "string_value": "count-",
                    }
                ]
            }
        )
        available = json.dumps({"predicates": [
            {"key": "storage_state", "operation": "EQUALS",
             "string_value": "AVAILABLE"}]})  # fmt: skip
        assert _total(api, filter=named) == 5
        assert _total(api, filter=named) == 5  # the cached count, unchanged
        create_run(api, training_spec, "count-5")
        assert _total(api, filter=named) == 6
        assert api.delete(f"/runs/{runs[0]['run_id']}").status_code == 200
        assert _total(api, filter=named) == 5 and _total(api) == 5
        assert api.post(f"/runs/{runs[1]['run_id']}:archive").status_code == 200
        assert _total(api, filter=available) == 4
        assert api.post(f"/runs/{runs[1]['run_id']}:unarchive").status_code == 200
        assert _total(api, filter=available) == 5
        # Another process writing the file: the schema's triggers count it too.
        other = sqlite3.connect(server.db, timeout=30.0)
        try:
            with other:
                other.execute(
                    "INSERT INTO runs(run_id, experiment_id, display_name, "
                    "storage_state, created_at, scheduled_at, state) "
                    "VALUES('outside', 'e', 'count-outside', 'AVAILABLE', 1, 1, "
                    "'SUCCEEDED')"
                )
        finally:
            other.close()
        assert _total(api, filter=named) == 6
        assert _total(api, filter=available) == 6


def test_every_page_agrees_with_its_total_while_runs_are_created(server, training_spec):
    """Count and page come from one snapshot, even with the count cached."""
    failures: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        with httpx.Client(base_url=server.url + API, timeout=60.0) as api:
            while not stop.is_set():
                resp = api.get("/runs", params={"page_size": 200})
                if resp.status_code != 200:
                    failures.append(resp.text[:200])
                    continue
                body = resp.json()
                if body.get("total_size", 0) != len(body.get("runs", [])):
                    failures.append(f"{body.get('total_size')} vs {len(body['runs'])}")

    threads = [threading.Thread(target=reader) for _ in range(6)]
    for thread in threads:
        thread.start()
    try:
        with httpx.Client(base_url=server.url + API, timeout=60.0) as api:
            for i in range(25):
                create_run(api, training_spec, f"busy-{i}")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not failures, failures[:5]
    with httpx.Client(base_url=server.url + API, timeout=60.0) as api:
        assert _total(api) == 25


# -- query plans -----------------------------------------------------------------


def _plans(store: Store, db: Any, sort: str, flt: str, scope: list) -> list[tuple]:
    """(statement kind, plan lines) of the first page and of a keyset page."""
    out = []
    token = ""
    scope_sql = ["experiment_id = ?"] if scope else []
    for _ in range(2):
        query = build_list_query(
            RUNS, page_size=20, page_token=token, sort_by="" if token else sort,
            filter_text="" if token else flt,
        )  # fmt: skip
        store._counts.clear()  # plan the COUNT on every call
        rec = QueryRecorder(db)
        _, _, token = store.list_rows(rec, query, scope=scope_sql, scope_args=scope)
        for sql, args in rec.calls:
            if "list_generation" in sql:
                continue
            kind = "count" if sql.startswith("SELECT COUNT") else (
                "keyset" if query.keyset else "first")  # fmt: skip
            plan = [r[3] for r in db.execute(f"EXPLAIN QUERY PLAN {sql}", args)]
            out.append((kind, plan))
        assert token, "the listing must have a second page"
    return out


def _filter(*preds: tuple[str, str, str]) -> str:
    return json.dumps(
        {
            "predicates": [
                {"key": k, "operation": op, "string_value": v} for k, op, v in preds
            ]
        }
    )


_COMBOS = [
    *[(f"{f}{d}", "", False) for f in ("created_at", "name", "finished_at",
      "scheduled_at", "state", "storage_state", "description")
      for d in ("", " desc")],
    ("created_at desc", "", True),
    ("created_at desc", _filter(("state", "EQUALS", "FAILED")), False),
    ("created_at", _filter(("storage_state", "EQUALS", "AVAILABLE")), False),
    ("name desc", _filter(("state", "EQUALS", "SUCCEEDED"),
                          ("name", "IS_SUBSTRING", "a")), False),
    ("created_at desc", _filter(("experiment_id", "EQUALS", "x")), False),
]  # fmt: skip


@pytest.fixture(scope="module")
def planned(tmp_path_factory) -> Iterator[Store]:
    """A store with enough runs that opening it gathers planner statistics."""
    path = str(tmp_path_factory.mktemp("plans") / "runs.db")
    seed(path, 3000)
    store = Store(path)
    yield store
    store.close()


@pytest.mark.parametrize(("sort", "flt", "scoped"), _COMBOS,
                         ids=[f"{s}|{f[:60]}|{c}" for s, f, c in _COMBOS])  # fmt: skip
def test_main_listings_read_an_index_range_without_sorting(planned, sort, flt, scoped):
    with planned.read() as db:
        exp = db.execute("SELECT experiment_id FROM experiments").fetchone()[0]
        if '"x"' in flt:
            flt = flt.replace('"x"', json.dumps(exp))
        plans = _plans(planned, db, sort, flt, [exp] if scoped else [])
    for kind, plan in plans:
        text = " | ".join(plan)
        assert "TEMP B-TREE" not in text, (kind, text)
        assert "INDEX" in plan[0], (kind, text)  # never a bare table scan
        if kind == "keyset" or flt or scoped:
            assert plan[0].startswith("SEARCH"), (kind, text)


# -- reads beside writes ------------------------------------------------------------


def test_a_read_completes_while_a_write_transaction_is_open(tmp_path):
    """WAL readers on their own connections neither wait for nor see the writer."""
    store = Store(str(tmp_path / "rw.db"))
    inside, release = threading.Event(), threading.Event()

    def writer() -> None:
        with store.tx() as db:
            store.insert_experiment(db, "pending", "", 1)
            inside.set()
            release.wait(30)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert inside.wait(30)
        seen: list[int] = []
        reader = threading.Thread(target=lambda: seen.append(_count_experiments(store)))
        reader.start()
        reader.join(30)
        assert seen == [0], "the read waited for the writer or saw its rows"
    finally:
        release.set()
        thread.join(30)
    assert _count_experiments(store) == 1  # committed: the next read sees it
    store.close()
    with pytest.raises(sqlite3.ProgrammingError):
        _count_experiments(store)


def _count_experiments(store: Store) -> int:
    with store.read() as db:
        return db.execute("SELECT COUNT(*) FROM experiments").fetchone()[0]
