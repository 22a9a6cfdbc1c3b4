"""Field cases 07, 09, 13, 14 and 18, each generalised to its whole kind.

Every non-JSON error body at every error status, every redirect status to every
kind of login page, every single-object call answered by a page or the wrong
JSON, and every paged listing against a looping server, sync and async.
"""

from __future__ import annotations

import asyncio
import inspect
import json

import httpx
import pytest

import kfp_nb
from kfp_nb._errors import AuthenticationError
from tests._data import case

from ._mock import HOST, FakeServer, from_case, reply, run_body

MODES = ["sync", "async"]
SECRET = "tok-77c0ffee-never-shown"


def _run(fake: FakeServer, mode: str, call, **options):
    """``call(client)`` on a sync client, or awaited on an async one."""
    options.setdefault("retries", 0)
    if mode == "sync":
        with fake.client(**options) as client:
            result = call(client)
            return list(result) if inspect.isgenerator(result) else result

    async def main():
        async with fake.async_client(**options) as client:
            result = call(client)
            if hasattr(result, "__aiter__"):
                return [x async for x in result]
            return await result

    return asyncio.run(main())


def _error(fake, mode, call, **options) -> kfp_nb.KFPError:
    with pytest.raises(kfp_nb.KFPError) as info:
        _run(fake, mode, call, **options)
    return info.value


# --- Case 18: every non-JSON error body at every error status ---------------------

C18 = case("18")["server_response"]
#: name → (content type, body bytes, text the message must show)
BODIES = {
    "empty": ("text/plain", b"", None),
    "text": ("text/plain", b"upstream request timeout", "upstream request timeout"),
    "text-lines": ("text/plain", b"\n\n  no healthy upstream\nmore detail\n",
                   "no healthy upstream"),
    "express-404-page": (C18[0]["headers"]["content-type"], C18[0]["body"].encode(),
                         "Cannot GET /pipeline/apis/v2beta1/runs"),
    "nginx-page": ("text/html", b"<html><head><title>503 Service Temporarily "
                   b"Unavailable</title></head><body><h1>503</h1></body></html>",
                   "503 Service Temporarily Unavailable"),
    "truncated-json": ("application/json", C18[2]["body"].encode(),
                       '{"error":"upstream connect error'),
    "json-array": ("application/json", b'["a", "b"]', '["a", "b"]'),
    "json-string": ("application/json", b'"quota exceeded"', '"quota exceeded"'),
    "json-null": ("application/json", b"null", "null"),
    "xml": ("application/xml", b"<?xml version='1.0'?><Error><Code>AccessDenied"
            b"</Code></Error>", "AccessDenied"),
    "binary": ("application/octet-stream", b"\xff\xfe\x00\x01garbage", "garbage"),
    "huge": ("text/plain", b"x" * 1_000_000, "xxxx"),
}  # fmt: skip
STATUSES = {
    400: kfp_nb.InvalidArgument, 401: kfp_nb.Unauthenticated,
    403: kfp_nb.PermissionDenied, 404: kfp_nb.NotFound,
    405: kfp_nb.APIError, 409: kfp_nb.FailedPrecondition,
    413: kfp_nb.APIError, 429: kfp_nb.APIError, 500: kfp_nb.ServerError,
    501: kfp_nb.Unimplemented, 502: kfp_nb.ServerError,
    503: kfp_nb.ServerError, 504: kfp_nb.ServerError,
}  # fmt: skip


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", sorted(STATUSES))
@pytest.mark.parametrize("name", sorted(BODIES))
def test_case18_every_non_json_error_body_at_every_status(name, status, mode):
    kind, body, shown = BODIES[name]
    fake = FakeServer().on(
        "GET", ".*",
        lambda request: httpx.Response(status, content=body,
                                       headers={"content-type": kind}),
    )  # fmt: skip
    error = _error(fake, mode, lambda c: c.list_runs(), token=SECRET)
    expected = STATUSES[status]
    html = "html" in kind
    if status == 401 and html:
        expected = kfp_nb.LoginRedirect  # a page where the API answers 401
    assert type(error) is expected, (type(error), str(error)[:200])
    text = str(error)
    assert HOST in text and "GET /apis/v2beta1/runs" in text
    if shown is not None:
        assert shown in text
    assert "<html" not in text.lower() and "<?xml" not in text
    assert SECRET not in text
    if isinstance(error, kfp_nb.APIError):
        assert error.status == status and error.message
        assert len(error.message) <= 500 and len(str(error.body)) <= 500
        if status in (401, 403, 404) or status >= 500:
            assert error.hint  # says what to do next
    assert len(fake.requests) == 1


