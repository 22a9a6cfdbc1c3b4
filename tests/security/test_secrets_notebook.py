"""A notebook shows every panel and viewer with credentials in play; none leak.

One notebook, built here with nbformat, runs in a real kernel (nbclient) against
an embedded demo server (``KFP_HOST``). Its clients hold a token given as an
argument, a token read from ``$KF_PIPELINES_SA_TOKEN_PATH``, a token and cookie
given through ``headers=``, and session cookies as a dict and as a header. It
displays RunTable, RunView, every viewer kind of the demo data (as ``Artifact``
and as ``ArtifactViewer``), a comparison, frames, reprs and errors (a missing
run, a 401 from a server that echoes the credentials back, a refused
connection, an uncaught traceback), with DEBUG logging of httpx, httpcore and
kfp_nb on. The notebook is saved with its widget state; then neither a
credential, nor an 8-character prefix of one, nor its base64, may appear in:
the .ipynb, the widget state (also as each widget's own ``get_state()``), the
kernel's log file and process output, the server's log, the reprs and the
exception messages the notebook collected.

The 401 server records what it received: that is the proof the credentials were
really sent (a test that never used them would pass trivially otherwise).
"""

from __future__ import annotations

import base64
import json
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kfp_nb.server import launch

from ._scan import forms, leaks, texts_of

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

TOKEN_ARG = "kfpnbTOKENarg-9f8e7d6c5b4a39281706"
TOKEN_FILE = "kfpnbTOKENfile-0a1b2c3d4e5f60718293"
#: Written over the token file mid-notebook, as kubelet rotates projected tokens.
TOKEN_ROTATED = "kfpnbTOKENrot-fedcba9876543210abcd"
TOKEN_HEADER = "kfpnbTOKENhdr-5566778899aabbccddee"
COOKIES = {"oauth2_proxy": "CkValDict-5e4d3c2b1a0f9e8d", "authservice_session":
           "CkValSess-77aa88bb99cc00dd"}  # fmt: skip
COOKIE_HEADER_VALUE = "CkValHead-1234abcd5678efgh"
COOKIE_HEADER = f"authservice_session={COOKIE_HEADER_VALUE}; theme=dark"
COOKIE_IN_HEADERS = "CkValHdrs-0f1e2d3c4b5a6978"
SECRETS = (
    TOKEN_ARG, TOKEN_FILE, TOKEN_ROTATED, TOKEN_HEADER, *COOKIES.values(),
    COOKIE_HEADER_VALUE,
    COOKIE_IN_HEADERS,
)  # fmt: skip
#: The demo artifact shown for each viewer kind: (output key, edge-case run index).
VIEWER_KINDS = {
    "metrics": ("metrics", None),
    "confusion_matrix+roc": ("classification_metrics", None),
    "html": ("report", None),
    "markdown": ("summary", None),
    "table": ("big_table", 0),
    "image": ("loss_plot", None),
    "text": ("model", None),
    "binary": ("weights_blob", 0),
    "v1_ui_metadata": ("mlpipeline-ui-metadata", None),
}


class EchoingAuthServer:
    """Answers every request 401, quoting the credentials it got (as some proxies
    and misconfigured servers do), and records what it received."""

    def __init__(self, *, echo_header_base64: bool = False) -> None:
        self.seen: list[dict[str, str]] = []
        self.echo_header_base64 = echo_header_base64
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                auth = self.headers.get("Authorization", "")
                cookie = self.headers.get("Cookie", "")
                server.seen.append({"path": self.path, "auth": auth, "cookie": cookie})
                body = json.dumps(server.echo(auth, cookie)).encode()
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.send_header("WWW-Authenticate", 'Bearer error="invalid_token"')
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()

    def echo(self, auth: str, cookie: str) -> dict[str, Any]:
        """A KFP-shaped 401 body quoting the token whole, by prefix and in base64."""
        token = auth.partition(" ")[2]
        message = (
            f"Jwt verification fails: token {token[:12]}... is expired "
            f"(got header {auth!r}, cookie {cookie!r}, "
            f"token b64 {base64.b64encode(token.encode()).decode()})"
        )
        if self.echo_header_base64:
            message += f" header b64 {base64.b64encode(auth.encode()).decode()}"
        return {"error": message, "code": 16, "message": message, "details": []}

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()


