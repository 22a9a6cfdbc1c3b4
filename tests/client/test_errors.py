"""Every kind of failure answer becomes the right error, with a useful message."""

from __future__ import annotations

import httpx
import pytest

import kfp_nb
from tests._data import case

from ._mock import HOST, FakeServer, from_case, reply, run_body

RUN = "9d0c1e7a-0000-4000-8000-000000000001"


def _raises(answer, call=lambda c: c.get_run(RUN), **options):
    fake = FakeServer().on(".*" if False else "GET", ".*", answer)
    fake.on("POST", ".*", answer).on("DELETE", ".*", answer)
    with pytest.raises(kfp_nb.KFPError) as info:
        call(fake.client(retries=0, **options))
    return info.value


def _gateway(code: int, chain: str, short: str | None) -> dict:
    body = {"code": code, "message": chain}
    if short is not None:
        body["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.Status",
                "code": code,
                "message": short,
            }
        ]
    return body


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, 3, kfp_nb.InvalidArgument),
        (400, 9, kfp_nb.FailedPrecondition),
        (409, 10, kfp_nb.FailedPrecondition),
        (409, 6, kfp_nb.FailedPrecondition),
        (401, 16, kfp_nb.Unauthenticated),
        (403, 7, kfp_nb.PermissionDenied),
        (404, 5, kfp_nb.NotFound),
        (501, 12, kfp_nb.Unimplemented),
        (500, 13, kfp_nb.ServerError),
        (503, 14, kfp_nb.ServerError),
        (429, 8, kfp_nb.APIError),
    ],
)
def test_status_and_code_pick_the_class(status, code, cls):
    body = _gateway(code, "Failed to x: chain: short text", "short text")
    error = _raises(reply(status, body))
    assert type(error) is cls
    assert (error.status, error.code, error.message) == (status, code, "short text")
    assert error.endpoint == f"GET /apis/v2beta1/runs/{RUN}"
    assert error.body == body


def test_message_falls_back_to_top_level_without_details():
    error = _raises(reply(400, {"code": 3, "message": "proto: unknown field bogus"}))
    assert error.message == "proto: unknown field bogus"


def test_not_found_names_run_and_hints_at_namespace():
    body = _gateway(
        5,
        f"Failed to get a run: ResourceNotFoundError: Run {RUN} not found",
        f"Run {RUN} not found",
    )
    error = _raises(reply(404, body))
    text = str(error)
    assert RUN in text and "namespace" in text
    assert text.startswith(
        f"GET /apis/v2beta1/runs/{RUN} on {HOST} failed with HTTP 404, code 5"
    )
    assert error.host == HOST


def test_head_read_artifact_error_shape():
    body = {"error_message": "artifact not found: <nil>", "error_details": "x"}
    error = _raises(
        reply(404, body, {"content-type": "text/plain; charset=utf-8"}),
        lambda c: c.read_artifact(RUN, "node-1", "mlpipeline-metrics"),
    )
    assert isinstance(error, kfp_nb.NotFound)
    assert error.message == "artifact not found: <nil>"
    assert "node-1" in error.endpoint and "mlpipeline-metrics" in error.endpoint


def test_case07_token_mismatch_shows_the_servers_sentence():
    answer = from_case(case("07")["server_response"][1])
    error = _raises(answer, lambda c: c.list_runs(page_token="t", sort_by="x"))
    assert isinstance(error, kfp_nb.InvalidArgument)
    assert error.message.startswith("page token does not match")
    assert "same filter and sort_by" in str(error)


@pytest.mark.parametrize(
    ("source", "where"),
    [
        ("argument", "given as token="),
        ("file", "tokenfile"),
        ("none", "No credentials"),
    ],
)
def test_unauthenticated_hint_names_where_the_token_came_from(
    source, where, tmp_path, monkeypatch
):
    monkeypatch.delenv("KF_PIPELINES_SA_TOKEN_PATH", raising=False)
    options = {}
    if source == "argument":
        options["token"] = "abcdef-expired"
    elif source == "file":
        path = tmp_path / "tokenfile"
        path.write_text("abcdef-expired")
        monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(path))
    body = _gateway(16, "Unauthenticated: token expired", "token expired")
    error = _raises(reply(401, body, {"www-authenticate": "Bearer"}), **options)
    assert isinstance(error, kfp_nb.Unauthenticated)
    assert where in str(error)
    assert "abcdef-expired" not in str(error)


@pytest.mark.parametrize("index", [0, 1])
def test_case13_redirect_to_login_is_login_redirect(index):
    answer = from_case(case("13")["server_response"][index])
    error = _raises(answer, lambda c: c.list_runs(namespace="team-a"))
    assert isinstance(error, kfp_nb.LoginRedirect)
    assert "kubeflow.example.com" in str(error)
    assert "cookie" in str(error)


def test_case13_post_action_is_not_followed_or_resent():
    fake = FakeServer().on("POST", ".*", from_case(case("13")["server_response"][1]))
    with pytest.raises(kfp_nb.LoginRedirect):
        fake.client().archive_run(RUN)
    assert fake.paths() == [f"POST /pipeline/apis/v2beta1/runs/{RUN}:archive"]


@pytest.mark.parametrize(
    "location",
    [
        "https://accounts.example.org/o/oauth2/auth?x=1",
        "/dex/auth?state=1",
        "/oauth2/start?rd=%2F",
        "https://login.other.example/",
    ],
)
def test_any_login_or_cross_host_redirect(location):
    error = _raises(reply(302, "<a href='x'>Found</a>", {"location": location}))
    assert isinstance(error, kfp_nb.LoginRedirect)


