"""The direct run writer (listing at scale) against the pydantic model path.

``Store.run_wire`` writes the DEFAULT view of a stored run straight from the
row; ``Store.run_wire_via_model`` goes through ``Run.model_validate`` and
``to_wire``. They must give the same JSON, key order included, for every run the
server stores: its own (demo data, every state), replayed ones in the field
cases' shapes, and odd values that only the model path handles (or refuses).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from kfp_nb.server import _store
from kfp_nb.server._demo import seed_demo
from kfp_nb.server._store import Store
from tests._data import case

_COLUMNS = {
    "experiment_id": "e-1",
    "display_name": "run",
    "description": "",
    "storage_state": "AVAILABLE",
    "pipeline_spec": None,
    "pipeline_id": "",
    "pipeline_version_id": "",
    "runtime_config": None,
    "service_account": "",
    "created_at": 1_717_171_717,
    "scheduled_at": 1_717_171_717,
    "finished_at": 0,
    "state": "RUNNING",
    "state_history": "[]",
    "recurring_run_id": "",
}


@pytest.fixture
def store(tmp_path):
    s = Store(str(tmp_path / "wire.db"))
    yield s
    s.close()


def _insert(store: Store, run_id: str, **columns: Any) -> None:
    values = {**_COLUMNS, **columns}
    for name in ("runtime_config", "state_history", "pipeline_spec"):
        if not isinstance(values[name], (str, type(None))):
            values[name] = json.dumps(values[name])
    names = ", ".join(["run_id", *values])
    marks = ", ".join("?" for _ in range(len(values) + 1))
    with store.tx() as db:
        db.execute(
            f"INSERT INTO runs({names}) VALUES({marks})", [run_id, *values.values()]
        )


def _both(store: Store, run_id: str) -> tuple[Any, Any]:
    """(direct result, model result); an exception stands for its type."""
    out = []
    with store.read() as db:
        row = db.execute("SELECT * FROM runs WHERE run_id=?", (run_id,)).fetchone()
        for write in (store.run_wire, store.run_wire_via_model):
            try:
                out.append(json.dumps(write(db, row)))
            except Exception as exc:  # noqa: BLE001 - compared by type below
                out.append(type(exc))
    return out[0], out[1]


def _direct_ok(store: Store, run_id: str) -> bool:
    """Whether the row takes the direct path (not the model fallback)."""
    with store.read() as db:
        row = db.execute("SELECT * FROM runs WHERE run_id=?", (run_id,)).fetchone()
        try:
            _store._direct_run_wire(row, 0)
        except (_store._Unusual, ValueError, TypeError):
            return False
    return True


def test_demo_runs_in_every_state_match_and_take_the_direct_path(store):
    seed_demo(store, speed=1.0)
    with store.read() as db:
        rows = db.execute("SELECT run_id FROM runs").fetchall()
        states = {r[0] for r in db.execute("SELECT DISTINCT state FROM runs")}
    assert len(rows) >= 80 and {"RUNNING", "SUCCEEDED", "FAILED"} <= states
    for (run_id,) in rows:
        direct, model = _both(store, run_id)
        assert direct == model, run_id
        assert _direct_ok(store, run_id), run_id
    with store.read() as db:
        counted = db.execute("SELECT COUNT(DISTINCT run_id) FROM tasks").fetchone()[0]
    assert counted > 0  # some demo runs have tasks: task_count was compared too


def _case_runs() -> list[dict[str, Any]]:
    return case("02")["server_response"]["body"]["runs"]


@pytest.mark.parametrize("run", _case_runs(), ids=lambda r: r["display_name"])
def test_case02_unknown_states_stored_by_a_replay_match(store, run):
    ref = run["pipeline_version_reference"]
    state = run.get("state", "")  # the last run leaves it out
    _insert(
        store, run["run_id"], display_name=run["display_name"], state=state,
        pipeline_id=ref["pipeline_id"],
        pipeline_version_id=ref["pipeline_version_id"],
        runtime_config=run["runtime_config"],
        service_account=run["service_account"],
        state_history=[{"update_time": run["created_at"], "state": state}],
    )  # fmt: skip
    direct, model = _both(store, run["run_id"])
    assert direct == model
    assert json.loads(direct).get("state") == run.get("state")
    assert _direct_ok(store, run["run_id"])


_CASE35 = list(case("35")["input"]["created_at"])


@pytest.mark.parametrize("when", _CASE35, ids=repr)
def test_case35_history_times_in_every_form_match(store, when):
    """Z, +02:00, no zone, nanoseconds, null and '' as stored update_time."""
    history = [
        {"update_time": when, "state": "PENDING"},
        {"update_time": "2024-03-31T01:00:00+00:00", "state": "RUNNING"},
    ]
    _insert(store, "r35", state_history=history)
    direct, model = _both(store, "r35")
    assert direct == model
    if isinstance(direct, str):
        first = json.loads(direct)["state_history"][0]
        assert when in (None, "") or first["update_time"].endswith("Z")


# Stored values of every odd kind: (id, columns). Each must give the model's
# answer exactly, an exception type included.
_ODD = [
    (
        "epoch-and-sentinels",
        {
            "finished_at": 0,
            "state_history": [
                {"update_time": "1970-01-01T00:00:00Z", "state": "PENDING"},
                {"update_time": "0001-01-01T00:00:00Z", "state": "RUNNING"},
                {"update_time": "1970-01-01T00:00:00+00:00", "state": ""},
            ],
        },
    ),
    (
        "fractions",
        {
            "state_history": [
                {"update_time": "2024-01-01T00:00:00.5Z", "state": "RUNNING"},
                {"update_time": "2024-01-01T00:00:00.120Z", "state": "RUNNING"},
                {"update_time": "2024-01-01T00:00:00.000001Z", "state": "RUNNING"},
                {"update_time": "2024-01-01T00:00:00.0000009Z", "state": "RUNNING"},
                {"update_time": "1970-01-01T00:00:00.000Z", "state": "RUNNING"},
                {"update_time": "1970-01-01T00:00:00.25+00:00", "state": "RUNNING"},
                {
                    "update_time": "2024-01-01T00:00:00.123456789+00:00",
                    "state": "FAILED",
                    "error": {"code": 2, "message": "boom"},
                },
            ]
        },
    ),
    (
        "time-unicode-digits",
        {"state_history": [{"update_time": "2024-01-01T00:00:00.\u0661\u0662Z"}]},
    ),
    (
        "time-other-offsets",
        {
            "state_history": [
                {"update_time": "2024-01-01T02:00:00+02:00"},
                {"update_time": "2024-01-01T00:00:00"},
                {"update_time": "2024-01-01T00:00:00z"},
                {"update_time": " 2024-01-01T00:00:00Z "},
            ]
        },
    ),
    (
        "error-zero-code",
        {
            "state_history": [
                {
                    "update_time": "2024-01-01T00:00:00Z",
                    "state": "FAILED",
                    "error": {"code": 0, "message": ""},
                }
            ]
        },
    ),
    (
        "error-details",
        {
            "state_history": [
                {"state": "FAILED", "error": {"code": 9, "details": [{"@type": "x"}]}}
            ]
        },
    ),
    ("history-extra-key", {"state_history": [{"state": "RUNNING", "note": "x"}]}),
    ("history-big-code", {"state_history": [{"error": {"code": 2**70}}]}),
    ("history-big-time", {"state_history": [{"update_time": 10**30}]}),
    ("history-int-state", {"state_history": [{"state": 3}]}),
    ("history-bool-state", {"state_history": [{"state": True}]}),
    ("history-null", {"state_history": "null"}),
    ("history-empty-text", {"state_history": ""}),
    ("history-object", {"state_history": "{}"}),
    ("history-not-list", {"state_history": '"RUNNING"'}),
    ("history-bad-time", {"state_history": [{"update_time": "2024-13-45T00:00:00Z"}]}),
    ("history-number-time", {"state_history": [{"update_time": 5}]}),
    ("config-empty", {"runtime_config": {}}),
    (
        "config-null-parameters",
        {"runtime_config": {"parameters": None, "pipeline_root": ""}},
    ),
    (
        "config-mixed-parameters",
        {
            "runtime_config": {
                "parameters": {
                    "lr": 0.001,
                    "n": 3,
                    "s": "x",
                    "b": False,
                    "z": 0,
                    "e": "",
                    "l": [1, {}],
                    "o": {"k": None},
                    "big": 2**70,
                    "neg": -(2**63),
                },
                "pipeline_root": "gs://b",
            }
        },
    ),
    (
        "config-big-numbers",
        {
            "runtime_config": {
                "parameters": {
                    "over": 2**64 + 1,
                    "under": -(2**63) - 1,
                    "u64": 2**64 - 1,
                    "f": 1e19,
                    "nested": [2**70],
                }
            }
        },
    ),
    ("config-extra-key", {"runtime_config": {"parameters": {}, "pipelineRoot": "x"}}),
    ("config-root-number", {"runtime_config": {"pipeline_root": 5}}),
    ("config-parameters-list", {"runtime_config": {"parameters": [1]}}),
    ("config-infinity", {"runtime_config": '{"parameters": {"x": 1e400}}'}),
    ("config-not-object", {"runtime_config": "[1, 2]"}),
    (
        "spec-inline",
        {
            "pipeline_spec": {"pipelineInfo": {"name": "p"}, "n": 2**70},
            "pipeline_id": "ignored-when-spec",
        },
    ),
    ("spec-empty", {"pipeline_spec": {}, "pipeline_id": "p"}),
    (
        "spec-null",
        {"pipeline_spec": "null", "pipeline_id": "p", "pipeline_version_id": "v"},
    ),
    ("spec-list", {"pipeline_spec": "[1]"}),
    ("reference-without-version", {"pipeline_id": "p"}),
    (
        "texts",
        {
            "display_name": 'x <b>"y"</b> 訓練 🚀',
            "description": "d\n",
            "service_account": "sa",
            "recurring_run_id": "rr",
            "storage_state": "STORAGE_STATE_FROM_THE_FUTURE",
        },
    ),
    (
        "empty-texts",
        {"display_name": "", "storage_state": "", "state": "", "experiment_id": ""},
    ),
    (
        "times-far",
        {
            "created_at": 253_402_300_799,
            "scheduled_at": 1,
            "finished_at": 4_000_000_000,
        },
    ),
    ("time-past-year-9999", {"created_at": 253_402_300_800}),
    ("time-negative", {"scheduled_at": -86_400}),
    ("time-real", {"finished_at": 1_717_171_717.75}),
    ("time-text", {"created_at": "soon"}),
]


@pytest.mark.parametrize("columns", [c for _, c in _ODD], ids=[i for i, _ in _ODD])
def test_odd_stored_values_give_the_model_answer(store, columns):
    _insert(store, "odd", **columns)
    direct, model = _both(store, "odd")
    assert direct == model


def test_task_count_from_the_listing_column_and_from_a_query_agree(store):
    _insert(store, "with-tasks")
    with store.tx() as db:
        for i in range(3):
            db.execute(
                "INSERT INTO tasks(task_id, run_id) VALUES(?, ?)",
                (f"t{i}", "with-tasks"),
            )
    direct, model = _both(store, "with-tasks")
    assert direct == model and json.loads(direct)["task_count"] == 3


def test_model_path_errors_stay_model_errors(store):
    """A run the model refuses is refused the same way (a 500 names the field)."""
    _insert(store, "bad", runtime_config={"parameters": [1]})
    with store.read() as db:
        row = db.execute("SELECT * FROM runs WHERE run_id='bad'").fetchone()
        with pytest.raises(ValidationError, match="parameters"):
            store.run_wire(db, row)
