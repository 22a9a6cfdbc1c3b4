"""The HTTP layer: httpx client construction, credentials, retries, error mapping.

This is the only module that sees a token or a cookie. They are added to each
request by :class:`Credentials` (an ``httpx.Auth``), never stored on the client
object's headers, and scrubbed from any error text a server echoes back.

The sync and async clients share all of it and differ only in how they send
and sleep; nothing here sends a request.
"""

from __future__ import annotations

import base64
import email.utils
import ipaddress
import json
import logging
import os
import random
import re
import socket
import ssl
import time
import urllib.request
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from . import _errors as errors

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_TIMEOUT",
    "Credentials",
    "RetryPolicy",
    "build_async_http",
    "build_http",
    "check_secret",
    "log_exchange",
    "map_transport_error",
    "normalize_host",
    "plain_headers",
    "read_json",
]

logger = logging.getLogger("kfp_nb")

DEFAULT_HOST = "http://localhost:8080"
#: ListRuns on a big MySQL database can take a minute; httpx's 5 s is too short.
DEFAULT_TIMEOUT = httpx.Timeout(120.0, connect=10.0)
TOKEN_PATH_ENV = "KF_PIPELINES_SA_TOKEN_PATH"
HOST_ENV = "KFP_HOST"

#: DNS labels (or an IPv4 address): letters (IDN too), digits, '-', '_'.
_HOST_NAME = re.compile(r"(?!-)[\w-]{1,63}(?:\.(?!-)[\w-]{1,63})*\.?")
_LOCAL = re.compile(r"^(localhost|127\.[\d.]+|\[::1\]|0\.0\.0\.0)(:\d+)?($|/)", re.IGNORECASE)
_SECRET_QUERY = re.compile(r"^(access_token|token|key|api_key|secret|password|auth)$")
_LOGIN = re.compile(
    r"/(dex|oauth2|oauth|login|signin|sign_in|auth|authservice)\b", re.IGNORECASE
)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_PRE = re.compile(r"<pre[^>]*>(.*?)</pre>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_EXCERPT = 500


def normalize_host(host: str | None) -> str:
    """Argument, else ``$KFP_HOST``, else localhost:8080; scheme added, no trailing /.

    A host without a scheme gets ``http://`` when it is local and ``https://``
    otherwise. A path prefix (``https://x/pipeline``) is kept: request paths are
    appended to it. Anything that is not an http(s) URL with a valid host name
    (and port) is a ValueError naming where the host came from.
    """
    if host is not None and not isinstance(host, str):
        raise TypeError(f"host must be a URL string, not {type(host).__name__}")
    source = "host" if host else f"${HOST_ENV}" if os.environ.get(HOST_ENV) else ""
    given = (host or os.environ.get(HOST_ENV) or DEFAULT_HOST).strip()
    text = given
    if "://" not in text:
        text = ("http://" if _LOCAL.match(text) else "https://") + text
    problem = _host_problem(text)
    if problem:
        raise ValueError(
            f"{source or 'host'}={_redacted(given)!r} {problem}; pass e.g. "
            "'http://localhost:8080' or 'https://kubeflow.example.com/pipeline'"
        )
    return text.rstrip("/")


def _redacted(url: str) -> str:
    """``url`` with any user info, query and fragment replaced: they may be secrets."""
    url = re.sub(r"(?<=://)[^/@?#]*@", "***@", url)
    return re.sub(r"[?#].*", lambda m: m.group(0)[0] + "***", url)


def _host_problem(text: str) -> str | None:
    """What is wrong with ``text`` as the API's base URL, or None."""
    try:
        parts = urlsplit(text)
        port = parts.port  # parses it: a bad port is a ValueError
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "is not an http(s) URL"
    if parts.query or parts.fragment:
        return "must not carry a query or fragment"
    if parts.username or parts.password:
        return "must not carry a user name or password (use token= or cookies=)"
    name = parts.hostname or ""
    if not (_HOST_NAME.fullmatch(name) or _is_ip6(name)):
        return "does not have a valid host name"
    if port == 0:
        return "has port 0"
    if any(c.isspace() or not c.isprintable() for c in parts.path):
        return "has spaces or control characters in its path"
    return None


def _is_ip6(name: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(name), ipaddress.IPv6Address)
    except ValueError:
        return False


class Credentials(httpx.Auth):
    """Adds ``Authorization: Bearer`` and ``Cookie`` to every request.

    The token comes from the ``token`` argument (or an ``Authorization``
    header given in ``headers``), else the file named by
    ``$KF_PIPELINES_SA_TOKEN_PATH`` (read again whenever it changes, as kubelet
    rotates projected tokens), else there is none. A ``Cookie`` header in
    ``headers`` joins ``cookies``. Every value is checked by
    :func:`check_secret` when given or read.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        cookies: str | Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        header_auth, header_cookie = _credential_headers(headers)
        if token is not None and header_auth is not None:
            raise TypeError(
                "pass the token as token= or as headers={'Authorization': ...}, "
                "not both"
            )
        if token is not None:
            if not isinstance(token, str):
                raise TypeError(f"token must be a string, not {type(token).__name__}")
            token = check_secret(token.strip(), "the token= argument")
        self._token = token or None
        #: A non-Bearer ``Authorization`` given through ``headers=``, sent as is.
        self._authorization: str | None = None
        self._source = "token="
        if header_auth is not None:
            self._source = "headers={'Authorization': ...}"
            scheme, _, rest = header_auth.partition(" ")
            if scheme.lower() == "bearer" and rest.strip():
                self._token = rest.strip()
            else:
                self._authorization = header_auth
        self._path = (
            None
            if self._token or self._authorization
            else os.environ.get(TOKEN_PATH_ENV) or None
        )
        self._file_token: str | None = None
        self._stamp: tuple[int, int, int] | None = None
        self._cookie = _join_cookies(_cookie_header(cookies), header_cookie)

    def __repr__(self) -> str:
        return f"<Credentials {self.describe()}>"

    @property
    def has_token(self) -> bool:
        return bool(self._authorization) or self.token() is not None

    @property
    def has_cookies(self) -> bool:
        return bool(self._cookie)

    def describe(self) -> str:
        """Where the token comes from, for reprs and hints. Never the value."""
        if self._token or self._authorization:
            source = f"token set (given as {self._source})"
        elif self._path:
            state = "" if os.path.exists(self._path) else ", which does not exist"
            source = f"token from file {self._path} (${TOKEN_PATH_ENV}){state}"
        else:
            source = "no token"
        return source + (", session cookie set" if self._cookie else "")

    def token(self) -> str | None:
        if self._token or not self._path:
            return self._token
        try:
            stat = os.stat(self._path)
        except OSError:
            self._stamp, self._file_token = None, None
            return None
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if stamp != self._stamp:
            self._file_token = _read_token_file(self._path)
            self._stamp = stamp
        return self._file_token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, Any, None]:
        token = self.token()
        if self._authorization:
            request.headers["Authorization"] = self._authorization
        elif token:
            request.headers["Authorization"] = f"Bearer {token}"
        if self._cookie:
            request.headers["Cookie"] = self._cookie
        yield request

    def redact(self, value: Any) -> Any:
        """``value`` with every token or cookie text replaced by ``***``."""
        # The cached file token, not token(): redacting must not re-read a
        # file (and fail) while an error is being reported.
        known = (self._file_token, self._token, self._authorization, self._cookie)
        secrets = [s for s in known if s]
        if self._cookie:
            secrets += [p.split("=", 1)[-1] for p in self._cookie.split(";")]
        secrets = sorted({s.strip() for s in secrets if len(s.strip()) >= 4}, key=len)
        secrets = secrets[::-1]
        # A server may echo a credential base64-encoded (Basic auth, JWT parts).
        secrets += [e for s in secrets for e in _encodings(s) if len(e) >= 8]
        return _scrub(value, secrets)

    def scrub_error(self, exc: errors.KFPError) -> errors.KFPError:
        """``exc`` with credentials removed from its text and attributes.

        The one place every error built from a response passes through, so a
        message, hint or body quoting a header, URL or echo cannot leak them.
        """
        exc.args = tuple(self.redact(a) for a in exc.args)
        for name in ("message", "hint", "body"):
            if hasattr(exc, name):
                setattr(exc, name, self.redact(getattr(exc, name)))
        return exc

    def unauthenticated_hint(self) -> str:
        if self._token or self._authorization:
            return (
                f"The token given as {self._source} was rejected; it may have "
                "expired."
            )
        if self._path:
            return (
                f"The token read from {self._path} (${TOKEN_PATH_ENV}) was "
                "rejected or missing; check that the file holds a current token."
            )
        if self._cookie:
            return "No token was sent and the session cookie was rejected."
        return (
            "No credentials were sent: pass token=..., set "
            f"${TOKEN_PATH_ENV}, or pass the session cookie as cookies=..."
        )

    def permission_hint(self) -> str:
        """Advice for a 403: no access, or (behind Istio/oauth2-proxy) a stale token."""
        if self._token or self._authorization:
            sent = f"the token given as {self._source}"
        elif self._path:
            sent = f"the token read from {self._path} (${TOKEN_PATH_ENV})"
        elif self._cookie:
            sent = "the session cookie"
        else:
            return (
                "Access denied and no credentials were sent: pass token=..., "
                f"set ${TOKEN_PATH_ENV}, or pass the session cookie as cookies=..."
            )
        return (
            f"Access denied for {sent}: it may have expired, or its identity "
            "lacks access to this namespace (check namespace=)."
        )


def check_secret(value: str, source: str, *, secret: bool = True) -> str:
    """``value`` if it can travel in an HTTP header, else ValueError naming ``source``.

    The message says where the value came from and never shows it.
    """
    for index, char in enumerate(value):
        if not " " <= char <= "~":
            kind = {"\n": "a line break", "\r": "a carriage return", "\0": "a NUL"}
            what = kind.get(char, "a character that is not printable ASCII")
            noun = "the credential from" if secret else "the value of"
            raise ValueError(
                f"{noun} {source} contains {what} at position "
                f"{index}, so it cannot be sent in an HTTP header; check that it "
                "was copied whole and alone (it is a single line of text)"
            )
    return value


def _read_token_file(path: str) -> str | None:
    """The token in ``path``: one trailing newline and surrounding blanks dropped."""
    source = f"the token file {path} (${TOKEN_PATH_ENV})"
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{source} is not UTF-8 text (byte {exc.start}); it should hold the "
            "token as a single line"
        ) from None
    return check_secret(text.strip(), source) or None


def _credential_headers(
    headers: Mapping[str, str] | None,
) -> tuple[str | None, str | None]:
    """``Authorization`` and ``Cookie`` values given through ``headers=``."""
    if headers is not None and not isinstance(headers, Mapping):
        raise TypeError(
            f"headers must be a dict of header names to values, not "
            f"{type(headers).__name__}"
        )
    found: dict[str, str | None] = {"authorization": None, "cookie": None}
    for name, value in (headers or {}).items():
        key = str(name).lower()
        if key in found:
            if not isinstance(value, str):
                raise TypeError(f"headers[{name!r}] must be a string")
            found[key] = check_secret(value.strip(), f"headers[{name!r}]")
    return found["authorization"] or None, found["cookie"] or None


def plain_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """``headers`` without the credential ones (kept by :class:`Credentials`)."""
    out = {}
    for name, value in (headers or {}).items():
        if str(name).lower() in ("authorization", "cookie"):
            continue
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"headers must map str to str; got {name!r}: {value!r}")
        check_secret(name, f"the name of header {name!r}", secret=False)
        check_secret(value, f"headers[{name!r}]", secret=False)
        out[name] = value
    return out


_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def _cookie_header(cookies: str | Mapping[str, str] | None) -> str | None:
    if not cookies:
        return None
    if isinstance(cookies, str):
        return check_secret(cookies.strip(), "the cookies= argument") or None
    if not isinstance(cookies, Mapping):
        raise TypeError(
            f"cookies must be a dict or a Cookie header string, not "
            f"{type(cookies).__name__}"
        )
    pairs = []
    for position, (name, value) in enumerate(cookies.items()):
        if not isinstance(name, str) or not _COOKIE_NAME.fullmatch(name):
            raise ValueError(
                f"cookie #{position} given in cookies= has a name that is not a "
                "valid cookie name (letters, digits and !#$%&'*+-.^_`|~ only)"
            )
        if not isinstance(value, str):
            raise TypeError(f"cookies[{name!r}] must be a string")
        check_secret(value, f"cookies[{name!r}]")
        if ";" in value:
            raise ValueError(
                f"the credential from cookies[{name!r}] contains ';', which "
                "would split it into several cookies; pass each cookie separately"
            )
        pairs.append(f"{name}={value}")
    return "; ".join(pairs) or None


def _join_cookies(*parts: str | None) -> str | None:
    return "; ".join(p for p in parts if p) or None


def _encodings(secret: str) -> list[str]:
    """Base64 forms of ``secret`` (standard and URL-safe, padding dropped).

    Base64 of a longer text (``"Bearer <token>"``, ``"user:<token>"``) holds the
    secret at one of three byte alignments, so each alignment is encoded and the
    characters that depend only on the secret's bytes are kept.
    """
    raw = secret.encode("utf-8", "replace")
    forms = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode()
        # Character i carries bits 6i..6i+5; keep those inside the secret's bytes.
        core = encoded[-(-8 * shift // 6) : 8 * (shift + len(raw)) // 6]
        if shift == 0:
            core = encoded.rstrip("=")
        forms |= {core, core.replace("+", "-").replace("/", "_")}
    return [f for f in forms if f]


#: An echoed prefix at least this long is masked (``token SeCrEtTo... is bad``).
_PREFIX = 8


def _scrub(value: Any, secrets: list[str]) -> Any:
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, "***")
            value = _scrub_prefixes(value, secret)
        return value
    if isinstance(value, dict):
        return {k: _scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    return value


def _scrub_prefixes(text: str, secret: str) -> str:
    """``text`` with every run of >= 8 leading characters of ``secret`` masked."""
    if len(secret) < _PREFIX:
        return text
    head = secret[:_PREFIX]
    start = text.find(head)
    while start >= 0:
        end = start + _PREFIX
        while end < len(text) and end - start < len(secret) and (
            text[end] == secret[end - start]
        ):
            end += 1
        text = text[:start] + "***" + text[end:]
        start = text.find(head, start + 3)
    return text


def _client_options(
    base_url: str,
    *,
    credentials: Credentials,
    headers: Mapping[str, str] | None,
    verify: Any,
    timeout: Any,
) -> dict[str, Any]:
    return {
        "base_url": base_url + "/",
        "auth": credentials,
        "headers": {"Accept": "application/json", **plain_headers(headers)},
        "verify": tls_verify(verify),
        "timeout": timeout,
        # A redirect from an API call is a login page or a wrong host: never
        # follow it, so a POST is not replayed as a GET somewhere else.
        "follow_redirects": False,
        "trust_env": True,
    }


def tls_verify(verify: Any) -> Any:
    """``verify=`` for httpx: a CA file or folder path becomes an SSLContext.

    httpx deprecates path strings; a path that does not exist, or a file that
    holds no usable PEM certificate, is a ValueError naming ``verify=``.
    """
    if isinstance(verify, (bool, ssl.SSLContext)):
        return verify
    if not isinstance(verify, (str, os.PathLike)):
        raise TypeError(
            "verify must be True, False, a CA bundle path or an ssl.SSLContext, "
            f"not {type(verify).__name__}"
        )
    path = os.fspath(verify)
    if not os.path.exists(path):
        raise ValueError(
            f"verify={path!r} does not exist; pass the path of the CA bundle "
            "(a PEM file) that signed the server's certificate"
        )
    try:
        if os.path.isdir(path):
            return ssl.create_default_context(capath=path)
        return ssl.create_default_context(cafile=path)
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise ValueError(
            f"verify={path!r} is not a usable CA bundle ({exc}); it should hold "
            "PEM certificates (-----BEGIN CERTIFICATE-----)"
        ) from None


def build_http(base_url: str, *, transport: Any = None, **options: Any) -> httpx.Client:
    """A sync httpx client for ``base_url``; see :func:`_client_options`."""
    return httpx.Client(transport=transport, **_client_options(base_url, **options))


def build_async_http(
    base_url: str, *, transport: Any = None, **options: Any
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=transport, **_client_options(base_url, **options)
    )


@dataclass(frozen=True)
class RetryPolicy:
    """GET retries on connect failures and 502/503/504, with jittered backoff.

    ``backoff=0`` means no waiting at all (tests); otherwise attempt ``n`` waits
    ``backoff * 2**n`` scaled by a random 0.5 to 1.0, at least the server's
    ``Retry-After`` (seconds or an HTTP date), at most ``max_delay`` seconds.
    """

    retries: int = 3
    backoff: float = 0.5
    max_delay: float = 10.0

    RETRY_STATUSES = frozenset({502, 503, 504})

    def delay(self, attempt: int, response: httpx.Response | None = None) -> float:
        if self.backoff <= 0:
            return 0.0
        wait = self.backoff * (2**attempt) * random.uniform(0.5, 1.0)
        after = response.headers.get("retry-after") if response is not None else None
        if after:
            wait = max(wait, _retry_after_seconds(after))
        return min(wait, self.max_delay)


def _retry_after_seconds(value: str) -> float:
    """``Retry-After`` in seconds (a number or an HTTP date); 0 when unreadable."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return 0.0
    if when.tzinfo is None:
        return 0.0
    return max(0.0, when.timestamp() - time.time())


#: Gateway answers after which a POST may or may not have been applied: the
#: gateway gave up waiting (504) or lost the connection (502) mid-request.
AMBIGUOUS_STATUSES = frozenset({502, 504})


def safe_url(url: httpx.URL) -> str:
    """The URL for logs: no user info, secret-looking query values hidden."""
    pairs = [
        (k, "***" if _SECRET_QUERY.match(k.lower()) else v)
        for k, v in parse_qsl(url.query.decode(), keep_blank_values=True)
    ]
    port = f":{url.port}" if url.port else ""
    base = f"{url.scheme}://{url.host}{port}"
    query = f"?{urlencode(pairs)}" if pairs else ""
    return f"{base}{url.path}{query}"


def _bare_url(url: httpx.URL) -> str:
    """Scheme, host, port and path only: a redirect's query may carry a secret."""
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}{url.path}"


