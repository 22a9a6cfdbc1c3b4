"""Hostile requests over HTTP: every malformed body or query answers 4xx in the
gateway shape (``code``, ``message``), never 5xx outside the documented parity
cases, and the server keeps serving afterwards.

Wrong-type variants are generated from the vendored swagger definitions, so every
field of every request message (nested ones included) gets each JSON type it
must not accept.
"""

from __future__ import annotations

import base64
import itertools
import json
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kfp_nb.server import launch
from tests._data import swagger

from .conftest import API

MAX_BODY = 64 * 1024
DEFS = {
    **swagger("run.tasks.swagger.json")["definitions"],
    **swagger("experiment.swagger.json")["definitions"],
}
BAD_ENUM = [{"a": 1}, [1], True, 1.5, "NO_SUCH_NAME", 2**40]
BAD_INT = ["x", "1e3x", 1.5, True, {"a": 1}, [1], 2**70, -(2**70)]
BAD_BY_TYPE = {
    "string": [{"a": 1}, [1], 5, True],
    "date-time": ["yesterday", "2024-13-45T00:00:00Z", 5, {"a": 1}],
    "object": ["x", [1], 5, True],
    "array": ["x", {"a": 1}, 5],
    "number": [{"a": 1}, [1], True],
    "boolean": ["x", 5, {"a": 1}],
    "message": ["x", [1], 5, True],
}


def _bad_values(prop: dict[str, Any]) -> list[Any]:
    ref = prop.get("$ref")
    if ref:
        target = DEFS[ref.rsplit("/", 1)[1]]
        return BAD_ENUM if "enum" in target else BAD_BY_TYPE["message"]
    if prop.get("format") in ("int32", "int64") or prop.get("type") == "integer":
        return BAD_INT
    if prop.get("format") == "date-time":
        return BAD_BY_TYPE["date-time"]
    return BAD_BY_TYPE.get(prop.get("type", ""), [])


