"""Bad input gets a ValueError/TypeError naming the argument, never a raw
Python, pandas or httpx error, and never a silent "everything"."""

from __future__ import annotations

import asyncio
import re

import pytest

import kfp_nb
from kfp_nb import _states

from ._mock import FakeServer, reply, run_body

RUN = "9d0c1e7a-0000-4000-8000-000000000001"


def _fake() -> FakeServer:
    fake = FakeServer().on("GET", "/experiments", reply(200, {}))
    fake.on("GET", "/runs", reply(200, {"runs": [run_body()], "total_size": 1}))
    fake.on("GET", "/tasks", reply(200, {"tasks": []}))
    return fake


# -- host ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "problem"),
    [
        ("http://[::1", "not a valid URL"),
        ("not a url", "valid host name"),
        ("http://exa mple.com", "valid host name"),
        ("http://example.com:99999", "not a valid URL"),
        ("http://example.com:port", "not a valid URL"),
        ("https://user:pw@example.com", "user name or password"),
        ("ftp://example.com", "not an http(s) URL"),
        ("http://", "not an http(s) URL"),
    ],
)
def test_bad_host_names_the_argument_and_shows_an_example(host, problem):
    with pytest.raises(ValueError, match=re.escape(problem)) as info:
        kfp_nb.Client(host)
    shown = host.replace("user:pw@", "***@")  # user info may be a password
    assert f"host={shown!r}" in str(info.value)
    assert "http://localhost:8080" in str(info.value)


def test_bad_host_from_the_environment_names_the_variable(monkeypatch):
    monkeypatch.setenv("KFP_HOST", "not a url")
    with pytest.raises(ValueError, match=r"\$KFP_HOST='not a url'"):
        kfp_nb.Client()


@pytest.mark.parametrize(
    "host", ["http://[::1]:8080", "https://bücher.example/pipeline", "localhost:1"]
)
def test_unusual_but_valid_hosts_are_accepted(host):
    assert kfp_nb.Client(host).host.startswith("http")


def test_host_of_the_wrong_type():
    with pytest.raises(TypeError, match="host must be a URL string"):
        kfp_nb.Client(8080)


# -- ids ----------------------------------------------------------------------


EMPTY_ID_CALLS = {
    "get_run": lambda c, v: c.get_run(v),
    "delete_run": lambda c, v: c.delete_run(v),
    "terminate_run": lambda c, v: c.terminate_run(v),
    "get_run experiment_id": lambda c, v: c.get_run(RUN, experiment_id=v),
    "archive_run experiment_id": lambda c, v: c.archive_run(RUN, experiment_id=v),
    "read_artifact run_id": lambda c, v: c.read_artifact(v, "n", "a"),
    "read_artifact node_id": lambda c, v: c.read_artifact(RUN, v, "a"),
    "read_artifact name": lambda c, v: c.read_artifact(RUN, "n", v),
    "get_task": lambda c, v: c.get_task(v),
    "update_task": lambda c, v: c.update_task(v, {}),
    "get_experiment": lambda c, v: c.get_experiment(v),
    "tasks run_id": lambda c, v: c.tasks(v),
    "tasks parent_id": lambda c, v: c.tasks(parent_id=v),
    "list_tasks run_id": lambda c, v: c.list_tasks(run_id=v),
    "list_tasks parent_id": lambda c, v: c.list_tasks(parent_id=v),
    "iter_tasks run_id": lambda c, v: list(c.iter_tasks(run_id=v)),
    "runs experiment_id": lambda c, v: c.runs(experiment_id=v),
    "list_runs experiment_id": lambda c, v: c.list_runs(experiment_id=v),
    "iter_runs experiment_id": lambda c, v: list(c.iter_runs(experiment_id=v)),
    "wait": lambda c, v: c.wait(v),
}
ARGUMENT = {
    "read_artifact node_id": "node_id",
    "read_artifact name": "artifact_name",
    "get_task": "task_id",
    "update_task": "task_id",
    "get_experiment": "experiment_id",
    "wait": "run_ids",
}