def log_exchange(request: httpx.Request, outcome: int | str) -> None:
    """One INFO line per exchange: method, URL, status (or the failure)."""
    # Checked first: building the safe URL costs a few percent of a long listing.
    if logger.isEnabledFor(logging.INFO):
        logger.info("%s %s -> %s", request.method, safe_url(request.url), outcome)


def map_transport_error(
    exc: httpx.TransportError,
    *,
    host: str,
    endpoint: str,
    credentials: Credentials | None = None,
) -> errors.TransportError:
    """An httpx failure → ConnectError / RequestTimeout with the host and a hint.

    A failed connection says which kind it was (refused, DNS, TLS, proxy),
    and names the proxy from the environment (user info hidden) when one
    was in the way.
    """
    if isinstance(exc, httpx.TimeoutException):
        phase = {
            httpx.ConnectTimeout: "connecting",
            httpx.ReadTimeout: "waiting for the answer",
            httpx.WriteTimeout: "sending the request",
            httpx.PoolTimeout: "waiting for a free connection",
        }.get(type(exc), "waiting")
        via = _env_proxy(host)
        route = f" through the proxy {via[0]} (from ${via[1]})" if via else ""
        if endpoint.startswith("GET") or isinstance(exc, httpx.ConnectTimeout):
            advice = (
                "A large listing may need a longer timeout= (or a filter / "
                "smaller page_size); otherwise check that the server is up."
            )
        else:
            advice = (
                "The server may have applied the request; it was not re-sent. "
                "Check the result (e.g. client.runs() after create_run) before "
                "sending it again."
            )
        return errors.RequestTimeout(
            f"{endpoint}: no answer from {host}{route} in time ({phase}). {advice}"
        )
    if isinstance(exc, httpx.LocalProtocolError):
        # Its text quotes the offending header, which may be a credential.
        return errors.TransportError(
            f"{endpoint}: the request to {host} could not be sent because a "
            "header or the URL is not valid HTTP (LocalProtocolError); check "
            "headers=, token= and cookies="
        )
    said = _first_line(str(exc)) or type(exc).__name__
    said = credentials.redact(said) if credentials else said
    said = said.rstrip(".")
    if _cut_off(exc, said):
        after = (
            "Reads are retried (retries=); if it keeps happening, check the "
            "server's log and any proxy in between."
            if endpoint.startswith("GET")
            else "The server may have applied the request; it was not re-sent. "
            "Check the result before sending it again."
        )
        return errors.ConnectError(
            f"{endpoint}: the answer from {host} was cut off before its end "
            f"({said}): the connection dropped mid-response (a server restart, "
            f"a proxy or a port-forward). {after}"
        )
    if not isinstance(exc, (httpx.ConnectError, httpx.ProxyError)):
        scheme = (
            " If that port serves https, use an https:// host."
            if isinstance(exc, httpx.RemoteProtocolError) and host.startswith("http:")
            else ""
        )
        return errors.ConnectError(
            f"{endpoint}: the connection to {host} failed ({said}). Check that "
            f"the API server (or port-forward) is running, then try again.{scheme}"
        )
    return errors.ConnectError(f"{endpoint}: {_connect_problem(exc, said, host)}")


