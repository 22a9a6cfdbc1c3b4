"""schemathesis drives the embedded server from the official swagger files.

The document under test merges the vendored swagger files as the server serves
them under ``/apis/v2beta1``: the 13 RunService RPCs of the PR swagger
(``run.tasks.swagger.json``), ReadArtifact (``run.read_artifact.swagger.json``),
the six ExperimentService RPCs and Healthz — 21 operations. The test's copy is
adjusted, never the vendored files:

- Responses are checked strictly: every object definition that lists
  ``properties`` is closed (``additionalProperties: false``, as in
  ``_swagger``) and int64 strings must be integers. Healthz declares the two
  keys the real handler writes outside its proto (check 1).
- Requests are read as protojson reads them: bodies refer to copies of the
  definitions where any field may be null ("not set"), an enum may be its
  number, an int64 a number; unknown keys are refused at every depth but
  inside a ``protobufAny`` (CONFORMANCE.md deviation 10). A query enum may be its
  number ("1" = FULL), as the gateway parses it. ``display_name`` is
  non-empty in positive examples (empty is the documented 500 of check 4).
- Path ids are pinned to ``enum`` slots that the test swaps for real runs (in
  every state), tasks, experiments and readable artifacts before each call,
  so positive examples act on real resources and negative ones send unknown
  ids. Body examples (a run with the demo spec, an experiment, a task, a
  patch, a bulk update) make the examples phase create and change real
  things. The Bearer security scheme is dropped: a single-user server has no
  authentication (deviation 6).

Checks: schemathesis's defaults, except

- ``not_a_server_error`` → ``documented_5xx_only``: a 5xx passes only as one
  of the real server's documented 500s (code 13 from CreateRun/CreateExperiment
  for an empty name, an unusable or unknown pipeline, an over-long id or
  namespace: SEMANTICS.md §3.1, §12, checks 4 and 7) or the gateway's 501
  code 12 for a method a path does not serve (check 40);
- ``positive_data_acceptance`` off: the swagger types ``page_size`` as any
  int32 and ``filter``/``sort_by``/``page_token`` as free strings, which the
  real server refuses with 400 (checks 13–25); ``gateway_errors_are_clear``
  asserts instead that every 4xx is a ``google.rpc.Status`` with a message;
- ``unsupported_method`` off: it expects 405 where the gateway answers 501.

Deletes run after every other operation, so those still find the resources.
The run is deterministic (fixed seed, ``derandomize``): ``MAX_EXAMPLES`` per
operation in the fuzzing phase, plus the examples and coverage phases (which
schemathesis derives from the schema). The requests sent, by phase and
status, are printed in pytest's terminal summary; the last test asserts every
operation ran and got a 200 at least once.
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from kfp_nb.server import launch
from kfp_nb.server._pipelines import DEMO_PIPELINES
from tests._data import swagger

API = "/apis/v2beta1"
MAX_EXAMPLES = 12
SEED = 20_261_204
#: The operations the issue names: 13 RunService RPCs of the PR swagger,
#: ReadArtifact, healthz and the six experiment RPCs.
EXPECTED_OPERATIONS = 21
TRAINING = DEMO_PIPELINES["Training pipeline"]

#: Texts that mark each documented 500 (code 13) in ``message``.
DOCUMENTED_500 = {
    ("POST", f"{API}/runs"): (
        "Run name cannot be empty",
        "pipeline_spec is not usable",
        "the run has neither pipeline_spec nor pipeline_version_reference",
        "ResourceNotFoundError: pipeline",
        "characters (",  # "<field> is longer than <limit> characters (<n>)"
    ),
    ("POST", f"{API}/experiments"): (
        "Experiment name cannot be empty",
        "characters (",
    ),
}


def _merged_document() -> dict[str, Any]:
    """The four official documents as one swagger 2.0 file."""
    doc = copy.deepcopy(swagger("run.tasks.swagger.json"))
    artifact = swagger("run.read_artifact.swagger.json")
    read = next(p for p in artifact["paths"] if p.endswith(":read"))
    doc["paths"][read] = copy.deepcopy(artifact["paths"][read])
    for name in ("experiment.swagger.json", "healthz.swagger.json"):
        other = swagger(name)
        doc["paths"].update(copy.deepcopy(other["paths"]))
        for key, value in other["definitions"].items():
            doc["definitions"].setdefault(key, copy.deepcopy(value))
    # The PR document's Run/Task models win over the 2.14 ones of the same name;
    # ReadArtifact only adds its response model.
    for key, value in artifact["definitions"].items():
        doc["definitions"].setdefault(key, copy.deepcopy(value))
    return doc


def _int64_pattern(node: dict[str, Any]) -> None:
    if node.get("type") == "string" and node.get("format") in ("int64", "uint64"):
        # protojson writes and reads 64-bit integers as decimal strings.
        node["pattern"] = r"^-?[0-9]{1,18}$"


def _closed(node: Any) -> Any:
    """Response side: objects reject unlisted keys; int64 strings are integers."""
    if isinstance(node, dict):
        out = {k: _closed(v) for k, v in node.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        _int64_pattern(out)
        return out
    if isinstance(node, list):
        return [_closed(v) for v in node]
    return node


REQ = "req_"


def _as_request(node: Any, *, closed: bool) -> Any:
    """Request side, as protojson reads it: null is "not set" for any field, an
    enum is a name or an int32 number, an int64 a decimal string or a number."""
    if isinstance(node, list):
        return [_as_request(v, closed=False) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _as_request(v, closed=False) for k, v in node.items()}
    if isinstance(out.get("$ref"), str):
        out["$ref"] = out["$ref"].replace("#/definitions/", f"#/definitions/{REQ}")
    if isinstance(out.get("properties"), dict):
        for prop in out["properties"].values():
            prop["x-nullable"] = True
        if closed and "additionalProperties" not in out:
            out["additionalProperties"] = False
    _int64_pattern(out)
    if "pattern" in out and out.get("format") in ("int64", "uint64"):
        # ... and a JSON number is read as well.
        extra = {k: out.pop(k) for k in ("description", "title") if k in out}
        out = {"anyOf": [out, {"type": "integer"}], **extra}
    if out.get("type") == "string" and "enum" in out:
        number = {"type": "integer", "format": "int32"}
        extra = {k: out.pop(k) for k in ("description", "title", "default") if k in out}
        out = {"anyOf": [out, number], **extra}
    return out


def _split_request_side(doc: dict[str, Any]) -> None:
    """Bodies refer to request copies of the definitions; responses stay strict."""
    defs = doc["definitions"]
    requests = {
        # The server refuses unknown keys at every depth (protobufAny keeps its
        # open additionalProperties: an Any carries its type's fields).
        f"{REQ}{name}": _as_request(d, closed=True)
        for name, d in defs.items()
    }
    for name, d in list(defs.items()):
        defs[name] = _closed(d)
    defs.update(requests)
    for ops in doc["paths"].values():
        for op in ops.values():
            for param in op.get("parameters", []):
                if param["in"] == "body":
                    param["schema"] = _as_request(param["schema"], closed=False)


#: Path identifiers are pinned to slot names (the schema is built at import,
#: before the server exists); the test swaps each slot for the id of a
#: resource the ``resources`` fixture made. Slot groups and their sizes:
SLOTS = {"run": 14, "task": 6, "experiment": 3, "artifact-run": 1, "node": 8,
         "artifact": 4}  # fmt: skip
#: Which group a path parameter draws from; ReadArtifact reads one finished
#: run, so its node and artifact names can match.
GROUPS = {"run_id": "run", "task_id": "task", "experiment_id": "experiment"}
READ_GROUPS = {
    "run_id": "artifact-run", "node_id": "node", "artifact_name": "artifact"
}  # fmt: skip


def _slots(group: str) -> list[str]:
    return [f"{group}-slot-{i}" for i in range(SLOTS[group])]


def _pin_path_ids(doc: dict[str, Any]) -> None:
    for path, ops in doc["paths"].items():
        groups = READ_GROUPS if path.endswith(":read") else GROUPS
        for op in ops.values():
            for param in op.get("parameters", []):
                if param["in"] == "path" and param["name"] in groups:
                    param["enum"] = _slots(groups[param["name"]])


def _named(doc: dict[str, Any]) -> None:
    # An empty display name is refused (500 code 13, check 4): positive
    # examples carry a name so they reach the rest of the create path.
    for model in ("v2beta1Run", "v2beta1Experiment"):
        doc["definitions"][model]["properties"]["display_name"]["minLength"] = 1


def _add_body_example(
    doc: dict[str, Any], path: str, example: dict, method: str = "post"
) -> None:
    params = doc["paths"][path][method]["parameters"]
    param = next(p for p in params if p["in"] == "body")
    param["schema"] = {"allOf": [param["schema"]], "example": example}


def _swap(value: Any, resources: dict[str, str]) -> Any:
    """``value`` with every slot name (as a key or a string) made a real id."""
    if isinstance(value, dict):
        return {resources.get(k, k): _swap(v, resources) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap(v, resources) for v in value]
    return resources.get(value, value) if isinstance(value, str) else value


# -- server and resources ------------------------------------------------------------


@pytest.fixture(scope="module")
def st_server(tmp_path_factory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("schemathesis")
    proc = launch(db=str(folder / "st.db"), demo=False, speed=100.0)
    yield proc
    proc.stop()


def _wait(http: httpx.Client, run_id: str, *states: str) -> dict[str, Any]:
    for _ in range(600):
        run = http.get(f"/runs/{run_id}").json()
        if run["state"] in states:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} never reached {states}: {run}")


@pytest.fixture(scope="module")
def resources(st_server) -> dict[str, str]:
    """Runs in every state, their tasks and artifacts, and two experiments."""
    with httpx.Client(base_url=st_server.url + API, timeout=30) as http:
        exp = http.post("/experiments", json={"display_name": "st-exp"}).json()
        archived = http.post("/experiments", json={"display_name": "st-archived"})
        exp_ids = [exp["experiment_id"], archived.json()["experiment_id"]]

        def run(name: str, exp_id: str | None = None, **params: Any) -> str:
            body: dict[str, Any] = {"display_name": name, "pipeline_spec": TRAINING}
            if exp_id:
                body["experiment_id"] = exp_id
            if params:
                body["runtime_config"] = {"parameters": params}
            resp = http.post("/runs", json=body)
            assert resp.status_code == 200, resp.text
            return resp.json()["run_id"]

        done = [run(f"ok-{i}", exp_ids[0]) for i in range(3)]
        failed = [run(f"bad-{i}", exp_ids[0], fail_task="evaluate") for i in range(3)]
        slow = [run(f"slow-{i}", duration_scale=500) for i in range(4)]
        in_archived = run("archived", exp_ids[1])
        default = http.get(f"/runs/{slow[0]}").json()["experiment_id"]
        for run_id in done + failed:
            _wait(http, run_id, "SUCCEEDED", "FAILED")
        assert http.post(f"/experiments/{exp_ids[1]}:archive").status_code == 200
        tasks = http.get(f"/runs/{done[0]}", params={"view": "FULL"}).json()["tasks"]
        # UpdateTask examples act on another run's tasks: an update that empties
        # `outputs` would otherwise leave ReadArtifact nothing to read, and
        # whether one came first depended on timing.
        other = http.get(f"/runs/{done[1]}", params={"view": "FULL"}).json()["tasks"]
        task_ids = [t["task_id"] for t in other]
        # Outputs that read back (files; metrics have none), by task id and by
        # executor pod name, so ReadArtifact's positive examples can hit them.
        readable = [
            (t, g["artifact_key"])
            for t in tasks
            for g in t["outputs"].get("artifacts", [])
            if http.get(
                f"/runs/{done[0]}/nodes/{t['task_id']}/artifacts/{g['artifact_key']}:read"
            ).status_code == 200
        ]  # fmt: skip
        assert readable, "the finished run has no readable artifact"
        nodes = list(dict.fromkeys(t["task_id"] for t, _ in readable)) + list(
            dict.fromkeys(
                p["name"] for t, _ in readable for p in t["pods"]
                if p["type"] == "EXECUTOR"
            )
        )  # fmt: skip
        names = sorted({name for _, name in readable})
    real = {
        "run": done + failed + slow + [in_archived],
        "task": task_ids,
        "experiment": [*exp_ids, default],
        "artifact-run": [done[0]],
        "node": nodes,
        "artifact": names,
    }
    # Each slot names one real id; surplus slots reuse ids in turn.
    return {
        slot: real[group][i % len(real[group])]
        for group in SLOTS
        for i, slot in enumerate(_slots(group))
    }


CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {"deterministic": True, "max-examples": MAX_EXAMPLES},
        "checks": {
            "not_a_server_error": {"enabled": False},
            "positive_data_acceptance": {"enabled": False},
            "unsupported_method": {"enabled": False},
        },
    }
)


def _without_auth(doc: dict[str, Any]) -> None:
    doc.pop("security", None)
    doc.pop("securityDefinitions", None)


def _enum_numbers_in_query(doc: dict[str, Any]) -> None:
    # The gateway parses an enum query value by name or by number ("1" = FULL).
    for ops in doc["paths"].values():
        for op in ops.values():
            for param in op.get("parameters", []):
                if param["in"] == "query" and "enum" in param:
                    param["enum"] += [str(i) for i in range(len(param["enum"]))]


def _healthz_extras(doc: dict[str, Any]) -> None:
    # The real handler writes two keys its proto does not declare (check 1).
    props = doc["definitions"]["v2beta1GetHealthzResponse"]["properties"]
    props["commit_sha"] = {"type": "string"}
    props["tag_name"] = {"type": "string"}


def _schema() -> Any:
    doc = _merged_document()
    _healthz_extras(doc)
    _without_auth(doc)
    _enum_numbers_in_query(doc)
    _pin_path_ids(doc)
    _named(doc)
    _add_body_example(
        doc, f"{API}/runs", {"display_name": "from-example", "pipeline_spec": TRAINING}
    )
    _add_body_example(doc, f"{API}/experiments", {"display_name": "st-example"})
    # Slot names in bodies are swapped too, so these reach real runs and tasks.
    _add_body_example(
        doc, f"{API}/tasks", {"run_id": "run-slot-0", "name": "st", "state": "RUNNING"}
    )
    _add_body_example(
        doc, f"{API}/tasks/{{task_id}}", {"display_name": "st-patched"}, "patch"
    )
    _add_body_example(
        doc, f"{API}/tasks:batchUpdate",
        {"tasks": {"task-slot-1": {"display_name": "st-bulk"}}},
    )  # fmt: skip
    _split_request_side(doc)
    return schemathesis.openapi.from_dict(doc, config=CONFIG)


schema = _schema()


# -- checks and tally ----------------------------------------------------------------


def documented_5xx_only(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 5xx must be one of the real server's documented 500s (code 13)."""
    if response.status_code < 500:
        return None
    key = (case.method.upper(), case.operation.path)
    body = _json_object(response)
    if response.status_code == 501:
        # A method the path does not serve: the gateway's answer (check 40).
        ok = body == {"code": 12, "message": "Method Not Allowed"}
    else:
        allowed = DOCUMENTED_500.get(key, ())
        ok = (
            response.status_code == 500
            and body.get("code") == 13
            and any(text in body.get("message", "") for text in allowed)
        )
    if not ok:
        raise AssertionError(
            f"undocumented {response.status_code} from {key[0]} {key[1]}: "
            f"{response.text[:500]}"
        )
    return True