# --- Case 14: a page or the wrong JSON where one object is expected ---------------

C14_PAGE = case("14")["server_response"]
SINGLE = {
    "get_run": ("GET", lambda c: c.get_run("r1")),
    "create_run": ("POST", lambda c: c.create_run(display_name="x")),
    "get_task": ("GET", lambda c: c.get_task("t1")),
    "create_task": ("POST", lambda c: c.create_task({"run_id": "r1"})),
    "update_task": ("PATCH", lambda c: c.update_task("t1", {"state": "RUNNING"})),
    "get_experiment": ("GET", lambda c: c.get_experiment("e1")),
}
WRONG = {
    "dashboard-html": (lambda: from_case(C14_PAGE), kfp_nb.LoginRedirect),
    "empty-object": (lambda: reply(200, {}), kfp_nb.ResponseFormatError),
    "a-listing": (lambda: reply(200, {"runs": [], "total_size": 0}),
                  kfp_nb.ResponseFormatError),
    "a-list": (lambda: reply(200, [run_body()]), kfp_nb.ResponseFormatError),
    "text-200": (lambda: reply(200, "OK", {"content-type": "text/plain"}),
                 kfp_nb.ResponseFormatError),
}  # fmt: skip


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("method", sorted(SINGLE))
@pytest.mark.parametrize("wrong", sorted(WRONG))
def test_case14_no_call_returns_an_object_full_of_none(method, wrong, mode):
    verb, call = SINGLE[method]
    answer, cls = WRONG[wrong]
    fake = FakeServer().on(verb, ".*", lambda request: answer())
    error = _error(fake, mode, call)
    assert type(error) is cls
    assert HOST.split("/pipeline")[0] in str(error) or "check the host" in str(error)
    if wrong == "dashboard-html":
        assert "Kubeflow Central Dashboard" in str(error) and "/pipeline" in str(error)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "listing",
    ["list_runs", "iter_runs", "runs", "list_tasks", "tasks", "list_experiments"],
)
def test_case14_listings_answered_by_a_page_are_errors_not_empty(listing, mode):
    calls = {
        "list_runs": lambda c: c.list_runs(),
        "iter_runs": lambda c: c.iter_runs(),
        "runs": lambda c: c.runs(progress=False),
        "list_tasks": lambda c: c.list_tasks(run_id="r1"),
        "tasks": lambda c: c.tasks("r1"),
        "list_experiments": lambda c: c.list_experiments(),
    }
    fake = FakeServer().on("GET", ".*", lambda request: from_case(C14_PAGE))
    error = _error(fake, mode, calls[listing])
    assert isinstance(error, kfp_nb.LoginRedirect)


# --- Case 13: every redirect status to every kind of login page --------------------