def _cut_off(exc: httpx.TransportError, said: str) -> bool:
    """Whether the answer had started and then stopped (not a failed connect)."""
    return isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)) and (
        "complete message body" in said or "incomplete" in said.lower()
    )


def _connect_problem(exc: httpx.TransportError, said: str, host: str) -> str:
    """What went wrong connecting to ``host``, and what to do about it."""
    parts = urlsplit(host)
    name, kind = parts.hostname or host, _failure_kind(exc, said)
    via = _env_proxy(host)
    if via and (isinstance(exc, httpx.ProxyError) or kind in ("refused", "dns")):
        why = (
            f"the proxy {via[0]} (from ${via[1]}) failed ({said}). Check that "
            f"the proxy is running and reachable, or add {name} to $NO_PROXY "
            "to connect directly."
        )
    elif kind == "tls-verify":
        why = (
            f"its TLS certificate could not be verified ({said}). Pass "
            "verify='/path/to/ca.pem' (the CA bundle that signed the server's "
            "certificate; $SSL_CERT_FILE works too), or verify=False to skip "
            "the check (unsafe; for a throwaway test cluster only)."
        )
    elif kind == "tls":
        why = (
            f"the TLS handshake failed ({said}). Check the scheme (http:// for "
            "a plain port-forward, https:// behind a gateway) and the port."
        )
    elif kind == "dns":
        why = (
            f"the host name {name!r} could not be resolved ({said}). Check its "
            "spelling; a cluster-internal name (ml-pipeline.kubeflow, "
            "*.svc.cluster.local) only resolves inside the cluster, so from "
            "outside use `kubectl port-forward` and http://localhost:PORT."
        )
    elif kind == "refused":
        why = (
            f"nothing accepts connections there ({said}). Is the API server "
            "or `kubectl port-forward` running, and is the port right?"
        )
    else:
        why = (
            f"{said}. Check the host (is the API server or port-forward "
            "running?), proxy and TLS settings (verify=)."
        )
    return f"could not connect to {host}: {why}"