def _argument(label: str) -> str:
    if label in ARGUMENT:
        return ARGUMENT[label]
    return label.split()[-1] if label.endswith("_id") else "run_id"


@pytest.mark.parametrize("value", ["", "   ", "\t\n"])
@pytest.mark.parametrize("label", sorted(EMPTY_ID_CALLS))
def test_empty_or_blank_ids_are_refused_everywhere(label, value):
    fake = _fake()
    with pytest.raises(ValueError, match=f"{_argument(label)} must be a non-empty"):
        EMPTY_ID_CALLS[label](fake.client(), value)
    assert fake.requests == []  # nothing was sent, so nothing listed "everything"


def test_async_client_refuses_empty_ids_too():
    client = _fake().async_client()
    with pytest.raises(ValueError, match="run_id must be a non-empty"):
        asyncio.run(client.tasks(""))
    with pytest.raises(ValueError, match="experiment_id must be a non-empty"):
        asyncio.run(client.runs(experiment_id=""))


def test_id_of_the_wrong_type():
    with pytest.raises(TypeError, match="run_id must be an id string"):
        _fake().client().get_run(12)


@pytest.mark.parametrize(
    ("call", "error", "text"),
    [
        (lambda c: c.runs(sort_by=3), TypeError, "sort_by must be a string"),
        (lambda c: c.list_runs(namespace=5), TypeError, "namespace must be a string"),
        (lambda c: c.list_tasks(run_id="r", order_by=1), TypeError, "order_by must"),
        (lambda c: c.wait("r", timeout="x"), TypeError, "timeout must be a number"),
        (lambda c: c.wait("r", poll_interval=-1), ValueError, "poll_interval must"),
        (lambda c: c.wait(5), TypeError, "run_ids must be a run id or an iterable"),
        (lambda c: c.wait(["r", ""]), ValueError, "each of run_ids must be a non"),
        (lambda c: list(c.iter_runs(page_size=0)), ValueError, "page_size must be 1"),
        (lambda c: list(c.iter_tasks(run_id="r", max_pages=0)), ValueError,
         "max_pages must be 1"),
        (lambda c: c.read_artifact("r", "n", "a", max_bytes=0), ValueError,
         "max_bytes must be 1"),
        (lambda c: c.create_run(display_name="x", parameters=[1]), TypeError,
         "parameters must be a dict"),
        (lambda c: c.create_run(display_name="x", pipeline_spec="yaml"), TypeError,
         "pipeline_spec must be a dict"),
        (lambda c: c.create_run(display_name="x", pipeline_version_reference="v"),
         TypeError, "pipeline_version_reference must be a dict"),
    ],
)
def test_wrong_argument_types_and_values_name_the_argument(call, error, text):
    fake = _fake()
    with pytest.raises(error, match=text):
        call(fake.client())
    assert fake.requests == []


@pytest.mark.parametrize(
    ("options", "error", "text"),
    [
        ({"retries": -1}, ValueError, "retries must be an int"),
        ({"backoff": "x"}, TypeError, "backoff must be a number"),
        ({"headers": [("a", "b")]}, TypeError, "headers must be a dict"),
        ({"headers": {"X": "\u00e9"}}, ValueError, r"the value of headers\['X'\]"),
        ({"namespace": 3}, TypeError, "namespace must be a string"),
    ],
)
def test_bad_client_options_name_the_option(options, error, text):
    with pytest.raises(error, match=text):
        kfp_nb.Client("http://localhost:1", **options)


# -- filters and listings ------------------------------------------------------


@pytest.mark.parametrize("keyword", ["created_after", "created_before"])
@pytest.mark.parametrize("value", ["3000-01-01", "1500-06-01T00:00:00Z"])
def test_time_bound_out_of_range_names_the_keyword(keyword, value):
    with pytest.raises(ValueError, match=f"{keyword}=.*outside the times") as info:
        _fake().client().runs(**{keyword: value})
    assert type(info.value) is ValueError  # not pandas' OutOfBoundsDatetime


