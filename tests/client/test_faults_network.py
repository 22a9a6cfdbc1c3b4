"""Network faults on loopback: DNS, TLS, proxies, login pages and non-JSON errors.

Every server here is real and binds 127.0.0.1; DNS lookups of ``.invalid``
names are answered "no such name" in-process, so no query leaves the machine.
"""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

import kfp_nb
from kfp_nb._errors import AuthenticationError
from kfp_nb.server import create_app
from kfp_nb.server._process import free_port
from tests._data import case

from ._faults import answer, make_tls, recording_proxy, serve

SECRET = "tok-5b0e7d21-never-shown"
PROXY_VARS = [
    f"{name}{suffix}"
    for name in ("http", "https", "all", "no")
    for suffix in ("_proxy", "_PROXY")
]
MODES = ["sync", "async"]


@pytest.fixture(autouse=True)
def _no_env_proxies(monkeypatch):
    for name in PROXY_VARS + ["KF_PIPELINES_SA_TOKEN_PATH", "SSL_CERT_FILE"]:
        monkeypatch.delenv(name, raising=False)


def _call(host: str, mode: str, method: str = "healthz", **options):
    """``client.<method>()`` on a fresh sync or async client; its result."""
    options.setdefault("retries", 0)
    if mode == "sync":
        with kfp_nb.Client(host, **options) as client:
            return getattr(client, method)()

    async def main():
        async with kfp_nb.AsyncClient(host, **options) as client:
            return await getattr(client, method)()

    return asyncio.run(main())


def _fails(host: str, mode: str, cls=kfp_nb.KFPError, **options) -> kfp_nb.KFPError:
    with pytest.raises(cls) as info:
        _call(host, mode, **options)
    return info.value


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return create_app(str(tmp_path_factory.mktemp("net") / "k.db"), speed=20.0)


@pytest.fixture(scope="module")
def plain(app):
    """The embedded app over plain HTTP."""
    with serve(app) as url:
        yield url


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """The embedded app over HTTPS with a certificate from a throwaway CA."""
    folder = tmp_path_factory.mktemp("tls")
    files = make_tls(folder)
    app = create_app(str(folder / "k.db"), speed=20.0)
    with serve(
        app, ssl_certfile=str(files["cert"]), ssl_keyfile=str(files["key"])
    ) as url:
        yield url, files


# --- DNS ----------------------------------------------------------------------