def test_same_host_redirect_says_which_address_to_use():
    error = _raises(reply(301, "", {"location": "/pipeline/apis/v2beta1/runs/x/"}))
    assert isinstance(error, kfp_nb.ResponseFormatError)
    assert "redirect" in str(error)


@pytest.mark.parametrize("status", [200, 401])
def test_case14_html_instead_of_json(status):
    answer = from_case(case("14")["server_response"])
    answer.status_code = status
    error = _raises(answer)
    assert isinstance(error, kfp_nb.LoginRedirect)
    text = str(error)
    assert "kubeflow.example.com" in text and "Kubeflow Central Dashboard" in text
    assert "/pipeline" in text


def test_case13_followed_login_page_is_named_as_such():
    error = _raises(from_case(case("13")["server_response"][2]))
    assert isinstance(error, kfp_nb.LoginRedirect)
    assert "login page" in str(error)


@pytest.mark.parametrize(
    ("body", "require"),
    [({}, "run_id"), ({"code": 0}, "run_id")],
)
def test_case14_never_an_object_full_of_none(body, require):
    error = _raises(reply(200, body))
    assert isinstance(error, kfp_nb.ResponseFormatError)
    assert require in str(error) and "/runs/" in str(error)


@pytest.mark.parametrize(
    "body",
    [[1, 2], "null", '"text"', "{not json"],
)
def test_json_that_is_not_an_object(body):
    answer = reply(
        200,
        body,
        {"content-type": "application/json"},
    )
    error = _raises(answer)
    assert isinstance(error, kfp_nb.ResponseFormatError)
    assert "/runs/" in str(error)


def test_model_mismatch_is_response_format_error():
    error = _raises(reply(200, run_body(RUN, created_at="yesterday-ish")))
    assert isinstance(error, kfp_nb.ResponseFormatError)
    assert "Run" in str(error) and "created_at" in str(error)


CASE18 = case("18")["server_response"]


@pytest.mark.parametrize(
    ("answer", "cls", "first_line"),
    [
        (
            from_case(CASE18[0]),
            kfp_nb.NotFound,
            "Cannot GET /pipeline/apis/v2beta1/runs",
        ),
        (from_case(CASE18[1]), kfp_nb.ServerError, "upstream request timeout"),
        (from_case(CASE18[2]), kfp_nb.ServerError, '{"error":"upstream connect error'),
        (
            reply(503, "no healthy upstream", {"content-type": "text/plain"}),
            kfp_nb.ServerError,
            "no healthy upstream",
        ),
        (
            reply(
                503,
                "upstream connect error or disconnect/reset before headers. "
                "reset reason: connection failure\n",
                {"content-type": "text/plain"},
            ),
            kfp_nb.ServerError,
            "upstream connect error or disconnect/reset",
        ),
        (
            reply(
                502,
                "<html><head><title>502 Bad Gateway</title></head><body>"
                "<center><h1>502 Bad Gateway</h1></center></body></html>",
                {"content-type": "text/html"},
            ),
            kfp_nb.ServerError,
            "502 Bad Gateway",
        ),
        (
            reply(
                401,
                "<html><title>Error 401 (Unauthorized)!!1</title></html>",
                {"content-type": "text/html"},
            ),
            kfp_nb.LoginRedirect,
            "Unauthorized",
        ),
        (reply(500, ""), kfp_nb.ServerError, "Internal Server Error"),
    ],
)
def test_case18_non_json_error_bodies(answer, cls, first_line):
    error = _raises(answer, lambda c: c.list_runs())
    assert type(error) is cls
    assert first_line in str(error)
    if isinstance(error, kfp_nb.APIError):
        assert not error.message.startswith("<")


def test_case18_express_404_hints_at_api_version_or_path():
    error = _raises(from_case(CASE18[0]), lambda c: c.list_runs())
    assert "v2beta1" in error.hint and "/pipeline" in error.hint


def test_error_excerpt_is_bounded():
    error = _raises(reply(500, "x" * 5000, {"content-type": "text/plain"}))
    assert len(error.message) <= 500 and len(error.body) <= 500


@pytest.mark.parametrize(
    ("exc", "cls", "word"),
    [
        (
            httpx.ConnectError("[Errno 111] Connection refused"),
            kfp_nb.ConnectError,
            "Connection refused",
        ),
        (httpx.ConnectTimeout("timed out"), kfp_nb.RequestTimeout, "connecting"),
        (httpx.ReadTimeout("timed out"), kfp_nb.RequestTimeout, "timeout="),
        (httpx.ProxyError("407"), kfp_nb.ConnectError, "proxy"),
        (httpx.RemoteProtocolError("closed"), kfp_nb.ConnectError, "connection"),
    ],
)
def test_transport_failures_name_host_and_hint(exc, cls, word):
    error = _raises(exc)
    assert type(error) is cls
    assert "kubeflow.example.com" in str(error) and word in str(error)
    assert isinstance(error, kfp_nb.TransportError)


def test_an_answer_cut_off_mid_body_is_not_called_a_failed_connection():
    # A real socket: the headers promise 100 bytes, 10 arrive, then it closes.
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    served = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b'Content-Length: 100\r\n\r\n{"runs": ['
                )
                served.append(1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with kfp_nb.Client(f"http://127.0.0.1:{port}", retries=1) as client:
            with pytest.raises(kfp_nb.ConnectError) as caught:
                client.get_run("r1")
    finally:
        listener.close()
    text = str(caught.value)
    assert "cut off before its end" in text and f"127.0.0.1:{port}" in text
    assert "could not connect" not in text and "Reads are retried" in text
    assert len(served) == 2  # a GET: sent again once (retries=1)