_DNS_TEXT = re.compile(
    r"name or service not known|nodename nor servname|name resolution|"
    r"getaddrinfo failed|no address associated|name does not resolve",
    re.IGNORECASE,
)


def _failure_kind(exc: BaseException, said: str) -> str:
    """``tls-verify``, ``tls``, ``dns``, ``refused`` or ``other``.

    httpx re-raises the socket error of httpcore's, so the cause chain holds
    the OSError; its text is the fallback (a mocked failure has only text).
    """
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            break
        if isinstance(seen, ssl.SSLCertVerificationError):
            return "tls-verify"
        if isinstance(seen, ssl.SSLError):
            return "tls"
        if isinstance(seen, socket.gaierror):
            return "dns"
        if isinstance(seen, ConnectionRefusedError):
            return "refused"
        seen = seen.__cause__ or seen.__context__
    if "CERTIFICATE_VERIFY_FAILED" in said or "certificate verify" in said:
        return "tls-verify"
    if "[SSL" in said or "SSL:" in said:
        return "tls"
    if _DNS_TEXT.search(said):
        return "dns"
    if "refused" in said.lower() or "Errno 111" in said:
        return "refused"
    return "other"


def permanent_failure(exc: BaseException) -> bool:
    """A connect failure that retrying cannot fix: an unknown host name, or a
    TLS problem (certificate or protocol). A temporary DNS failure is not."""
    said = _first_line(str(exc))
    kind = _failure_kind(exc, said)
    if kind in ("tls-verify", "tls"):
        return True
    if kind != "dns":
        return False
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            break
        if isinstance(seen, socket.gaierror):
            return seen.errno not in (socket.EAI_AGAIN,)
        seen = seen.__cause__ or seen.__context__
    return "temporary" not in said.lower()