LOGINS = [
    "/dex/auth?client_id=kubeflow-oidc-authservice&state=STATE-SECRET-1",
    "https://kubeflow.example.com/oauth2/start?rd=%2Fpipeline",
    "/oauth2/sign_in",
    "/authservice/login?x=1",
    "https://accounts.example.org/o/oauth2/auth?code=STATE-SECRET-1",
    "https://sso.other.example/",
    "/login",
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("location", LOGINS)
@pytest.mark.parametrize("verb", ["GET", "POST"])
def test_case13_every_redirect_to_a_login_is_an_auth_error(
    status, location, verb, mode
):
    page = C13_BODY
    fake = FakeServer().on(
        verb, ".*",
        lambda request: reply(status, page, {"location": location,
                                             "content-type": "text/html"}),
    )  # fmt: skip
    call = (
        (lambda c: c.list_runs()) if verb == "GET" else (lambda c: c.archive_run("r"))
    )
    error = _error(fake, mode, call, cookies={"authservice_session": SECRET})
    assert isinstance(error, kfp_nb.LoginRedirect)
    assert isinstance(error, AuthenticationError)
    text = str(error)
    assert "kubeflow.example.com" in text and "cookie" in text
    assert "STATE-SECRET-1" not in text and SECRET not in text  # no query, no cookie
    assert len(fake.requests) == 1  # never followed


C13_BODY = case("13")["server_response"][0]["body"]


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_same_host_redirect_names_the_address_to_use(status):
    fake = FakeServer().on(
        "GET", ".*",
        lambda request: reply(status, "", {"location": "/kfp/apis/v2beta1/runs"}),
    )  # fmt: skip
    error = _error(fake, "sync", lambda c: c.list_runs())
    assert isinstance(error, kfp_nb.ResponseFormatError)
    assert "host='https://kubeflow.example.com/kfp'" in str(error)


# --- Case 09 and 07: every paged listing against a misbehaving server --------------


PAGED = {
    "iter_runs": ("/runs", "runs", lambda c: c.iter_runs(page_size=1)),
    "runs": ("/runs", "runs", lambda c: c.runs(page_size=1, progress=False)),
    "iter_tasks": ("/tasks", "tasks", lambda c: c.iter_tasks(run_id="r1")),
    "tasks": ("/tasks", "tasks", lambda c: c.tasks("r1")),
}


def _item(key: str, n: int) -> dict:
    return run_body(f"r{n}") if key == "runs" else {"task_id": f"t{n}", "run_id": "r1"}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("listing", sorted(PAGED))
@pytest.mark.parametrize("loop", ["same-token", "cycle"])
def test_case09_every_paged_listing_stops_a_token_loop(listing, loop, mode):
    path, key, call = PAGED[listing]
    tokens = ["A", "A"] if loop == "same-token" else ["A", "B", "A"]
    pages = [{key: [_item(key, n)], "next_page_token": t} for n, t in enumerate(tokens)]
    fake = FakeServer().on(
        "GET", path, *[lambda request, p=p: reply(200, p) for p in pages]
    )
    fake.on("GET", "/experiments", reply(200, {}))
    with pytest.raises(kfp_nb.PaginationError) as info:
        _run(fake, mode, call)
    error = info.value
    assert error.pages == len(tokens) and len(error.rows) == len(tokens)
    assert "'A' again" in str(error) and ".rows" in str(error)
    assert len([r for r in fake.requests if r.url.path.endswith(path)]) == len(tokens)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("listing", sorted(PAGED))
def test_case07_mismatch_on_a_later_page_is_asked_again_with_the_token_alone(
    listing, mode
):
    path, key, call = PAGED[listing]
    mismatch = case("07")["server_response"][1]
    answers = [
        lambda request: reply(200, {key: [_item(key, 1)], "next_page_token": "t2"}),
        lambda request: from_case(mismatch),
        lambda request: reply(200, {key: [_item(key, 2)]}),
    ]
    fake = FakeServer().on("GET", path, *answers)
    fake.on("GET", "/experiments", reply(200, {}))
    flt = {"predicates": [{"key": "name", "operation": "EQUALS", "string_value": "a"}]}
    with_filter = {
        "iter_runs": lambda c: c.iter_runs(filter=flt, sort_by="name"),
        "runs": lambda c: c.runs(filter=flt, progress=False),
        "iter_tasks": lambda c: c.iter_tasks(run_id="r1", filter=flt, order_by="name"),
        "tasks": call,
    }[listing]
    got = _run(fake, mode, with_filter)
    assert len(got) == 2
    asked = [dict(r.url.params) for r in fake.requests if r.url.path.endswith(path)]
    assert len(asked) == 3
    assert asked[1]["page_token"] == asked[2]["page_token"] == "t2"
    assert not {"filter", "sort_by", "order_by"} & set(asked[2])


def test_case09_empty_string_token_ends_every_listing():
    for listing, (path, key, call) in PAGED.items():
        fake = FakeServer().on(
            "GET", path, lambda request, k=key: reply(200, {k: [_item(k, 1)],
                                                           "next_page_token": ""})
        )  # fmt: skip
        fake.on("GET", "/experiments", reply(200, {}))
        got = _run(fake, "sync", call)
        assert len(got) == 1, listing
        assert len([r for r in fake.requests if r.url.path.endswith(path)]) == 1


def test_case20_retry_500_message_is_verbatim_and_the_body_kept():
    answer = case("20")["server_response"][0]
    fake = FakeServer().on("POST", ".*", lambda request: from_case(answer))
    error = _error(fake, "sync", lambda c: c.retry_run("9d0c1e7a"))
    assert isinstance(error, kfp_nb.ServerError)
    assert error.message == answer["body"]["message"]
    assert json.dumps(error.body) == json.dumps(answer["body"])
    assert len(fake.requests) == 1
