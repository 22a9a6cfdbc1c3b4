"""Real faults on loopback for the client tests: servers, TLS, proxies, kills.

Everything here binds 127.0.0.1 only and sends nothing anywhere else.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import select
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests._serve import serve  # noqa: F401  (the fault tests import it from here)

API = "/apis/v2beta1"


def demo_spec() -> dict[str, Any]:
    from kfp_nb.server._pipelines import DEMO_PIPELINES

    return DEMO_PIPELINES[min(DEMO_PIPELINES)]


# --- TLS ----------------------------------------------------------------------


def make_tls(folder: Path, *, names: tuple[str, ...] = ("127.0.0.1",)) -> dict:
    """A throwaway CA and a server certificate it signed, as PEM files.

    Returns ``{"ca": path, "cert": path, "key": path}``; the certificate's
    subject alternative names are ``names`` (IP addresses or DNS names).
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kfp-nb test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = {
        "ca": folder / "ca.pem",
        "cert": folder / "cert.pem",
        "key": folder / "key.pem",
    }
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


# --- A recording forward proxy -------------------------------------------------


class _ProxyHandler(socketserver.StreamRequestHandler):
    """One proxied exchange: absolute-form HTTP is forwarded, CONNECT tunnelled."""

    def handle(self) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(65536)
            if not chunk:
                return
            head += chunk
        first, _, rest = head.partition(b"\r\n")
        method, target, _ = first.decode("latin-1").split(" ", 2)
        self.server.seen.append(f"{method} {target}")  # type: ignore[attr-defined]
        if method == "CONNECT":
            self._tunnel(target)
        else:
            self._forward(method, target, head)

    def _tunnel(self, target: str) -> None:
        host, port = target.rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)), timeout=10)
        self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        pair = [self.request, upstream]
        try:
            while True:
                ready, _, _ = select.select(pair, [], [], 10)
                if not ready:
                    return
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is self.request else self.request).sendall(data)
        finally:
            upstream.close()

    def _forward(self, method: str, target: str, head: bytes) -> None:
        headers = {}
        for line in head.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() not in ("host", "connection", "proxy-connection"):
                headers[name.strip()] = value.strip()
        self.server.headers.append(headers)  # type: ignore[attr-defined]
        with httpx.Client(trust_env=False, timeout=10) as direct:
            answer = direct.request(method, target, headers=headers)
        body = answer.content
        lines = [f"HTTP/1.1 {answer.status_code} {answer.reason_phrase}"]
        lines += [f"content-type: {answer.headers.get('content-type', 'text/plain')}"]
        lines += [f"content-length: {len(body)}", "connection: close", "", ""]
        self.request.sendall("\r\n".join(lines).encode("latin-1") + body)


class _ThreadingTCP(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def recording_proxy() -> Iterator[Any]:
    """A forward proxy on 127.0.0.1: ``.url``, ``.seen`` (request lines), headers."""
    server = _ThreadingTCP(("127.0.0.1", 0), _ProxyHandler)
    server.seen = []  # type: ignore[attr-defined]
    server.headers = []  # type: ignore[attr-defined]
    server.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


# --- Killing the server between pages ------------------------------------------


def _is_listing(request: httpx.Request, path: str) -> bool:
    return request.method == "GET" and request.url.path.endswith(f"{API}{path}")


class KillAfterPages(httpx.BaseTransport):
    """Real HTTP; SIGKILLs ``server`` once page ``pages`` of ``path`` is read.

    The page's body is read whole before the kill, so the client holds exactly
    ``pages`` pages when the next request meets a dead server.
    """

    def __init__(self, server: Any, *, path: str, pages: int) -> None:
        self.inner = httpx.HTTPTransport()
        self.server, self.path, self.pages = server, path, pages
        self.served = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if _is_listing(request, self.path):
            response.read()
            self.served += 1
            if self.served == self.pages:
                self.server.kill()
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncKillAfterPages(httpx.AsyncBaseTransport):
    """The asyncio twin of :class:`KillAfterPages`."""

    def __init__(self, server: Any, *, path: str, pages: int) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.server, self.path, self.pages = server, path, pages
        self.served = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if _is_listing(request, self.path):
            await response.aread()
            self.served += 1
            if self.served == self.pages:
                self.server.kill()
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


# --- ASGI wrappers around the embedded app -------------------------------------


class Recorder:
    """ASGI middleware: records ``METHOD path`` and lets ``rule`` intervene.

    ``rule(scope)`` returns None (pass through) or an async callable
    ``(scope, receive, send, app) -> None`` that answers instead.
    """

    def __init__(self, app: Any, rule: Callable[[dict], Any] | None = None) -> None:
        self.app, self.rule = app, rule
        self.seen: list[str] = []

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.seen.append(f"{scope['method']} {scope['path']}")
        handler = self.rule(scope) if self.rule else None
        if handler is None:
            await self.app(scope, receive, send)
        else:
            await handler(scope, receive, send, self.app)


async def answer(send: Any, status: int, body: bytes, headers: dict) -> None:
    """Send one plain ASGI response."""
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