def _variants(
    definition: str, prefix: tuple[Any, ...] = (), depth: int = 0
) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(path, wrong value) for every field of ``definition``, nested 3 deep."""
    for name, prop in DEFS[definition].get("properties", {}).items():
        path = (*prefix, name)
        for value in _bad_values(prop):
            yield path, value
        if depth >= 2:
            continue
        ref = prop.get("$ref") or (prop.get("items") or {}).get("$ref")
        if not ref or "enum" in DEFS[ref.rsplit("/", 1)[1]]:
            continue
        inner = (*path, 0) if prop.get("type") == "array" else path
        yield from _variants(ref.rsplit("/", 1)[1], inner, depth + 1)


def _with(base: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    body = json.loads(json.dumps(base))
    node: Any = body
    for key, nxt in itertools.pairwise(path):
        if isinstance(key, int):
            while len(node) <= key:
                node.append({} if not isinstance(nxt, int) else [])
        elif key not in node:
            node[key] = [] if isinstance(nxt, int) else {}
        node = node[key]
    node[path[-1]] = value
    return body


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("hostile")
    proc = launch(db=str(folder / "kfp.db"), speed=200.0, max_body_bytes=MAX_BODY)
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def api(hostile) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hostile.url + API, timeout=30.0) as client:
        yield client


@pytest.fixture(scope="module")
def ids(api, training_spec) -> dict[str, str]:
    body = {
        "display_name": "target",
        "pipeline_spec": training_spec,
        "runtime_config": {"parameters": {"duration_scale": 1000}},
    }
    run = api.post("/runs", json=body).json()
    task = api.post("/tasks", json={"run_id": run["run_id"], "name": "t"})
    assert task.status_code == 200, task.text
    return {"run": run["run_id"], "task": task.json()["task_id"]}


def _assert_rejected(resp: httpx.Response, what: str) -> dict[str, Any]:
    assert 400 <= resp.status_code < 500, (
        f"{what}: {resp.status_code} {resp.text[:300]}"
    )
    assert resp.headers["content-type"].startswith("application/json"), what
    body = resp.json()
    assert isinstance(body["code"], int) and body["code"] != 13, what
    assert isinstance(body["message"], str) and body["message"], what
    for internal in ("Traceback", "pydantic", "AttributeError", "object has no"):
        assert internal not in body["message"], f"{what}: {body['message']}"
    return body


def _body_endpoints(ids: dict[str, str], spec: dict[str, Any]) -> list[tuple]:
    """(method, path, definition, base body, wrap) for every endpoint with a body."""
    task = ids["task"]
    return [
        ("POST", "/runs", "v2beta1Run",
         {"display_name": "h", "pipeline_spec": spec}, None),
        ("POST", "/experiments", "v2beta1Experiment", {"display_name": None}, None),
        ("POST", "/tasks", "v2beta1PipelineTaskDetail",
         {"run_id": ids["run"], "name": "h"}, None),
        ("PATCH", f"/tasks/{task}", "v2beta1PipelineTaskDetail", {}, None),
        ("POST", "/tasks:batchUpdate", "v2beta1PipelineTaskDetail", {}, task),
    ]  # fmt: skip


def _send(api, method, path, body, wrap):
    if wrap is not None:
        body = {"tasks": {wrap: body}}
    if "display_name" in body and body["display_name"] is None:
        body["display_name"] = f"exp-{uuid.uuid4()}"
    return api.request(method, path, json=body)


def test_every_field_with_a_wrong_json_type_is_a_400_naming_it(api, ids, training_spec):
    sent = 0
    for method, path, definition, base, wrap in _body_endpoints(ids, training_spec):
        for field_path, value in _variants(definition):
            body = _with(base, field_path, value)
            resp = _send(api, method, path, body, wrap)
            what = f"{method} {path} {field_path}={value!r}"
            err = _assert_rejected(resp, what)
            assert err["code"] == 3, what
            top = field_path[0]
            assert top in err["message"], f"{what}: {err['message']}"
            sent += 1
    assert sent > 500  # the generator really covered the nested messages
    assert api.get("/healthz").status_code == 200


# Raw bodies no endpoint may accept: bad JSON, non-objects, deep nesting, lone
# surrogates, unescaped control characters, invalid UTF-8, huge numbers.
RAW_BODIES = [
    b"[]", b'"x"', b"5", b"true", b"{", b'{"display_name":', b"NaN",
    b'{"display_name":NaN}', b'{"display_name":Infinity}', b"[" * 100_000,
    b'{"a":' * 5000 + b"1" + b"}" * 5000, b'{"display_name":"\\ud800"}',
    b'{"display_name":"x","description":"\\udfff"}', b'{"\\ud800":"x"}',
    b'{"display_name":"a\x01b"}', b'{"display_name":"\xff\xfe"}',
    b'{"display_name":1e400}', b'{"task_count":1e400}',
    b'{"display_name":"x","pipeline_spec":' + b'{"a":' * 200 + b"1" + b"}" * 201,
]  # fmt: skip


def test_raw_malformed_bodies_are_400_on_every_endpoint(api, ids, training_spec):
    for method, path, _, _, _ in _body_endpoints(ids, training_spec):
        for raw in RAW_BODIES:
            resp = api.request(
                method, path, content=raw, headers={"content-type": "application/json"}
            )
            _assert_rejected(resp, f"{method} {path} {raw[:40]!r}")
    assert api.get("/healthz").status_code == 200


def test_null_bodies_follow_the_documented_cases(api, ids):
    for path in ("/runs", "/experiments"):  # parity: empty name → 500 code 13
        resp = api.post(path, content=b"null")
        assert resp.status_code == 500 and resp.json()["code"] == 13
        assert "name cannot be empty" in resp.json()["message"]
    resp = api.post("/tasks", content=b"null")
    assert _assert_rejected(resp, "null task")["code"] == 3
    resp = api.post("/tasks:batchUpdate", json={"tasks": []})
    assert "tasks" in _assert_rejected(resp, "tasks list")["message"]


def _flt(**pred: Any) -> str:
    return json.dumps({"predicates": [{"key": "name", "operation": "EQUALS"} | pred]})


NESTED = "[" * 5000 + "]" * 5000
BAD_FILTERS = [
    '{"predicates":[{"key":"\\ud800","operation":"EQUALS","string_value":"x"}]}',
    _flt(string_value="\ud800"), _flt(string_value={"a": 1}),
    _flt(string_value=["x"]), _flt(string_value=5),
    '{"predicates":[{"key":"name","operation":"EQUALS","string_value":'
    + NESTED + "}]}",
    _flt(long_value="99999999999999999999999"), _flt(long_value=2**63),
    _flt(long_value=-(2**63) - 1), _flt(int_value=2**31), _flt(int_value=1.5),
    '{"predicates":[{"key":"name","operation":"EQUALS","int_value":1e400}]}',
    '{"predicates":[{"key":"name","operation":"EQUALS","int_value":NaN}]}',
    _flt(int_value="abc"), _flt(int_value=True), _flt(timestamp_value=5),
    _flt(timestamp_value="soon"), _flt(timestamp_value={"seconds": 1}),
    _flt(operation="IN", string_values={"values": "x"}),
    _flt(operation="IN", string_values={"values": [1]}),
    _flt(operation="IN", string_values=["x"]),
    _flt(operation="IN", string_values={"values": ["x"], "extra": 1}),
    _flt(operation="IN", int_values={"values": [2**40]}),
    _flt(operation="IN", long_values={"values": ["x"]}),
    _flt(operation={"a": 1}, string_value="x"), _flt(operation=1e300),
    _flt(operation="NOPE", string_value="x"),
    '{"predicates":[{"key":5,"operation":"EQUALS","string_value":"x"}]}',
    '{"predicates":"x"}', '{"predicates":[1]}', "[]", "null", '"x"', "{", "%zz",
]  # fmt: skip
BAD_QUERIES = [
    {"page_size": "abc"}, {"page_size": "99999999999999999999"},
    {"page_size": "1e400"}, {"page_size": "-5"}, {"page_token": "!!!"},
    {"page_token": "W10="}, {"sort_by": "name sideways"}, {"sort_by": "\x00"},
]  # fmt: skip


def test_hostile_list_queries_are_400(api, ids):
    lists = [
        ("/runs", {}), ("/experiments", {}), ("/tasks", {"run_id": ids["run"]}),
    ]  # fmt: skip
    for path, scope in lists:
        for text in BAD_FILTERS:
            resp = api.get(path, params={**scope, "filter": text})
            err = _assert_rejected(resp, f"{path} filter={text[:60]!r}")
            assert err["code"] == 3
        for query in BAD_QUERIES:
            if path == "/tasks" and "sort_by" in query:
                query = {"order_by": query["sort_by"]}
            _assert_rejected(api.get(path, params={**scope, **query}), f"{query}")
    for path in (f"/runs/{ids['run']}", "/runs"):
        _assert_rejected(api.get(path, params={"view": "\ud7ff"}), f"{path} view")
    ok = api.get("/runs", params={"filter": _flt(string_value="target")})
    assert ok.status_code == 200 and ok.json()["total_size"] == 1


def test_filter_numbers_within_range_still_work(api):
    at_limits = [
        _flt(long_value=str(2**63 - 1)), _flt(long_value=-(2**63)),
        _flt(int_value=2**31 - 1), _flt(int_value="7"),
    ]  # fmt: skip
    for text in at_limits:
        resp = api.get("/experiments", params={"filter": text})
        assert resp.status_code == 200, (text, resp.text)


# Free text SQLite stores exactly: NUL and other C0/C1 controls, DEL,
# non-characters, markup, emoji, right-to-left and combining marks.
ROUND_TRIP = [
    "nul\u0000inside", "\x01\x02\x1b[31m\x7f\x85", "\ufffe\uffff\U0010ffff",
    "<script>alert(1)</script> & 🚀 \u202eRTL \u05e9\u05dc\u05d5\u05dd e\u0301",
]  # fmt: skip


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_control_and_unicode_text_round_trips(api, training_spec, text):
    body = {"display_name": text, "description": text, "pipeline_spec": training_spec}
    run = api.post("/runs", json=body)
    assert run.status_code == 200, run.text
    got = api.get(f"/runs/{run.json()['run_id']}").json()
    assert (got["display_name"], got["description"]) == (text, text)
    pred = {"key": "display_name", "string_value": text}
    found = api.get("/runs", params={"filter": _flt(**pred)}).json()
    assert [r["run_id"] for r in found["runs"]] == [got["run_id"]]
    exp = api.post("/experiments", json={"display_name": f"{text}{uuid.uuid4()}"})
    assert exp.status_code == 200 and exp.json()["display_name"].startswith(text)


def test_body_over_the_limit_is_413_without_reading_it(api, training_spec):
    padding = "x" * MAX_BODY
    body = {"display_name": "big", "description": padding, "pipeline_spec": {}}
    resp = api.post("/runs", json=body)
    assert resp.status_code == 413
    err = resp.json()
    assert err["code"] == 8 and "--max-body-bytes" in err["message"]
    assert str(MAX_BODY) in err["message"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked encoding
        yield b'{"display_name":"big","description":"'
        for _ in range(MAX_BODY // 1024 + 1):
            yield b"y" * 1024
        yield b'"}'

    resp = api.post("/runs", content=chunks())
    assert resp.status_code == 413 and resp.json()["code"] == 8
    fits = {"display_name": "fits", "description": "z" * (MAX_BODY // 2)}
    fits["pipeline_spec"] = training_spec
    resp = api.post("/runs", json=fits)
    assert resp.status_code == 200, resp.text[:300]
    assert api.get("/healthz").status_code == 200


def test_over_long_ids_fail_as_the_real_server_does(api, training_spec):
    long_exp = "e" * 65
    body = {"display_name": "r", "pipeline_spec": training_spec}
    resp = api.post("/runs", json=body | {"experiment_id": long_exp})
    assert resp.status_code == 500 and resp.json()["code"] == 13
    assert "experiment_id is longer than 64" in resp.json()["message"]
    resp = api.post("/runs", json=body | {"experiment_id": "e" * 64})
    assert resp.status_code == 404  # within the limit: only unknown
    resp = api.post("/experiments", json={"display_name": "ns", "namespace": "n" * 64})
    assert resp.status_code == 500 and "namespace is longer than 63" in resp.text


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("duration_scale", 1e308), ("duration_scale", 1001), ("duration_scale", 0),
        ("duration_scale", -1), ("duration_scale", "2"), ("duration_scale", True),
        ("duration_scale", None), ("fail_attempts", -1), ("fail_attempts", 1.5),
        ("fail_attempts", "3"), ("fail_attempts", 1e300), ("fail_task", 5),
    ],
)  # fmt: skip
def test_unusable_simulation_parameters_are_refused_at_create(
    api, training_spec, name, value
):
    body = {"display_name": "sim", "pipeline_spec": training_spec}
    body["runtime_config"] = {"parameters": {name: value}}
    resp = api.post("/runs", json=body)
    assert resp.status_code == 400, resp.text
    err = resp.json()
    assert (
        err["code"] == 3
        and f"parameters.{name} must be" in err["details"][0]["message"]
    )


def test_simulation_parameters_at_their_limits_are_accepted(api, training_spec):
    params = {"duration_scale": 1000, "fail_attempts": 0, "fail_task": "train"}
    body = {"display_name": "edge", "pipeline_spec": training_spec}
    resp = api.post("/runs", json=body | {"runtime_config": {"parameters": params}})
    assert resp.status_code == 200, resp.text
    params = {"duration_scale": 0.001}
    resp = api.post("/runs", json=body | {"runtime_config": {"parameters": params}})
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/runs/%ED%A0%80"), ("GET", "/runs/%FF%FE"), ("GET", "/tasks/%00"),
        ("GET", "/runs/" + "a" * 5000), ("POST", "/experiments/%ED%A0%80:archive"),
        ("GET", "/runs/x/nodes/%FF/artifacts/%ED%A0%80:read"),
        ("OPTIONS", "/runs"), ("PUT", "/runs/x"), ("GET", "/no/such/%FF"),
    ],
)  # fmt: skip
def test_hostile_paths_and_methods_answer_json(api, method, path):
    resp = api.request(method, path)
    body = _assert_rejected(resp, f"{method} {path}") if resp.status_code < 500 else {}
    if resp.status_code >= 500:  # only the gateway's 501 for a wrong method
        assert resp.status_code == 501 and resp.json()["code"] == 12
    else:
        assert body["code"] in (3, 5)


def test_substring_longer_than_sqlite_allows_is_a_400(api):
    long_text = json.dumps(
        {"predicates": [{"key": "display_name", "operation": "IS_SUBSTRING",
                         "string_value": "x" * 60_000}]}
    )  # fmt: skip
    err = _assert_rejected(api.get("/runs", params={"filter": long_text}), "long")
    assert err["code"] == 3 and "at most" in err["details"][0]["message"]


# Page tokens are base64 JSON a client can forge. The names in them are checked
# against the columns; every value must also be one SQLite can bind, or the
# request is a 400, never a failure inside SQLite.
_TOKEN_KINDS = {
    "/runs": ("created_at", "run_id", "display_name", "Run"),
    "/experiments": ("created_at", "experiment_id", "display_name", "Experiment"),
    "/tasks": ("create_time", "task_id", "name", "Task"),
}
_BAD_VALUES = [{"a": 1}, [1], 2**64, -(2**70), "\ud800"]


def _token(payload: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(payload).encode()).decode()


def _forged_tokens(path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    column, key, field, model = _TOKEN_KINDS[path]
    base = {
        "SortByFieldName": column, "SortBySQLColumn": column,
        "SortByFieldValue": 0, "SortByFieldPrefix": "", "KeyFieldName": key,
        "KeyFieldValue": "", "KeyFieldPrefix": "", "IsDesc": False,
        "ModelName": model, "Filter": None,
    }  # fmt: skip
    yield "genuine", base
    for value in _BAD_VALUES:
        yield f"SortByFieldValue={value!r}", base | {"SortByFieldValue": value}
        yield f"KeyFieldValue={value!r}", base | {"KeyFieldValue": value}
        yield f"Filter EQUALS {value!r}", base | {"Filter": [[field, 1, "s", value]]}
        yield f"Filter IN [{value!r}]", base | {"Filter": [[field, 8, "s", [value]]]}
    bad_filters = [
        [[field, 99, "s", "x"]], [[field, 0, "s", "x"]], [[field, [1], "s", "x"]],
        [[field, 8, "s", "x"]], [[field, 8, "s", 5]], [[field, 9, "s", 5]],
        [[field, 9, "s", ["x"]]], [[[field], 1, "s", "x"]], [[None, 1, "s", "x"]],
        [[f"{field}; DROP TABLE runs", 1, "s", "x"]], [[field, 1, "s"]], [field],
        "x", {"a": 1},
    ]  # fmt: skip
    for flt in bad_filters:
        yield f"Filter={flt!r}", base | {"Filter": flt}
    for name in ("SortBySQLColumn", "KeyFieldName"):
        for value in (f"{column}; DROP TABLE runs", "pipeline_spec", 5, None):
            yield f"{name}={value!r}", base | {name: value}


def test_forged_page_tokens_are_400_on_every_list(api, ids):
    scopes = {"/runs": {}, "/experiments": {}, "/tasks": {"run_id": ids["run"]}}
    for path, scope in scopes.items():
        for what, payload in _forged_tokens(path):
            resp = api.get(path, params={**scope, "page_token": _token(payload)})
            if what == "genuine":  # the forgeries differ from a working token
                assert resp.status_code == 200, resp.text
                continue
            err = _assert_rejected(resp, f"{path} token {what}")
            assert err["code"] == 3, what
            assert "Invalid" in err["message"] or "unrecognized" in err["message"]
    assert api.get("/runs").json()["total_size"] >= 1  # nothing was dropped


# Free text that would break a query built by string pasting. Stored and matched
# literally; SQL keywords in field names or sort_by are refused by name.
SQL_TEXT = [
    "O'Brien \"quoted\" run", "x'); DROP TABLE runs; --", "' OR '1'='1",
    '" OR ""="', "a\\'b", "1; SELECT * FROM experiments", "name) OR (1=1",
]  # fmt: skip


def test_filters_with_quotes_and_sql_fragments_match_literally(api, training_spec):
    total = api.get("/runs").json()["total_size"]
    made = {}
    for text in SQL_TEXT:
        body = {"display_name": text, "pipeline_spec": training_spec}
        resp = api.post("/runs", json=body | {"description": text})
        assert resp.status_code == 200, resp.text
        made[text] = resp.json()["run_id"]
    for text, run_id in made.items():
        for op in ("EQUALS", "IS_SUBSTRING"):
            flt = _flt(operation=op, key="display_name", string_value=text)
            found = api.get("/runs", params={"filter": flt}).json()
            assert [r["run_id"] for r in found.get("runs", [])] == [run_id], (op, text)
        flt = _flt(operation="IN", key="description",
                   string_values={"values": [text, "' OR 1=1 --"]})  # fmt: skip
        found = api.get("/runs", params={"filter": flt}).json()
        assert [r["run_id"] for r in found["runs"]] == [run_id], text
    for text in ("nothing' OR '1'='1", 'zz" OR 1=1 --', "'; DELETE FROM runs; --"):
        for op in ("EQUALS", "IS_SUBSTRING"):
            flt = _flt(operation=op, key="display_name", string_value=text)
            resp = api.get("/runs", params={"filter": flt})
            assert resp.status_code == 200 and "runs" not in resp.json(), (op, text)
    for key in ("name; DROP TABLE runs", "display_name) OR (1=1", '"name"', "1=1"):
        flt = _flt(key=key, string_value="x")
        err = _assert_rejected(api.get("/runs", params={"filter": flt}), key)
        assert "unrecognized field" in err["message"] and key in err["message"]
    for sort in ("created_at; DROP TABLE runs", "name desc, run_id", "(SELECT 1)",
                 "name COLLATE BINARY", "name desc --"):  # fmt: skip
        err = _assert_rejected(api.get("/runs", params={"sort_by": sort}), sort)
        assert "invalid sort by format" in err["message"] and sort in err["message"]
    for sort in ("display_name;DROP", "run_id'", "name--", "name/**/"):
        err = _assert_rejected(api.get("/runs", params={"sort_by": sort}), sort)
        assert "Invalid sorting field" in err["message"]
    assert api.get("/runs").json()["total_size"] == total + len(SQL_TEXT)
    assert api.get("/experiments").status_code == 200


def test_huge_page_sizes_are_capped_or_refused(api, ids):
    for path, scope in (("/runs", {}), ("/experiments", {}),
                        ("/tasks", {"run_id": ids["run"]})):  # fmt: skip
        resp = api.get(path, params={**scope, "page_size": str(2**31 - 1)})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        key = path.strip("/")
        assert len(body.get(key, [])) <= 200 and body.get(key)
        for size in (str(2**31), str(2**63), "9" * 400):
            err = _assert_rejected(
                api.get(path, params={**scope, "page_size": size}), size[:20]
            )
            assert err["code"] == 3 and "page_size" in err["message"]


def test_substring_with_nul_matches_only_names_holding_all_of_it(api, training_spec):
    body = {"display_name": "ends in nul-tail", "pipeline_spec": training_spec}
    assert api.post("/runs", json=body).status_code == 200
    flt = _flt(operation="IS_SUBSTRING", key="display_name",
               string_value="nul-tail\u0000zz")  # fmt: skip
    resp = api.get("/runs", params={"filter": flt})
    assert resp.status_code == 200 and "runs" not in resp.json(), resp.text[:200]
    # The whole value still matches, ASCII case folded like LIKE.
    body["display_name"] = "holds NUL-TAIL\u0000ZZ inside"
    assert api.post("/runs", json=body).status_code == 200
    found = api.get("/runs", params={"filter": flt}).json()["runs"]
    assert [r["display_name"] for r in found] == [body["display_name"]]


def _raw_exchange(port: int, request: bytes) -> bytes:
    """Send bytes as they are (httpx refuses URLs this long); the answer's head."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        try:
            conn.sendall(request)
        except OSError:  # refused mid-send: the answer is already waiting
            pass
        answer = b""
        while b"\r\n\r\n" not in answer:
            try:
                chunk = conn.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            answer += chunk
        return answer


