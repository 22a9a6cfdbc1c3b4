"""Credentials are checked when given or read, and never leak into errors."""

from __future__ import annotations

import logging
import traceback

import httpx
import pytest

import kfp_nb

from ._mock import FakeServer, reply

SECRET = "SECRET-abc123"
BAD_TOKENS = [
    f"{SECRET}\nX: 1",
    f"{SECRET}\rX",
    f"{SECRET}\0",
    f"{SECRET}\u00e9",
    f"{SECRET}\x7f",
]


def _health() -> FakeServer:
    return FakeServer().on("GET", "/healthz", reply(200, {"multi_user": False}))


def _text(error: BaseException) -> str:
    return "".join(traceback.format_exception(error))


@pytest.mark.parametrize("token", BAD_TOKENS)
def test_bad_token_argument_is_refused_without_echoing_it(token):
    with pytest.raises(ValueError, match=r"token= argument") as info:
        _health().client(token=token)
    assert SECRET not in _text(info.value)


@pytest.mark.parametrize(
    "content",
    [f"{SECRET}\nsecond line\n", f"{SECRET}\r\nX", "\u00e9" + SECRET],
)
def test_bad_token_file_names_the_file_not_the_token(tmp_path, monkeypatch, content):
    path = tmp_path / "token"
    path.write_text(content, encoding="utf-8")
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(path))
    client = _health().client()
    with pytest.raises(ValueError) as info:
        client.healthz()
    assert str(path) in str(info.value)
    assert SECRET not in _text(info.value)


def test_token_file_that_is_not_utf8_names_the_file(tmp_path, monkeypatch):
    path = tmp_path / "token"
    path.write_bytes(b"\xff\xfe" + SECRET.encode())
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(path))
    with pytest.raises(ValueError, match="not UTF-8") as info:
        _health().client().healthz()
    assert str(path) in str(info.value) and SECRET not in _text(info.value)


def test_token_file_trailing_newline_is_dropped(tmp_path, monkeypatch):
    path = tmp_path / "token"
    path.write_text(SECRET + "\n")
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(path))
    fake = _health()
    fake.client().healthz()
    assert fake.requests[0].headers["authorization"] == f"Bearer {SECRET}"


@pytest.mark.parametrize(
    ("cookies", "where"),
    [
        ({"a": f"{SECRET}\n"}, "cookies['a']"),
        ({"a": f"{SECRET}\r\nSet: x"}, "cookies['a']"),
        ({"a": f"{SECRET};b=c"}, "cookies['a']"),
        ({"bad name": SECRET}, "cookie #0"),
        ({"a=b": SECRET}, "cookie #0"),
        (f"session={SECRET}\nX: y", "cookies= argument"),
    ],
)
def test_bad_cookies_are_refused_naming_where(cookies, where):
    with pytest.raises(ValueError) as info:
        _health().client(cookies=cookies)
    assert where in str(info.value) and SECRET not in _text(info.value)


def test_local_protocol_error_is_not_chained_and_not_a_connect_error():
    # A header httpx refuses only when sending (e.g. set by a custom transport
    # or a hook): its text quotes the header value.
    problem = httpx.LocalProtocolError(f"Illegal header value b'Bearer {SECRET}'")
    fake = FakeServer().on("GET", "/healthz", problem)
    with pytest.raises(kfp_nb.TransportError) as info:
        fake.client(retries=0).healthz()
    assert not isinstance(info.value, kfp_nb.ConnectError)
    assert "header" in str(info.value) and "Check the host" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert SECRET not in _text(info.value)


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError(f"refused while sending {SECRET}"),
        httpx.ReadTimeout(f"slow {SECRET}"),
        httpx.RemoteProtocolError(f"closed {SECRET}"),
    ],
)
def test_no_httpx_error_is_chained(exc):
    fake = FakeServer().on("GET", "/healthz", exc)
    with pytest.raises(kfp_nb.TransportError) as info:
        fake.client(retries=0, token=SECRET).healthz()
    assert info.value.__cause__ is None and info.value.__context__ is None
    text = _text(info.value)
    assert "During handling" not in text and "direct cause" not in text
    assert SECRET not in text