def _env_proxy(host: str) -> tuple[str, str] | None:
    """``(proxy URL with user info hidden, variable)`` httpx takes for ``host``.

    httpx reads ``HTTP(S)_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY`` (either case)
    when the client is built (trust_env); this only names the one in the way.
    """
    parts = urlsplit(host)
    proxies = urllib.request.getproxies_environment()
    scheme = parts.scheme if parts.scheme in proxies else "all"
    proxy = proxies.get(scheme)
    if not proxy:
        return None
    bypass = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
    if urllib.request.proxy_bypass_environment(bypass or "", proxies):
        return None
    variable = next(
        (
            v
            for v in (f"{scheme}_proxy", f"{scheme.upper()}_PROXY")
            if os.environ.get(v)
        ),
        f"{scheme.upper()}_PROXY",
    )
    return _redacted(proxy), variable


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:_EXCERPT]
    return ""


def _html_text(text: str) -> str:
    """The most telling line of an HTML body: <pre>, else <title>, else text."""
    for pattern in (_PRE, _TITLE):
        match = pattern.search(text)
        if match and match.group(1).strip():
            return _first_line(_TAG.sub("", match.group(1)))
    return _first_line(_TAG.sub(" ", text))


def _is_html(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "").lower()
    head = response.text[:200].lstrip().lower()
    return "html" in kind or head.startswith(("<!doctype", "<html", "<a href"))


