"""Host resolution, credentials, and that secrets never leak."""

from __future__ import annotations

import logging
import os
import traceback

import httpx
import pytest

import kfp_nb
from kfp_nb import _transport

from ._mock import FakeServer, reply, run_body

SECRET = "tok-3f9a7c1e-very-secret"
COOKIE_VALUE = "cookie-88be21-session-value"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    monkeypatch.delenv("KFP_HOST", raising=False)
    monkeypatch.delenv("KF_PIPELINES_SA_TOKEN_PATH", raising=False)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "https://kubeflow.example.com/pipeline",
            "https://kubeflow.example.com/pipeline",
        ),
        (
            "https://kubeflow.example.com/pipeline/",
            "https://kubeflow.example.com/pipeline",
        ),
        ("kubeflow.example.com/pipeline", "https://kubeflow.example.com/pipeline"),
        ("localhost:8888", "http://localhost:8888"),
        ("127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://ml-pipeline.kubeflow:8888", "http://ml-pipeline.kubeflow:8888"),
    ],
)
def test_host_forms(given, expected):
    assert _transport.normalize_host(given) == expected


def test_host_from_env_then_default(monkeypatch):
    assert kfp_nb.Client().host == "http://localhost:8080"
    monkeypatch.setenv("KFP_HOST", "http://10.0.0.5:31380/pipeline")
    assert kfp_nb.Client().host == "http://10.0.0.5:31380/pipeline"
    assert kfp_nb.Client("http://other:1").host == "http://other:1"


@pytest.mark.parametrize("bad", ["ftp://x", "https://x/p?ns=a", "http://"])
def test_bad_host_is_refused(bad):
    with pytest.raises(ValueError, match="host"):
        _transport.normalize_host(bad)


def test_path_prefix_is_joined_not_replaced():
    fake = FakeServer().on("GET", "/runs/r1", reply(200, run_body()))
    fake.client("https://kubeflow.example.com/pipeline/").get_run("r1")
    url = fake.requests[0].url
    assert url.host == "kubeflow.example.com"
    assert url.path == "/pipeline/apis/v2beta1/runs/r1"


def test_ids_are_percent_quoted_in_paths():
    fake = FakeServer().on("GET", ".*", reply(200, run_body("a/b c?")))
    fake.client().get_run("a/b c?")
    assert fake.requests[0].url.raw_path == b"/pipeline/apis/v2beta1/runs/a%2Fb%20c%3F"


def _auth(fake: FakeServer, index: int = -1) -> str | None:
    return fake.requests[index].headers.get("authorization")


def test_token_argument_is_sent_as_bearer():
    fake = FakeServer().on("GET", ".*", reply(200, run_body()))
    fake.client(token=SECRET).get_run("r1")
    assert _auth(fake) == f"Bearer {SECRET}"


def test_no_token_sends_no_authorization():
    fake = FakeServer().on("GET", ".*", reply(200, run_body()))
    fake.client().get_run("r1")
    assert _auth(fake) is None


def test_token_file_is_read_and_reread_when_rotated(tmp_path, monkeypatch):
    path = tmp_path / "token"
    path.write_text("first-token\n")
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(path))
    fake = FakeServer().on("GET", ".*", reply(200, run_body()))
    client = fake.client()
    client.get_run("r1")
    assert _auth(fake) == "Bearer first-token"
    # kubelet swaps the file: new contents, new mtime.
    path.write_text("second-token-longer\n")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))
    client.get_run("r1")
    assert _auth(fake) == "Bearer second-token-longer"
    path.unlink()
    client.get_run("r1")
    assert _auth(fake) is None


def test_token_argument_wins_over_file(tmp_path, monkeypatch):
    path = tmp_path / "token"
    path.write_text("from-file")
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(path))
    fake = FakeServer().on("GET", ".*", reply(200, run_body()))
    fake.client(token="from-arg").get_run("r1")
    assert _auth(fake) == "Bearer from-arg"


@pytest.mark.parametrize(
    ("cookies", "header"),
    [
        (
            f"oauth2_proxy_kubeflow={COOKIE_VALUE}",
            f"oauth2_proxy_kubeflow={COOKIE_VALUE}",
        ),
        (
            {"authservice_session": COOKIE_VALUE, "b": "2"},
            f"authservice_session={COOKIE_VALUE}; b=2",
        ),
    ],
)
def test_cookies_as_text_or_dict(cookies, header):
    fake = FakeServer().on("GET", ".*", reply(200, run_body()))
    fake.client(cookies=cookies).get_run("r1")
    assert fake.requests[0].headers["cookie"] == header