def test_too_long_filter_names_the_limit():
    fake = _fake()
    with pytest.raises(ValueError, match="filter is too long.*65536") as info:
        fake.client().runs(name_contains="x" * 100_000)
    assert "name_contains" in str(info.value)
    assert not [r for r in fake.requests if r.url.path.endswith("/runs")]


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda c: c.runs(name_contains="a\ud800b"), "name_contains"),
        (lambda c: c.runs(state="\udcff"), "state"),
        (lambda c: c.list_runs(filter='{"predicates": "\ud800"}'), "filter"),
        (lambda c: c.get_run("r\udc80"), "run_id"),
        (lambda c: c.list_runs(namespace="ns\ud800"), "namespace"),
        (lambda c: c.list_runs(sort_by="\udc00"), "sort_by"),
    ],
)
def test_lone_surrogates_are_a_clear_value_error(call, argument):
    with pytest.raises(ValueError, match=argument) as info:
        call(_fake().client())
    assert not isinstance(info.value, UnicodeError)


@pytest.mark.parametrize("run", ["x", 3, ["display_name", "x"]])
def test_create_run_of_the_wrong_type(run):
    with pytest.raises(TypeError, match="create_run takes a Run, a dict"):
        _fake().client().create_run(run)


@pytest.mark.parametrize(
    ("options", "error", "text"),
    [
        ({"limit": 0}, ValueError, "limit must be 1 or more"),
        ({"limit": -1}, ValueError, "limit must be 1 or more"),
        ({"limit": 2.5}, TypeError, "limit must be a positive int"),
        ({"limit": True}, TypeError, "limit must be a positive int"),
        ({"page_size": 0}, ValueError, "page_size must be 1 or more"),
    ],
)
def test_bad_limit_or_page_size_names_it(options, error, text):
    fake = _fake()
    with pytest.raises(error, match=text):
        fake.client().runs(**options)
    assert fake.requests == []


def _pages(fake: FakeServer) -> None:
    page = {"next_page_token": "t", "total_size": 6}
    fake.on(
        "GET",
        "/runs",
        reply(200, {"runs": [run_body(f"a{i}") for i in range(3)], **page}),
        reply(200, {"runs": [run_body(f"b{i}") for i in range(3)], "total_size": 6}),
    )


@pytest.mark.parametrize("limit", [1, 3])
def test_no_bar_when_the_limit_fits_in_one_page(limit, capsys):
    fake = FakeServer().on("GET", "/experiments", reply(200, {}))
    _pages(fake)
    frame = fake.client().runs(limit=limit, page_size=3)
    assert len(frame) == limit
    assert "runs" not in capsys.readouterr().err


def test_bar_when_the_limit_needs_more_pages(capsys):
    fake = FakeServer().on("GET", "/experiments", reply(200, {}))
    _pages(fake)
    assert len(fake.client().runs(limit=5, page_size=3)) == 5
    assert "runs" in capsys.readouterr().err


# -- error texts -----------------------------------------------------------------

INTERNAL = {
    "code": 13,
    "message": "Internal Server Error: Failed to create a run: Failed to convert a "
    "run: Run name cannot be empty. Set display_name in the request body",
    "details": [
        {"@type": "type.googleapis.com/google.rpc.Status", "code": 13,
         "message": "Internal Server Error"}
    ],
}


def test_generic_500_detail_shows_the_servers_cause_and_a_create_hint():
    fake = FakeServer().on("POST", "/runs", reply(500, INTERNAL))
    with pytest.raises(kfp_nb.ServerError) as info:
        fake.client(retries=0).create_run({"display_name": ""})
    text = str(info.value)
    assert "Run name cannot be empty" in info.value.message
    assert "display_name=" in text and "pipeline_spec=" in text
    assert "pipeline_version_reference=" in text