@pytest.mark.parametrize(
    ("name", "value", "sent"),
    [
        ("Authorization", f"Bearer {SECRET}", f"Bearer {SECRET}"),
        ("authorization", f"bearer {SECRET}", f"Bearer {SECRET}"),
        ("Authorization", f"Basic {SECRET}", f"Basic {SECRET}"),
    ],
)
def test_authorization_in_headers_is_a_credential(name, value, sent, caplog):
    caplog.set_level(logging.DEBUG, logger="kfp_nb")
    fake = _health()
    client = fake.client(headers={name: value, "X-Trace": "1"})
    client.healthz()
    assert fake.requests[0].headers["authorization"] == sent
    assert fake.requests[0].headers["x-trace"] == "1"
    assert "token set" in repr(client)
    for shown in (repr(client), repr(vars(client)), str(client._http.headers)):
        assert SECRET not in shown
    assert "authorization" not in {k.lower() for k in client._http.headers}
    assert SECRET not in caplog.text


def test_cookie_in_headers_is_a_credential_and_joins_cookies():
    fake = _health()
    client = fake.client(headers={"Cookie": f"s={SECRET}"}, cookies={"t": "2"})
    client.healthz()
    assert fake.requests[0].headers["cookie"] == f"t=2; s={SECRET}"
    assert SECRET not in repr(vars(client)) and "cookie set" in repr(client)
    assert "cookie" not in {k.lower() for k in client._http.headers}


def test_token_twice_is_refused():
    with pytest.raises(TypeError, match="not both"):
        _health().client(token="a", headers={"Authorization": "Bearer b"})


def test_bad_header_in_headers_names_the_header_only():
    with pytest.raises(ValueError, match=r"headers\['Authorization'\]") as info:
        _health().client(headers={"Authorization": f"Bearer {SECRET}\nX: 1"})
    assert SECRET not in _text(info.value)
    with pytest.raises(ValueError, match=r"headers\['X-Trace'\]"):
        _health().client(headers={"X-Trace": "a\nb"})


def test_server_rejection_of_header_token_says_where_it_came_from():
    body = {"code": 16, "message": "Unauthenticated"}
    fake = FakeServer().on("GET", "/healthz", reply(401, body))
    client = fake.client(headers={"Authorization": f"Bearer {SECRET}"})
    with pytest.raises(kfp_nb.Unauthenticated, match="Authorization") as info:
        client.healthz()
    assert SECRET not in _text(info.value)


def test_async_client_checks_credentials_too():
    with pytest.raises(ValueError, match="token= argument"):
        _health().async_client(token=f"{SECRET}\n1")


@pytest.mark.parametrize(
    "host",
    ["https://admin:s3cret-pw@kfp.example/pipeline", "https://kfp.example/?token=s3cret-pw",
     "https://kfp.example/#s3cret-pw", "https://s3cret-pw@kfp.example"],
)  # fmt: skip
def test_a_refused_host_never_echoes_its_secret_parts(host):
    with pytest.raises(ValueError) as info:
        kfp_nb.Client(host)
    assert "s3cret-pw" not in str(info.value) and "***" in str(info.value)


def _reachable(error: BaseException) -> str:
    """Everything an error reporter could serialise: the chain and its attributes."""
    seen: list[str] = []
    todo: list[object] = [error]
    visited: set[int] = set()
    while todo:
        item = todo.pop()
        if id(item) in visited or item is None:
            continue
        visited.add(id(item))
        seen.append(repr(item))
        if isinstance(item, BaseException):
            todo += [item.__context__, item.__cause__, *vars(item).values()]
            request = getattr(item, "_request", None)  # httpx keeps it here
            if request is not None:
                todo.append(request)
        elif isinstance(item, httpx.Request):
            seen.append(repr(dict(item.headers)))
    return "\n".join(seen)


@pytest.mark.parametrize("make", ["sync", "async"])
def test_a_failed_connection_keeps_no_credential_in_the_exception_chain(make):
    # A reporter such as Sentry walks __context__; httpx's error there holds the
    # request, and with it the Authorization and Cookie headers.
    options = dict(
        token=SECRET, cookies={"session": "COOKIE-xyz789"}, retries=0, timeout=2
    )
    if make == "sync":
        with kfp_nb.Client("http://127.0.0.1:9", **options) as client:
            with pytest.raises(kfp_nb.ConnectError) as caught:
                client.get_run("r1")
    else:
        import asyncio

        async def fail() -> BaseException:
            async with kfp_nb.AsyncClient("http://127.0.0.1:9", **options) as client:
                try:
                    await client.get_run("r1")
                except kfp_nb.ConnectError as exc:
                    return exc
            raise AssertionError("no error")

        caught = type("Caught", (), {"value": asyncio.run(fail())})
    text = _reachable(caught.value)
    assert "127.0.0.1:9" in text  # the walk did reach the error itself
    assert SECRET not in text and "COOKIE-xyz789" not in text
    assert caught.value.__context__ is None