def test_extra_headers_are_sent():
    fake = FakeServer().on("GET", ".*", reply(200, run_body()))
    fake.client(headers={"kubeflow-userid": "me@example.com"}).get_run("r1")
    assert fake.requests[0].headers["kubeflow-userid"] == "me@example.com"


def test_repr_shows_host_namespace_and_token_presence_only(tmp_path, monkeypatch):
    assert "no token" in repr(kfp_nb.Client("https://x"))
    client = kfp_nb.Client(
        "https://x/pipeline",
        token=SECRET,
        namespace="team-a",
        cookies={"s": COOKIE_VALUE},
    )
    text = repr(client)
    assert "https://x/pipeline" in text and "team-a" in text
    assert "token" in text and "cookie" in text
    assert SECRET not in text and COOKIE_VALUE not in text
    path = tmp_path / "tok"
    path.write_text(SECRET)
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(path))
    text = repr(kfp_nb.Client("https://x"))
    assert str(path) in text and SECRET not in text


def _everything(exc: BaseException) -> str:
    """The full traceback text, with every chained exception and its repr."""
    parts = traceback.format_exception(type(exc), exc, exc.__traceback__)
    seen = exc
    while seen is not None:
        parts += [repr(seen), str(seen), repr(getattr(seen, "request", ""))]
        seen = seen.__cause__ or seen.__context__
    return "".join(parts)


@pytest.mark.parametrize(
    "answer",
    [
        reply(401, {"code": 16, "message": f"invalid bearer token {SECRET}"}),
        reply(403, {"code": 7, "message": f"cookie {COOKIE_VALUE} denied"}),
        reply(
            200,
            "<html><title>Log in</title><input type=password></html>",
            {"content-type": "text/html"},
        ),
        reply(500, f"oops Bearer {SECRET}", {"content-type": "text/plain"}),
        reply(
            200,
            f"<html><title>Cookie: session={COOKIE_VALUE}</title></html>",
            {"content-type": "text/html"},
        ),
        reply(200, f"token {SECRET}", {"content-type": "application/json"}),
        httpx.ConnectError("[Errno 111] Connection refused"),
        httpx.ReadTimeout("timed out"),
    ],
)
def test_secrets_never_in_errors_or_logs(answer, caplog):
    fake = FakeServer().on("GET", ".*", answer)
    client = fake.client(token=SECRET, cookies={"session": COOKIE_VALUE}, retries=0)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(kfp_nb.KFPError) as info:
        client.get_run("r1")
    text = _everything(info.value) + caplog.text + repr(getattr(info.value, "body", ""))
    assert SECRET not in text
    assert COOKIE_VALUE not in text


def test_one_info_line_per_exchange_without_secrets(caplog):
    fake = FakeServer().on("GET", ".*", reply(200, {"runs": []}))
    client = fake.client(token=SECRET)
    caplog.set_level(logging.INFO, logger="kfp_nb")
    client.list_runs(filter={"predicates": []}, page_size=5)
    records = [r for r in caplog.records if r.name == "kfp_nb"]
    assert len(records) == 1
    line = records[0].getMessage()
    assert line.startswith(
        "GET https://kubeflow.example.com/pipeline/apis/v2beta1/runs"
    )
    assert line.endswith("-> 200")
    assert SECRET not in caplog.text


def test_secret_query_values_are_hidden_in_logs():
    url = httpx.URL("https://h/apis?page_token=abc&access_token=zzz")
    text = _transport.safe_url(url)
    assert "page_token=abc" in text and "zzz" not in text


def test_library_adds_no_log_handlers():
    assert logging.getLogger("kfp_nb").handlers == []


def test_default_timeout_suits_slow_listings():
    client = kfp_nb.Client("http://localhost:1")
    timeout = client._http.timeout
    assert timeout.read >= 60 and timeout.connect <= 30


def test_context_manager_closes():
    fake = FakeServer().on("GET", ".*", reply(200, {}))
    with fake.client() as client:
        client.healthz()
    assert client._http.is_closed


def test_timeout_and_verify_are_passed_to_httpx():
    client = kfp_nb.Client("https://x", timeout=7.5, verify=False)
    assert client._http.timeout.read == 7.5 and client._http.timeout.connect == 7.5
    client.close()


def test_redirects_are_never_followed():
    fake = FakeServer().on(
        "GET", "/runs/r1", reply(307, "", {"location": "https://elsewhere.example/x"})
    )
    fake.on("GET", "/x", reply(200, run_body()))
    with pytest.raises(kfp_nb.LoginRedirect, match=r"elsewhere\.example"):
        fake.client().get_run("r1")
    assert len(fake.requests) == 1