def _login_redirect(response: httpx.Response, *, host: str, endpoint: str) -> None:
    """Raise LoginRedirect (or ResponseFormatError) for a 3xx answer."""
    asked = response.request.url
    target = asked.join(response.headers.get("location", ""))
    where = _bare_url(target)
    if target.host != asked.host or _LOGIN.search(target.path):
        raise errors.LoginRedirect(
            f"{endpoint}: {host} redirected to a login page at {where} instead of "
            "answering. The session cookie is missing or expired, or the host "
            "is the dashboard rather than the pipelines API: sign in again and "
            "pass the new session cookie (cookies=...) or a service-account token."
        )
    raise errors.ResponseFormatError(
        f"{endpoint}: {host} answered HTTP {response.status_code} redirecting to "
        f"{where}; {_redirect_advice(asked, target, host)}"
    )


def _redirect_advice(asked: httpx.URL, target: httpx.URL, host: str) -> str:
    """The host= that would reach ``target`` directly, when it can be derived."""
    prefix = urlsplit(host).path.rstrip("/")
    api_path = asked.path[len(prefix):] if asked.path.startswith(prefix) else ""
    if api_path and target.path.endswith(api_path):
        port = f":{target.port}" if target.port else ""
        base = target.path[: len(target.path) - len(api_path)].rstrip("/")
        new = f"{target.scheme}://{target.host}{port}{base}"
        if new != host:
            return f"pass host={new!r}, the address the API answers at."
    return "pass the address the API answers at as host."