@pytest.mark.parametrize("details", [None, [], [{"code": 13}]])
def test_500_without_a_detail_message_uses_the_top_level_one(details):
    body = {**INTERNAL}
    if details is None:
        del body["details"]
    else:
        body["details"] = details
    fake = FakeServer().on("GET", "/healthz", reply(500, body))
    with pytest.raises(kfp_nb.ServerError, match="Run name cannot be empty"):
        fake.client(retries=0).healthz()


def test_specific_detail_message_still_wins():
    body = {"code": 3, "message": "Invalid input error: long chain: short cause",
            "details": [{"code": 3, "message": "short cause"}]}
    fake = FakeServer().on("GET", "/healthz", reply(400, body))
    with pytest.raises(kfp_nb.InvalidArgument) as info:
        fake.client().healthz()
    assert info.value.message == "short cause"


ROW_NOT_FOUND = {
    "code": 3,
    "message": f"Failed to terminate run {RUN}: Invalid input error: Failed to "
    f"terminate a run {RUN}. Row not found",
    "details": [
        {"code": 3, "message": f"Failed to terminate a run {RUN}. Row not found"}
    ],
}


def test_refused_terminate_says_which_states_can_be_terminated():
    fake = FakeServer().on("POST", ":terminate", reply(400, ROW_NOT_FOUND))
    with pytest.raises(kfp_nb.InvalidArgument) as info:
        fake.client().terminate_run(RUN)
    text = str(info.value)
    allowed = _states.rules_payload()["actions"]["terminate"]
    for state in ("PENDING", "RUNNING", "PAUSED"):
        assert state in allowed and state in text.split("cannot")[0]
    assert "SUCCEEDED" in text and f"get_run({RUN!r}).state" in text
    assert [r.method for r in fake.requests] == ["POST"]  # nothing else fetched


def test_refused_retry_names_failed_as_the_only_retryable_state():
    body = {"code": 10, "message": "run is SUCCEEDED; workflow must be Failed"}
    fake = FakeServer().on("POST", ":retry", reply(409, body))
    with pytest.raises(kfp_nb.FailedPrecondition, match="Only FAILED runs can be"):
        fake.client().retry_run(RUN)


def test_missing_artifact_hints_at_metrics_and_names_run_node_and_artifact():
    body = {"code": 5, "message": "artifact runs/x/nodes/n/artifacts/m not found"}
    fake = FakeServer().on("GET", ":read", reply(404, body))
    with pytest.raises(kfp_nb.NotFound) as info:
        fake.client().read_artifact(RUN, "pod-1", "drift_metrics")
    text = str(info.value)
    assert RUN in text and "'pod-1'" in text and "'drift_metrics'" in text
    assert "get_task(task_id).output_artifacts" in text and "number_value" in text


@pytest.mark.parametrize(
    ("host", "location", "expected"),
    [
        ("http://127.0.0.1:8080", "https://127.0.0.1:8443/apis/v2beta1/healthz",
         "host='https://127.0.0.1:8443'"),
        ("http://kfp.example.com/pipeline",
         "https://kfp.example.com/pipeline/apis/v2beta1/healthz",
         "host='https://kfp.example.com/pipeline'"),
    ],
)
def test_same_host_redirect_shows_full_target_and_the_host_to_pass(
    host, location, expected
):
    fake = FakeServer().on("GET", "/healthz", reply(307, "", {"location": location}))
    with pytest.raises(kfp_nb.ResponseFormatError) as info:
        fake.client(host).healthz()
    assert location in str(info.value) and expected in str(info.value)


def test_redirect_target_hides_secret_query_values():
    location = "https://127.0.0.1:8443/apis/v2beta1/healthz?token=SECRET1234"
    fake = FakeServer().on("GET", "/healthz", reply(302, "", {"location": location}))
    with pytest.raises(kfp_nb.ResponseFormatError) as info:
        fake.client("http://127.0.0.1:8080").healthz()
    text = str(info.value)
    # The whole query is dropped: any parameter name may carry a secret.
    assert "SECRET1234" not in text and "token=" not in text
    assert "https://127.0.0.1:8443/apis/v2beta1/healthz;" in text