def gateway_errors_are_clear(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx is a google.rpc.Status with a code and a non-empty message."""
    if not 400 <= response.status_code < 500:
        return None
    body = _json_object(response)
    code, message = body.get("code"), body.get("message")
    if not (isinstance(code, int) and code > 0 and message):
        raise AssertionError(
            f"unclear {response.status_code} error body: {response.text[:300]}"
        )
    return True


def _json_object(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    assert isinstance(body, dict), (
        f"{response.status_code} without a JSON object body: {response.text[:300]}"
    )
    return body


TALLY: Counter[str] = Counter()
STATUSES: Counter[int] = Counter()
PHASES: Counter[str] = Counter()
OK_OPERATIONS: set[str] = set()


@pytest.fixture(scope="module", autouse=True)
def _summary(request) -> Iterator[None]:
    """Print the tally in pytest's terminal summary, even without ``-s``."""

    class Summary:
        @staticmethod
        def pytest_terminal_summary(terminalreporter) -> None:
            if not TALLY:
                return
            terminalreporter.write_sep("-", "schemathesis")
            terminalreporter.write_line(
                f"{sum(TALLY.values())} requests over {len(TALLY)} operations "
                f"({len(OK_OPERATIONS)} answered 200 at least once); "
                f"by phase {dict(sorted(PHASES.items()))}; "
                f"statuses {dict(sorted(STATUSES.items()))}"
            )

    plugin = Summary()
    if not request.config.pluginmanager.has_plugin("kfp-nb-schemathesis"):
        request.config.pluginmanager.register(plugin, "kfp-nb-schemathesis")
    yield


SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def _exercise(case: Any, url: str, resources: dict[str, str]) -> None:
    for name, value in case.path_parameters.items():
        case.path_parameters[name] = resources.get(value, value)
    if isinstance(case.body, (dict, list)):
        case.body = _swap(case.body, resources)
    response = case.call_and_validate(
        base_url=url,
        additional_checks=[documented_5xx_only, gateway_errors_are_clear],
        timeout=30,
    )
    TALLY[case.operation.label] += 1
    STATUSES[response.status_code] += 1
    PHASES[case.meta.phase.name.value if case.meta else "explicit"] += 1
    if response.status_code == 200:
        OK_OPERATIONS.add(case.operation.label)


@schema.exclude(method="DELETE").parametrize()
@SETTINGS
def test_swagger_contract(case, st_server, resources):
    _exercise(case, st_server.url, resources)


# Deletes run last, so the other operations still find the runs, tasks and
# experiments (deleting an experiment deletes its runs: deviation 5).
@schema.include(method="DELETE").parametrize()
@SETTINGS
def test_swagger_contract_deletes(case, st_server, resources):
    _exercise(case, st_server.url, resources)


def test_every_operation_was_exercised():
    """All 21 operations ran, each reached a real resource (200) at least once."""
    if not TALLY:
        pytest.skip("runs after test_swagger_contract, in the same session")
    assert len(TALLY) == EXPECTED_OPERATIONS, sorted(TALLY)
    assert sorted(OK_OPERATIONS) == sorted(TALLY), "some operation never got a 200"
    assert min(TALLY.values()) >= 5, TALLY