def _html_instead_of_json(
    response: httpx.Response, *, host: str, endpoint: str
) -> errors.LoginRedirect:
    text = response.text
    title = _html_text(text)
    kind = response.headers.get("content-type", "?")
    if re.search(r"log ?in|sign ?in|password", text[:4000], re.IGNORECASE):
        cause = (
            "This is a login page: the session cookie is missing or expired. "
            "Sign in again and pass the new cookie (cookies=...), or use a token."
        )
    else:
        cause = (
            "This looks like a web page, not the pipelines API: the host is "
            "probably wrong (on Kubeflow it usually ends in /pipeline), or the "
            "session expired."
        )
    return errors.LoginRedirect(
        f"{endpoint}: expected JSON from {host}, got HTTP {response.status_code} "
        f"{kind} {title!r}. {cause}"
    )


def read_json(
    response: httpx.Response,
    *,
    host: str,
    endpoint: str,
    credentials: Credentials,
    run_id: str | None = None,
    what: str = "run",
    hint: str | None = None,
) -> Any:
    """The JSON body of a successful answer, or the matching kfp_nb error.

    ``hint``, when given, replaces the generic advice of an error. Every error
    raised here passes through :meth:`Credentials.scrub_error`.
    """
    try:
        return _read_json(
            response,
            host=host,
            endpoint=endpoint,
            credentials=credentials,
            run_id=run_id,
            what=what,
            hint=hint,
        )
    except errors.KFPError as exc:
        raise credentials.scrub_error(exc) from None


def _read_json(
    response: httpx.Response,
    *,
    host: str,
    endpoint: str,
    credentials: Credentials,
    run_id: str | None,
    what: str,
    hint: str | None,
) -> Any:
    status = response.status_code
    if 300 <= status < 400:
        _login_redirect(response, host=host, endpoint=endpoint)
    if (status < 300 or status == 401) and _is_html(response):
        error = _html_instead_of_json(response, host=host, endpoint=endpoint)
        # A page may echo the request (cookie included) back in its text.
        raise errors.LoginRedirect(credentials.redact(str(error)))
    if status >= 400:
        raise api_error(
            response,
            endpoint=endpoint,
            credentials=credentials,
            host=host,
            run_id=run_id,
            what=what,
            hint=hint,
        )
    try:
        return response.json() if response.content else {}
    except ValueError:
        kind = response.headers.get("content-type", "?")
        raise errors.ResponseFormatError(
            f"{endpoint}: HTTP {status} {kind} from {host} is not JSON: "
            f"{credentials.redact(_first_line(response.text))!r}. Check the host."
        ) from None