def _viewer_targets(url: str) -> dict[str, list[str]]:
    # The browser tests' locator of demo artifacts (plain HTTP, no browser).
    from tests.browser._viewers_page import DemoArtifacts

    demo = DemoArtifacts(url)
    targets = {}
    for kind, (key, edge) in VIEWER_KINDS.items():
        run = demo.edge_runs[edge] if edge is not None else None
        targets[kind] = [*demo.find(key, run=run), key]
    targets["_compare"] = demo.training_runs(3)
    failed = [r["run_id"] for r in demo.runs if r["state"] == "FAILED"]
    targets["_failed"] = failed[:1]
    return targets


def _cells(targets: dict[str, list[str]], auth_url: str, dead_url: str) -> list[Any]:
    code = nbformat.v4.new_code_cell
    cells = [
        code(
            textwrap.dedent("""
            import json, logging, os, sys, time, traceback
            import kfp_nb
            from kfp_nb import Client
            from IPython.display import display

            fmt = logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s")
            handlers = [logging.StreamHandler(sys.stderr),
                        logging.FileHandler(os.environ["KFP_NB_TEST_LOG"])]
            for handler in handlers:
                handler.setFormatter(fmt)
                logging.getLogger().addHandler(handler)
            for name in ("", "httpx", "httpcore", "kfp_nb", "kfp_nb.widgets"):
                logging.getLogger(name).setLevel(logging.DEBUG)

            SEEN = {}
            PANELS = {}

            def keep(name, text):
                SEEN[name] = str(text)
                print(f"{name} => {text}")

            def settle(check, what, timeout=90):
                end = time.monotonic() + timeout
                while not check():
                    if time.monotonic() > end:
                        raise AssertionError(f"timed out waiting for {what}")
                    time.sleep(0.1)
        """)
        ),
        # Secrets come from the environment: the cell source is saved too.
        code(
            textwrap.dedent("""
            env = os.environ
            arg_client = Client(env["KFP_HOST"], token=env["KFP_NB_TEST_TOKEN"],
                                cookies=json.loads(env["KFP_NB_TEST_COOKIES"]))
            file_client = Client(cookies=env["KFP_NB_TEST_COOKIE_HEADER"])
            header_client = Client(headers={
                "Authorization": "Bearer " + env["KFP_NB_TEST_HEADER_TOKEN"],
                "Cookie": "proxy=" + env["KFP_NB_TEST_HEADER_COOKIE"]})
            for name, c in (("arg", arg_client), ("file", file_client),
                            ("headers", header_client)):
                keep(f"repr({name}_client)", repr(c))
                keep(f"healthz({name})", c.healthz())
            display(arg_client, file_client, header_client)
        """)
        ),
        code(
            textwrap.dedent(f"""
            FAILED = {targets["_failed"][0]!r}
            table = kfp_nb.RunTable(arg_client)
            PANELS["table"] = table
            display(table)
            settle(lambda: table.total and not table.loading
                   and table.loaded == table.total, "the run table")
            # What a click on a run name and on its artifact asks the kernel.
            table._on_message(table, {{"kind": "run_detail", "id": 1,
                                      "run_id": FAILED}}, []).result()
            keep("repr(table)", repr(table))
            table
        """)
        ),
        code(
            textwrap.dedent("""
            view = kfp_nb.RunView(file_client, FAILED)
            PANELS["view"] = view
            display(view)
            settle(lambda: view.run is not None, "the run view")
            keep("repr(view)", repr(view))
            header_view = kfp_nb.RunView(header_client, FAILED, polling=False)
            PANELS["header_view"] = header_view
            display(header_view)
            settle(lambda: header_view.run is not None, "the second run view")
        """)
        ),
        code(
            textwrap.dedent(f"""
            TARGETS = {
                json.dumps({k: v for k, v in targets.items() if not k.startswith("_")})
            }
            for kind, (run_id, task_id, key) in TARGETS.items():
                art = arg_client.artifact(run_id, task_id, key)
                display(art)
                viewer = kfp_nb.ArtifactViewer(art)
                PANELS["viewer " + kind] = viewer
                display(viewer)
                keep(f"repr(artifact {{kind}})", repr(art))
                keep(f"repr(viewer {{kind}})", repr(viewer))
                reply = table._on_message(table, {{"kind": "open_artifact", "id": 2,
                    "run_id": run_id, "task_id": task_id, "name": key}}, [])
                reply.result()
            display(file_client.artifact(run_id, task_id, key))
        """)
        ),
        code(
            textwrap.dedent(f"""
            comparison = kfp_nb.compare(arg_client, {targets["_compare"]!r})
            display(comparison)
            compare_view = kfp_nb.CompareView(comparison)
            PANELS["compare"] = compare_view
            display(compare_view)
            frame = comparison.to_frame()
            display(frame)
            keep("repr(comparison)", repr(comparison))
            keep("comparison frame", frame.to_string())
        """)
        ),
        code(
            textwrap.dedent("""
            runs = arg_client.runs()
            tasks = file_client.tasks(FAILED)
            artifacts = header_client.artifacts(FAILED)
            for name, df in (("runs", runs), ("tasks", tasks),
                             ("artifacts", artifacts)):
                display(df.head(20))
                keep(f"{name} frame", df.to_string())
                keep(f"{name} attrs", repr(df.attrs))
                keep(f"{name} html", df.head(50).to_html())
            runs.head(5)
        """)
        ),
        code(
            textwrap.dedent(f"""
            AUTH, DEAD = {auth_url!r}, {dead_url!r}
            calls = {{
                "not found": lambda: arg_client.get_run("no-such-run"),
                "401 token arg": lambda: Client(
                    AUTH, token=env["KFP_NB_TEST_TOKEN"],
                    cookies=json.loads(env["KFP_NB_TEST_COOKIES"])).list_runs(),
                "401 token file": lambda: Client(
                    AUTH, cookies=env["KFP_NB_TEST_COOKIE_HEADER"]).runs(),
                "401 headers": lambda: Client(AUTH, headers={{
                    "Authorization": "Bearer " + env["KFP_NB_TEST_HEADER_TOKEN"],
                    "Cookie": "proxy=" + env["KFP_NB_TEST_HEADER_COOKIE"]}}
                    ).get_run(FAILED),
                "401 artifact": lambda: Client(
                    AUTH, token=env["KFP_NB_TEST_TOKEN"]).artifact(
                        FAILED, "t", "model"),
                "refused": lambda: Client(
                    DEAD, token=env["KFP_NB_TEST_TOKEN"], retries=0).healthz(),
            }}
            for name, call in calls.items():
                try:
                    call()
                except Exception as exc:
                    keep(f"str({{name}})", str(exc))
                    keep(f"repr({{name}})", repr(exc))
                    keep(f"vars({{name}})", repr(vars(exc)))
                    keep(f"traceback({{name}})", traceback.format_exc())
                    cause = exc.__cause__ or exc.__context__
                    keep(f"cause({{name}})", repr(cause))
                else:
                    raise AssertionError(f"{{name}}: no error")
            bad = Client(AUTH, token=env["KFP_NB_TEST_TOKEN"],
                         cookies=json.loads(env["KFP_NB_TEST_COOKIES"]))
            bad_table = kfp_nb.RunTable(bad, polling=False)
            bad_view = kfp_nb.RunView(bad, FAILED, polling=False)
            PANELS["bad_table"], PANELS["bad_view"] = bad_table, bad_view
            display(bad_table, bad_view)
            settle(lambda: bad_table.error and bad_view.error, "the panels' errors")
            keep("bad_table.error", bad_table.error)
            keep("bad_view.error", bad_view.error)
            # The token file rotates (a new file renamed over it, as kubelet does):
            # the next request sends the new token, which must not leak either.
            rotating = Client(AUTH, cookies=env["KFP_NB_TEST_COOKIE_HEADER"])
            for step in ("before rotation", "after rotation"):
                if step == "after rotation":
                    path = env["KF_PIPELINES_SA_TOKEN_PATH"]
                    with open(path + ".new", "w") as fh:
                        fh.write(env["KFP_NB_TEST_ROTATED"] + "\\n")
                    os.replace(path + ".new", path)
                try:
                    rotating.list_runs()
                except Exception as exc:
                    keep(f"str({{step}})", str(exc))
                    keep(f"vars({{step}})", repr(vars(exc)))
                    keep(f"repr(rotating) {{step}}", repr(rotating))
        """)
        ),
        # Uncaught: the traceback itself is saved in the notebook.
        code(
            "Client(AUTH, token=env['KFP_NB_TEST_TOKEN'],\n"
            "       cookies=env['KFP_NB_TEST_COOKIE_HEADER']).list_runs()",
            metadata={"tags": ["raises-exception"]},
        ),
        code(
            textwrap.dedent("""
            import base64
            def plain(value):
                if isinstance(value, (bytes, bytearray, memoryview)):
                    return base64.b64encode(bytes(value)).decode()
                raise TypeError(type(value).__name__)
            states = {name: w.get_state() for name, w in PANELS.items()}
            with open(env["KFP_NB_TEST_SEEN"], "w") as fh:
                json.dump({"seen": SEEN, "states": states}, fh, default=plain)
            print(len(SEEN), "texts and", len(states), "panel states written")
        """)
        ),
    ]
    return cells


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Run the notebook once; hand every surface to scan to the tests."""
    folder = tmp_path_factory.mktemp("secrets")
    server = launch(db=str(folder / "demo.db"), demo=True, speed=20.0)
    auth = EchoingAuthServer()
    token_file = folder / "token"
    token_file.write_text(TOKEN_FILE + "\n")
    mp = pytest.MonkeyPatch()
    try:
        targets = _viewer_targets(server.url)
        env = {
            "KFP_HOST": server.url,
            "KF_PIPELINES_SA_TOKEN_PATH": str(token_file),
            "KFP_NB_TEST_TOKEN": TOKEN_ARG,
            "KFP_NB_TEST_COOKIES": json.dumps(COOKIES),
            "KFP_NB_TEST_COOKIE_HEADER": COOKIE_HEADER,
            "KFP_NB_TEST_HEADER_TOKEN": TOKEN_HEADER,
            "KFP_NB_TEST_HEADER_COOKIE": COOKIE_IN_HEADERS,
            "KFP_NB_TEST_ROTATED": TOKEN_ROTATED,
            "KFP_NB_TEST_LOG": str(folder / "kernel.log"),
            "KFP_NB_TEST_SEEN": str(folder / "seen.json"),
        }
        for key, value in env.items():
            mp.setenv(key, value)
        with _free_port_url() as dead_url:
            notebook = nbformat.v4.new_notebook()
            notebook.cells = _cells(targets, auth.url, dead_url)
            runner = nbclient.NotebookClient(
                notebook, timeout=300, kernel_name="python3",
                store_widget_state=True,
                resources={"metadata": {"path": str(folder)}},
            )  # fmt: skip
            runner.execute()
        path = folder / "secrets.ipynb"
        nbformat.write(notebook, path)
        server_log = Path(f"{server.db}.server.log")
        yield {
            "notebook": notebook,
            "ipynb": path.read_text(encoding="utf-8"),
            "kernel_log": (folder / "kernel.log").read_text(encoding="utf-8"),
            "seen": json.loads((folder / "seen.json").read_text(encoding="utf-8")),
            "auth_seen": list(auth.seen),
            "server_log_path": server_log,
        }
    finally:
        mp.undo()
        auth.close()
        server.stop()


class _free_port_url:
    """A loopback URL where nothing listens (the port is held, never listened on)."""

    def __enter__(self) -> str:
        import socket

        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def __exit__(self, *exc: object) -> None:
        self._sock.close()


def _assert_clean(where: str, text: str) -> None:
    found = leaks(where, text, SECRETS)
    assert not found, "credentials leaked:\n" + "\n".join(map(str, found[:20]))


# -- the credentials were really in play -------------------------------------------


def test_every_credential_reached_the_server_that_checks_them(executed) -> None:
    seen = executed["auth_seen"]
    auths = {s["auth"] for s in seen}
    cookies = " ".join(s["cookie"] for s in seen)
    for token in (TOKEN_ARG, TOKEN_FILE, TOKEN_ROTATED, TOKEN_HEADER):
        assert f"Bearer {token}" in auths, f"no request carried {token[:5]}..."
    for value in (*COOKIES.values(), COOKIE_HEADER_VALUE, COOKIE_IN_HEADERS):
        assert value in cookies


def test_the_notebook_showed_every_surface(executed) -> None:
    seen = executed["seen"]["seen"]
    states = executed["seen"]["states"]
    assert "token set" in seen["repr(arg_client)"]
    assert "KF_PIPELINES_SA_TOKEN_PATH" in seen["repr(file_client)"]
    assert "session cookie set" in seen["repr(headers_client)"]
    for kind in VIEWER_KINDS:
        assert f"repr(viewer {kind})" in seen
        assert states[f"viewer {kind}"]["spec"], kind
    for name in ("401 token arg", "401 token file", "401 headers", "401 artifact"):
        assert "401" in seen[f"str({name})"] or "uthent" in seen[f"str({name})"]
    for step in ("before rotation", "after rotation"):
        assert "KF_PIPELINES_SA_TOKEN_PATH" in seen[f"str({step})"], step
    assert (
        "refused" in seen["str(refused)"].lower()
        or "connect" in seen["str(refused)"].lower()
    )
    assert seen["bad_table.error"] and seen["bad_view.error"]
    nb = executed["notebook"]
    widgets = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]
    assert len(widgets["state"]) >= len(states)
    traceback = [
        o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"
    ]
    assert len(traceback) == 1 and traceback[0]["ename"] == "Unauthenticated"
    assert "kfp_nb" in executed["kernel_log"] and "httpx" in executed["kernel_log"]


# -- no surface holds a credential -------------------------------------------------


def test_no_credential_in_the_saved_notebook(executed) -> None:
    _assert_clean("secrets.ipynb", executed["ipynb"])


def test_no_credential_in_the_saved_widget_state(executed) -> None:
    widgets = executed["notebook"].metadata["widgets"]
    _assert_clean("widget state", texts_of(widgets))


def test_no_credential_in_any_panel_state(executed) -> None:
    for name, state in executed["seen"]["states"].items():
        _assert_clean(f"{name}.get_state()", texts_of(state))


def test_no_credential_in_reprs_or_error_messages(executed) -> None:
    for name, text in executed["seen"]["seen"].items():
        _assert_clean(name, text)


def test_no_credential_in_logs(executed, capfd) -> None:
    _assert_clean("kernel log file", executed["kernel_log"])
    streams = [
        o.get("text", "")
        for c in executed["notebook"].cells
        for o in c.get("outputs", [])
        if o.output_type == "stream"
    ]
    assert any("DEBUG" in s for s in streams), "DEBUG logging did not reach stderr"
    _assert_clean("kernel stdout/stderr", "\n".join(streams))
    _assert_clean("server log", executed["server_log_path"].read_text("utf-8"))


def test_kernel_process_output_holds_no_credential(tmp_path, monkeypatch, capfd):
    # The kernel's own process streams (outside any cell): a short second run
    # whose output is captured at the file-descriptor level.
    monkeypatch.setenv("KFP_NB_TEST_TOKEN", TOKEN_ARG)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            textwrap.dedent("""
        import logging, os, sys
        logging.basicConfig(level=logging.DEBUG, stream=sys.__stderr__)
        from kfp_nb import Client
        c = Client("http://127.0.0.1:9", token=os.environ["KFP_NB_TEST_TOKEN"],
                   retries=0)
        try:
            c.healthz()
        except Exception as exc:
            print(repr(exc), file=sys.__stderr__)
            print(repr(c), file=sys.__stdout__)
    """)
        )
    ]
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    out, err = capfd.readouterr()
    assert "Client host=" in out, "the kernel's process output was not captured"
    _assert_clean("kernel process stdout", out)
    _assert_clean("kernel process stderr", err)


# -- the scanner can fail ------------------------------------------------------------


@pytest.mark.parametrize("secret", [TOKEN_ARG, COOKIE_HEADER_VALUE])
def test_scanner_finds_a_planted_secret_in_every_form(executed, secret) -> None:
    clean = executed["ipynb"]
    planted = {
        "value": f"x{secret}y",
        "prefix of 8": f"token {secret[:8]}... expired",
        "base64 at offset 0": base64.b64encode(secret.encode()).decode(),
        "base64 of Bearer": base64.b64encode(f"Bearer {secret}".encode()).decode(),
        "base64 of user:": base64.urlsafe_b64encode(f"u:{secret}".encode()).decode(),
        "base64 blob": base64.b64encode(b"\x89PNG" + secret.encode()).decode(),
    }
    for label, text in planted.items():
        doc = json.loads(clean)
        doc["metadata"]["widgets"][
            "application/vnd.jupyter.widget-state+json"
        ]["state"]["planted"] = {"state": {"value": text}}  # fmt: skip
        found = leaks("planted", json.dumps(doc), [secret])
        assert found, f"the scanner missed the secret planted as {label}"
    assert set(forms(secret)) >= {"value", "prefix of 8", "base64 #0"}


def test_echoed_base64_of_the_whole_authorization_header_is_masked() -> None:
    from kfp_nb import Client, Unauthenticated

    auth = EchoingAuthServer(echo_header_base64=True)
    try:
        with (
            Client(auth.url, token=TOKEN_ARG, retries=0) as client,
            pytest.raises(Unauthenticated) as caught,
        ):
            client.list_runs()
    finally:
        auth.close()
    assert auth.seen and auth.seen[0]["auth"] == f"Bearer {TOKEN_ARG}"
    exc = caught.value
    _assert_clean("Unauthenticated", f"{exc}\n{exc!r}\n{vars(exc)!r}")
