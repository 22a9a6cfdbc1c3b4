"""The Arrow row payload and the ``columns`` trait (PROTOCOL.md "Row payload")."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa

from kfp_nb._frames import runs_frame
from kfp_nb.widgets import _payload

from ._helpers import decode

EPOCH = "1970-01-01T00:00:00Z"


def _wire_runs() -> list[dict]:
    return [
        {
            "run_id": "r1",
            "display_name": "first <b>",
            "experiment_id": "e1",
            "state": "SUCCEEDED",
            "storage_state": "AVAILABLE",
            "created_at": "2024-05-01T12:00:00Z",
            "finished_at": "2024-05-01T12:01:30Z",
            "pipeline_version_reference": {"pipeline_id": "p1"},
            "runtime_config": {
                "parameters": {
                    "lr": 0.5,
                    "epochs": 3,
                    "flag": True,
                    "tag": "a",
                    "cfg": {"k": [1, 2]},
                    "items": [1, "x"],
                }
            },
        },
        {
            "run_id": "r2",
            "display_name": "訓練 🚀",
            "state": "RUNNING",
            "storage_state": "ARCHIVED",
            "created_at": "2024-05-02T00:00:00Z",
            "finished_at": EPOCH,
            "runtime_config": {"parameters": {"lr": 1, "flag": False}},
        },
        {
            "run_id": "r3",
            "display_name": "new",
            "state": "SOME_NEW_STATE",
            "created_at": "2024-05-03T00:00:00Z",
            "error": {"message": "boom"},
        },
    ]


def test_payload_decodes_to_the_frame_rows_with_protocol_types():
    frame = runs_frame(_wire_runs(), experiment_names={"e1": "exp one"})
    table = decode(_payload.encode_rows(frame))

    schema = table.schema
    assert schema.field("run_id").type == pa.utf8()
    assert pa.types.is_dictionary(schema.field("state").type)
    assert pa.types.is_dictionary(schema.field("storage_state").type)
    for name in ("created_at", "finished_at", "duration", "param.lr", "param.epochs"):
        assert schema.field(name).type == pa.float64(), name
    assert schema.field("param.flag").type == pa.bool_()
    tag = schema.field("param.tag").type
    assert tag == pa.utf8() or (
        pa.types.is_dictionary(tag) and tag.value_type == pa.utf8()
    )


    rows = table.to_pylist()
    assert [r["run_id"] for r in rows] == ["r1", "r2", "r3"]
    assert [r["display_name"] for r in rows] == ["first <b>", "訓練 🚀", "new"]
    assert [r["state"] for r in rows] == ["SUCCEEDED", "RUNNING", "SOME_NEW_STATE"]
    assert [r["storage_state"] for r in rows] == [
        "AVAILABLE",
        "ARCHIVED",
        "STORAGE_STATE_UNSPECIFIED",
    ]
    assert (
        rows[0]["experiment_name"] == "exp one" and rows[1]["experiment_name"] is None
    )
    assert [r["pipeline"] for r in rows] == ["p1", "—", "—"]
    created = pd.Timestamp("2024-05-01T12:00:00Z").value / 1e6
    assert rows[0]["created_at"] == created
    assert rows[0]["finished_at"] == created + 90_000
    assert rows[0]["duration"] == 90_000
    assert math.isnan(rows[1]["finished_at"]) and math.isnan(rows[1]["duration"])
    assert rows[2]["error"] == "boom" and rows[0]["error"] is None
    assert [r["param.lr"] for r in rows] == [0.5, 1.0, None]
    assert [r["param.epochs"] for r in rows] == [3.0, None, None]
    assert [r["param.flag"] for r in rows] == [True, False, None]
    assert json.loads(rows[0]["param.cfg"]) == {"k": [1, 2]}
    assert json.loads(rows[0]["param.items"]) == [1, "x"]
    assert rows[1]["param.cfg"] is None


def test_columns_describe_fixed_and_parameter_columns():
    frame = runs_frame(_wire_runs())
    columns = {c["key"]: c for c in _payload.columns_meta(frame)}
    assert columns["display_name"] == {
        "key": "display_name",
        "label": "Name",
        "kind": "text",
        "hideable": False,
    }
    assert columns["state"]["kind"] == "state"
    assert columns["created_at"]["kind"] == "time"
    assert columns["duration"]["kind"] == "duration"
    assert columns["param.lr"] == {
        "key": "param.lr",
        "label": "lr",
        "kind": "number",
        "hideable": True,
    }
    assert columns["param.flag"]["kind"] == "bool"
    assert columns["param.tag"]["kind"] == "text"
    assert columns["param.cfg"]["kind"] == "json"
    keys = [c["key"] for c in _payload.columns_meta(frame)]
    params = [k for k in keys if k.startswith("param.")]
    assert params == sorted(params) and keys[-len(params) :] == params


def test_object_parameter_columns_are_typed_by_their_values():
    # A user's frame (from_frame) may hold numbers or booleans as object dtype.
    frame = runs_frame(_wire_runs()[:2])
    frame["param.n"] = pd.Series([1, None], dtype=object)
    frame["param.b"] = pd.Series([True, None], dtype=object)
    table = decode(_payload.encode_rows(frame))
    assert table.schema.field("param.n").type == pa.float64()
    assert table.schema.field("param.b").type == pa.bool_()
    assert table.column("param.n").to_pylist() == [1.0, None]


def test_a_frame_without_optional_columns_still_encodes():
    frame = pd.DataFrame({"run_id": ["a"], "display_name": ["x"], "state": ["RUNNING"]})
    rows = decode(_payload.encode_rows(frame)).to_pylist()
    assert rows[0]["state"] == "RUNNING"
    assert rows[0]["pipeline"] == "—" and math.isnan(rows[0]["created_at"])


def test_100k_rows_encode_whole():
    n = 100_000
    wire = [
        {
            "run_id": f"run-{i}",
            "display_name": f"name {i}",
            "state": "SUCCEEDED" if i % 3 else "FAILED",
            "created_at": "2024-05-01T12:00:00Z",
            "finished_at": "2024-05-01T12:10:00Z",
            "runtime_config": {"parameters": {"lr": i / n, "tag": str(i % 7)}},
        }
        for i in range(n)
    ]
    frame = runs_frame(wire)
    table = decode(_payload.encode_rows(frame))
    assert table.num_rows == n
    assert table.column("run_id")[n - 1].as_py() == f"run-{n - 1}"
    assert table.column("state").type.index_type == pa.int8()  # nine states fit in a byte
    assert np.allclose(table.column("duration").to_numpy(), 600_000)


def test_merge_rows_replaces_in_place_and_appends_new_runs():
    frame = runs_frame(_wire_runs())
    changed = runs_frame(
        [
            {"run_id": "r2", "display_name": "renamed", "state": "BRAND_NEW"},
            {"run_id": "r9", "display_name": "extra", "state": "PENDING"},
        ]
    )
    merged = _payload.merge_rows(frame, changed)
    assert merged["run_id"].tolist() == ["r1", "r2", "r3", "r9"]
    assert merged["display_name"].tolist()[1] == "renamed"
    assert isinstance(merged["state"].dtype, pd.CategoricalDtype)
    assert merged["state"].astype(str).tolist()[1] == "BRAND_NEW"
    dropped = _payload.drop_rows(merged, ["r1", "r9"])
    assert dropped["run_id"].tolist() == ["r2", "r3"]


def test_repeated_text_is_sent_once():
    runs = [
        {"run_id": f"r{i}", "experiment_id": "e1", "state": "SUCCEEDED",
         "created_at": "2024-05-01T00:00:00Z", "display_name": f"run {i}",
         "pipeline_version_reference": {"pipeline_id": "p-long-identifier"},
         "runtime_config": {"parameters": {"optimizer": "adam" if i % 2 else "sgd"}}}
        for i in range(200)
    ]  # fmt: skip
    frame = runs_frame(runs, experiment_names={"e1": "a long experiment name"})
    table = decode(_payload.encode_rows(frame))
    for name in ("experiment_name", "pipeline", "param.optimizer"):
        kind = table.schema.field(name).type
        assert pa.types.is_dictionary(kind) and kind.index_type == pa.int8(), name
    assert table.column("pipeline").to_pylist() == ["p-long-identifier"] * 200
    assert table.schema.field("display_name").type == pa.utf8()  # all distinct