def _error_message(body: Any, text: str) -> tuple[int | None, str]:
    """``(grpc code, short message)`` from any error body shape.

    ``details[0].message`` is the short, user-facing text, except when it is
    just the status name (KFP's 500 answers say "Internal Server Error" there
    and put the real cause in the top-level ``message``).
    """
    if isinstance(body, dict):
        code = body.get("code") if isinstance(body.get("code"), int) else None
        details = body.get("details")
        short = None
        if isinstance(details, list) and details and isinstance(details[0], dict):
            short = details[0].get("message") or details[0].get("error_message")
        if short and not _GENERIC.fullmatch(str(short).strip()):
            return code, str(short)
        for key in ("message", "error_message", "error"):
            if body.get(key):
                return code, str(body[key])
        if short:
            return code, str(short)
    if "<" in text[:200]:
        return None, _html_text(text)
    return None, _first_line(text)


#: Messages that only repeat the status, with no cause.
_GENERIC = re.compile(
    r"(internal server error|internal error|unknown error|unknown|"
    r"bad request|not found|service unavailable)\.?",
    re.IGNORECASE,
)


def _error_class(status: int, code: int | None) -> type[errors.APIError]:
    if status == 400:
        return errors.FailedPrecondition if code == 9 else errors.InvalidArgument
    if status == 409:
        return errors.FailedPrecondition
    by_status = {
        401: errors.Unauthenticated,
        403: errors.PermissionDenied,
        404: errors.NotFound,
        501: errors.Unimplemented,
    }
    if status in by_status:
        return by_status[status]
    return errors.ServerError if status >= 500 else errors.APIError


def _hint(
    cls: type[errors.APIError],
    *,
    endpoint: str,
    status: int,
    message: str,
    json_body: bool,
    credentials: Credentials,
    run_id: str | None,
    what: str,
) -> str:
    if cls is errors.NotFound:
        # The gateway's own 404 for a path it has no route for is a bare
        # "Not Found"; a missing resource's message names the resource.
        if not json_body or message.strip().lower() == "not found":
            return (
                "The server does not expose the v2beta1 API at this address: "
                "check the host path (…/pipeline on Kubeflow) or the KFP version "
                "(the v2beta1 API needs KFP 2.0 or later)."
            )
        if run_id:
            return f"Check the {what} id {run_id!r} and the namespace."
        return "Check the id and the namespace."
    if cls is errors.Unauthenticated:
        return credentials.unauthenticated_hint()
    if cls is errors.PermissionDenied:
        return credentials.permission_hint()
    if "page token does not match" in message:
        return "Send the same filter and sort_by with the page token, or neither."
    if cls is errors.FailedPrecondition and run_id:
        return f"The {what}'s current state does not allow this; get_run({run_id!r})."
    if status in AMBIGUOUS_STATUSES and not endpoint.startswith("GET"):
        return (
            "A gateway gave up waiting for the API server, which may still have "
            "applied the request; it was not re-sent. Check the result before "
            "sending it again."
        )
    if status in (502, 503, 504):
        return "A gateway could not reach the API server; try again shortly."
    if cls is errors.Unimplemented:
        return "This server does not offer this endpoint or method."
    if cls is errors.ServerError and not json_body:
        return (
            "The answer is not the API's JSON, so a proxy or gateway in front "
            "of the API server probably failed; try again shortly, and check "
            "the API server and gateway logs if it persists."
        )
    return ""


def api_error(
    response: httpx.Response,
    *,
    endpoint: str,
    credentials: Credentials,
    host: str = "",
    run_id: str | None = None,
    what: str = "run",
    hint: str | None = None,
) -> errors.APIError:
    """An error response (JSON or not) → the matching APIError subclass."""
    text = response.text
    try:
        body: Any = json.loads(text) if text.strip() else None
    except ValueError:
        body = None
    code, message = _error_message(body, text)
    if not message:
        message = response.reason_phrase or f"HTTP {response.status_code}"
    cls = _error_class(response.status_code, code)
    hint = hint or _hint(
        cls,
        endpoint=endpoint,
        status=response.status_code,
        message=message,
        json_body=isinstance(body, dict),
        credentials=credentials,
        run_id=run_id,
        what=what,
    )
    return cls(
        credentials.redact(message[:_EXCERPT]),
        status=response.status_code,
        code=code,
        endpoint=endpoint,
        body=credentials.redact(body if body is not None else text[:_EXCERPT]),
        hint=hint,
        host=host,
    )