@pytest.fixture
def lookups(monkeypatch) -> list[str]:
    """Names looked up; ``.invalid`` ones fail here and never reach a resolver."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else str(host)
        asked.append(name)
        if name.rstrip(".").endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.mark.parametrize("mode", MODES)
def test_dns_failure_names_the_host_and_says_it_did_not_resolve(lookups, mode):
    host = "https://kfp.no-such-cluster.invalid/pipeline"
    error = _fails(host, mode, kfp_nb.ConnectError)
    text = str(error)
    assert (
        host in text and "'kfp.no-such-cluster.invalid' could not be resolved" in text
    )
    assert "port-forward" in text  # the way in from outside a cluster
    assert set(lookups) == {"kfp.no-such-cluster.invalid"}


@pytest.mark.parametrize("mode", MODES)
def test_an_unknown_name_is_not_retried(lookups, mode):
    _fails("http://kfp.invalid:8888", mode, kfp_nb.ConnectError, retries=2, backoff=0)
    assert lookups == ["kfp.invalid"]  # NXDOMAIN will not change in a second


@pytest.mark.parametrize("mode", MODES)
def test_a_temporary_dns_failure_is_retried(monkeypatch, mode):
    asked: list[str] = []

    def getaddrinfo(host, *args, **kwargs):
        asked.append(host)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    error = _fails(
        "http://kfp.example.invalid", mode, kfp_nb.ConnectError, retries=2, backoff=0
    )
    assert len(asked) == 3
    assert "could not be resolved" in str(error)


# --- TLS ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_unknown_ca_is_a_tls_error_with_the_host_and_verify_hint(tls, mode):
    url, _ = tls
    error = _fails(url, mode, kfp_nb.ConnectError)
    text = str(error)
    assert url in text and "certificate could not be verified" in text
    assert "verify='/path/to/ca.pem'" in text
    assert "CERTIFICATE_VERIFY_FAILED" in text  # the TLS library's own reason


@pytest.mark.parametrize("mode", MODES)
def test_a_certificate_failure_is_not_retried(tls, mode, monkeypatch):
    from kfp_nb import _transport

    checks = []
    real = _transport.permanent_failure
    monkeypatch.setattr(
        _transport, "permanent_failure", lambda exc: checks.append(exc) or real(exc)
    )
    _fails(tls[0], mode, kfp_nb.ConnectError, retries=3, backoff=0)
    assert len(checks) == 1  # one attempt: a retry cannot fix a certificate


@pytest.mark.parametrize("mode", MODES)
def test_custom_ca_by_path_works_end_to_end(tls, mode):
    url, files = tls
    for verify in (str(files["ca"]), files["ca"]):  # a str or a Path
        assert _call(url, mode, verify=verify)["multi_user"] is False
    made = _call(url, mode, "list_experiments", verify=str(files["ca"]))
    assert made.experiments  # the default experiment, read over TLS


def test_custom_ca_folder_is_accepted(tls, tmp_path):
    import shutil
    import ssl

    url, files = tls
    folder = tmp_path / "cas"
    folder.mkdir()
    shutil.copy(files["ca"], folder / "ca.pem")
    client = kfp_nb.Client(url, verify=str(folder))
    assert isinstance(client._http._transport._pool._ssl_context, ssl.SSLContext)
    client.close()


@pytest.mark.parametrize(
    ("content", "problem"),
    [(None, "does not exist"), (b"not a certificate\n", "not a usable CA bundle")],
)
def test_a_bad_verify_path_is_refused_when_the_client_is_made(
    tmp_path, content, problem
):
    path = tmp_path / "ca.pem"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=problem) as info:
        kfp_nb.Client("https://kfp.example", verify=str(path))
    assert "verify=" in str(info.value)


def test_certificate_for_another_name_is_a_tls_error(tmp_path):
    files = make_tls(tmp_path, names=("kfp.example",))
    app = create_app(str(tmp_path / "k.db"), speed=20.0)
    with serve(
        app, ssl_certfile=str(files["cert"]), ssl_keyfile=str(files["key"])
    ) as url:
        error = _fails(url, "sync", kfp_nb.ConnectError, verify=str(files["ca"]))
    text = str(error)
    assert url in text and "could not be verified" in text and "mismatch" in text


@pytest.mark.parametrize("mode", MODES)
def test_https_to_a_plain_http_port_says_check_the_scheme(plain, mode):
    url = plain.replace("http://", "https://")
    text = str(_fails(url, mode, kfp_nb.ConnectError))
    assert url in text and "TLS handshake failed" in text and "http://" in text


@pytest.mark.parametrize("mode", MODES)
def test_plain_http_to_a_tls_port_says_use_https(tls, mode):
    url = tls[0].replace("https://", "http://")
    text = str(_fails(url, mode, kfp_nb.ConnectError))
    assert url in text and "use an https:// host" in text


# --- Proxies from the environment -----------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_http_proxy_from_the_environment_carries_the_request(plain, monkeypatch, mode):
    with recording_proxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        health = _call(plain, mode, token=SECRET)
    assert health["multi_user"] is False  # the real answer, relayed
    assert proxy.seen == [f"GET {plain}/apis/v2beta1/healthz"]
    assert proxy.headers[0]["Authorization"] == f"Bearer {SECRET}"


@pytest.mark.parametrize("mode", MODES)
def test_https_proxy_tunnels_tls_with_connect(tls, monkeypatch, mode):
    url, files = tls
    with recording_proxy() as proxy:
        monkeypatch.setenv("https_proxy", proxy.url)
        health = _call(url, mode, verify=str(files["ca"]))
    assert health["multi_user"] is False
    assert proxy.seen == [f"CONNECT {url.removeprefix('https://')}"]


@pytest.mark.parametrize("mode", MODES)
def test_no_proxy_sends_the_request_directly(plain, monkeypatch, mode):
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("HTTP_PROXY", dead)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert _call(plain, mode)["multi_user"] is False


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
def test_dead_proxy_is_named_without_its_credentials(
    plain, monkeypatch, mode, variable
):
    port = free_port()
    monkeypatch.setenv(variable, f"http://alice:pr0xy-pa55@127.0.0.1:{port}")
    error = _fails(plain, mode, kfp_nb.ConnectError)
    text = str(error)
    assert f"the proxy http://***@127.0.0.1:{port} (from ${variable})" in text
    assert plain in text and "NO_PROXY" in text
    assert "pr0xy-pa55" not in text and "alice" not in text


@pytest.mark.parametrize("mode", MODES)
def test_proxy_refusing_the_tunnel_is_named(monkeypatch, mode):
    """A proxy that answers CONNECT with 407 (it wants credentials)."""

    async def refuse(scope, receive, send):
        if scope["type"] == "http":
            await answer(send, 407, b"auth required", {"content-type": "text/plain"})

    with serve(refuse) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy)
        error = _fails("https://kfp.example/pipeline", mode, kfp_nb.ConnectError)
    text = str(error)
    assert f"the proxy {proxy} (from $HTTPS_PROXY)" in text
    assert "https://kfp.example/pipeline" in text


# --- Login pages and answers that are not the API's JSON ----------------------


def _case_reply(response: dict) -> tuple[int, bytes, dict]:
    return response["status"], response["body"].encode(), response["headers"]


C13 = case("13")["server_response"]
FAULTS = {
    "dex-302": (_case_reply(C13[0]), kfp_nb.LoginRedirect, ["/dex/auth", "cookies="]),
    "oauth2-proxy-302": (
        _case_reply(C13[1]), kfp_nb.LoginRedirect,
        ["https://kubeflow.example.com/oauth2/start", "sign in again"],
    ),
    "login-page-200": (_case_reply(C13[2]), kfp_nb.LoginRedirect, ["login page"]),
    "dashboard-html-200": (
        _case_reply(case("14")["server_response"]), kfp_nb.LoginRedirect,
        ["Kubeflow Central Dashboard", "/pipeline"],
    ),
    "text-401": (
        (401, b"Jwt is expired", {"content-type": "text/plain",
                                  "www-authenticate": 'Bearer error="invalid_token"'}),
        kfp_nb.Unauthenticated, ["Jwt is expired", "token= was rejected"],
    ),
    "text-403": (
        (403, b"RBAC: access denied", {"content-type": "text/plain"}),
        kfp_nb.PermissionDenied,
        ["RBAC: access denied", "token given as token=", "namespace="],
    ),
    "text-500": (
        (500, b"Internal Server Error\n", {"content-type": "text/plain"}),
        kfp_nb.ServerError, ["Internal Server Error", "gateway"],
    ),
    "text-502-html": (
        (502, b"<html><title>502 Bad Gateway</title></html>",
         {"content-type": "text/html"}),
        kfp_nb.ServerError, ["502 Bad Gateway", "try again shortly"],
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def gateway():
    """A loopback 'gateway' answering every request with ``current[0]``."""
    current: list[tuple[int, bytes, dict]] = []
    seen: list[str] = []

    async def app(scope, receive, send):
        if scope["type"] == "http":
            seen.append(f"{scope['method']} {scope['path']}")
            await answer(send, *current[0])

    with serve(app) as url:
        yield url + "/pipeline", current, seen


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_non_api_answer_is_its_own_error_with_host_and_hint(gateway, mode, fault):
    host, current, seen = gateway
    reply, cls, words = FAULTS[fault]
    current[:] = [reply]
    seen.clear()
    with pytest.raises(kfp_nb.KFPError) as info:
        _call(host, mode, "list_runs", token=SECRET)
    error = info.value
    assert type(error) is cls
    text = str(error)
    assert host in text
    for word in words:
        assert word in text, (word, text)
    assert SECRET not in text
    assert len(seen) == 1  # nothing followed, nothing repeated
    if cls in (kfp_nb.LoginRedirect, kfp_nb.Unauthenticated, kfp_nb.PermissionDenied):
        assert isinstance(error, AuthenticationError)


@pytest.mark.parametrize("mode", MODES)
def test_a_post_answered_by_a_login_redirect_is_not_followed(gateway, mode):
    host, current, seen = gateway
    current[:] = [_case_reply(C13[0])]
    seen.clear()
    options = {"retries": 0}

    async def main():
        async with kfp_nb.AsyncClient(host, **options) as client:
            await client.archive_run("r1")

    with pytest.raises(kfp_nb.LoginRedirect):
        if mode == "sync":
            with kfp_nb.Client(host, **options) as client:
                client.archive_run("r1")
        else:
            asyncio.run(main())
    assert seen == ["POST /pipeline/apis/v2beta1/runs/r1:archive"]


def test_the_proxy_is_not_named_when_no_proxy_applies(plain):
    port = free_port()
    text = str(_fails(f"http://127.0.0.1:{port}", "sync", kfp_nb.ConnectError))
    assert "proxy" not in text.split(". ")[0]


def test_an_http_proxy_url_is_never_used_for_no_proxy_hosts(plain, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("no_proxy", "localhost,127.0.0.1")
    with httpx.Client(trust_env=True) as raw:  # the same rule httpx applies
        assert raw.get(f"{plain}/apis/v2beta1/healthz").status_code == 200
    assert _call(plain, "sync")["multi_user"] is False