def test_oversized_request_lines_and_headers_are_4xx(hostile, api):
    # The HTTP layer (h11) refuses these before any route runs, with a plain
    # 400 as Go's net/http would (431/400 text); nothing reaches the app.
    end = b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    requests = {
        "1 MB query": b"GET /apis/v2beta1/runs?filter=" + b"x" * 2**20 + end,
        "100k query parameters": b"GET /apis/v2beta1/runs?"
        + b"&".join(b"p%d=v" % i for i in range(100_000)) + end,
        "two Content-Lengths": b"POST /apis/v2beta1/runs" + end
        + b"Content-Length: 2\r\nContent-Length: 7\r\n",
        # h11 refuses a header block over 16 KB only when it arrives in pieces;
        # whole, the request is served. Either way: an answer, never a 5xx.
        "100 KB header": b"GET /apis/v2beta1/runs" + end + b"X-Big: "
        + b"y" * 100_000 + b"\r\n",
    }  # fmt: skip
    for what, request in requests.items():
        answer = _raw_exchange(hostile.port, request + b"\r\n{}")
        status = int(answer.split(b" ", 2)[1]) if answer else 0
        refused = 400 <= status < 500
        assert refused or (what == "100 KB header" and status == 200), (
            f"{what}: {answer[:200]!r}"
        )
    assert api.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    ("where", "fields"),
    [
        ("type_attributes", {"type_attributes": {"iteration_count": "2", "bogus": 1}}),
        ("status_metadata", {"status_metadata": {"message": "m", "extra": {}}}),
        ("pods[0]", {"pods": [{"name": "p", "uid": "u", "colour": "red"}]}),
        ("inputs.parameters[0]",
         {"inputs": {"parameters": [{"parameter_key": "k", "oops": True}]}}),
    ],
)  # fmt: skip
def test_unknown_fields_deep_in_a_task_are_refused_not_stored(api, ids, where, fields):
    # protojson refuses an unknown key at any depth; storing it would echo keys
    # the schema forbids (schemathesis found type_attributes ones echoed).
    body = {"run_id": ids["run"], "name": "deep", **fields}
    err = _assert_rejected(api.post("/tasks", json=body), f"unknown key in {where}")
    assert err["code"] == 3 and "unknown field" in err["message"]
    assert where.split("[")[0].split(".")[0] in err["message"]
    patched = api.patch(f"/tasks/{ids['task']}", json=fields)
    assert _assert_rejected(patched, f"PATCH {where}")["code"] == 3
    stored = api.get(f"/tasks/{ids['task']}").json()
    assert "bogus" not in str(stored) and "colour" not in str(stored)


def test_an_any_keeps_its_own_fields_beside_its_type(api, ids):
    # google.protobuf.Any carries its type's fields next to "@type".
    detail = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "OOM"}
    body = {"run_id": ids["run"], "name": "with-any",
            "error": {"code": 9, "message": "m", "details": [detail]}}  # fmt: skip
    resp = api.post("/tasks", json=body)
    assert resp.status_code == 200, resp.text[:300]
    assert resp.json()["error"]["details"] == [detail]


@pytest.mark.parametrize(
    "path", ["/tasks/a%0Ab", "/tasks/a%0A", "/runs/x%0D%0Ay", "/no%0Aroute"]
)
def test_a_newline_in_the_path_still_gets_the_gateway_shape(api, path):
    # A route pattern misses a decoded newline; Starlette then answered text/plain.
    resp = api.get(path)
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.json()["code"] == 5
