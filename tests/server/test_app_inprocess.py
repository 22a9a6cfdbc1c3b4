"""``create_app`` in-process, the CLI parser, and ``launch`` failures."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from kfp_nb import cli
from kfp_nb.server import create_app, launch
from tests._serve import serve


def test_create_app_in_process(tmp_path, training_spec):
    app = create_app(str(tmp_path / "inproc.db"), speed=200.0)

    async def exercise() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://x") as http:
            health = await http.get("/apis/v2beta1/healthz")
            assert health.json()["multi_user"] is False
            body = {"display_name": "in", "pipeline_spec": training_spec}
            run = (await http.post("/apis/v2beta1/runs", json=body)).json()
            assert run["state"] == "PENDING"
            listed = (await http.get("/apis/v2beta1/runs")).json()
            assert [r["run_id"] for r in listed["runs"]] == [run["run_id"]]

    try:
        asyncio.run(exercise())
    finally:
        app.state.store.close()
    with pytest.raises(ValueError, match="speed must be > 0"):
        create_app(str(tmp_path / "x.db"), speed=0)
    with pytest.raises(ValueError, match="FAILED or CANCELED"):
        create_app(str(tmp_path / "x.db"), terminate_final="DONE")


def test_cli_parser_has_serve_and_refuses_bad_input(capsys, tmp_path):
    args = cli.build_parser().parse_args(["serve", "--port", "9", "--demo"])
    assert (args.command, args.port, args.demo, args.host) == (
        "serve",
        9,
        True,
        "127.0.0.1",
    )
    assert args.speed == 1.0 and args.db and args.terminate_final == "FAILED"
    assert cli.main(["serve", "--speed", "0"]) == 2
    assert "--speed must be greater than 0" in capsys.readouterr().err
    assert cli.main(["serve", "--db", str(tmp_path / "nope" / "k.db")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert cli.main([]) == 2


def test_launch_errors_name_the_cause(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        launch(db=str(tmp_path / "no-such-dir" / "k.db"))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(RuntimeError, match=f"port {port} is in use"):
            launch(db=str(tmp_path / "k.db"), port=port, timeout=15)


def test_unexpected_errors_anywhere_answer_in_the_gateway_shape(tmp_path, monkeypatch):
    from kfp_nb.server import _app

    def broken(*args, **kwargs):
        raise RuntimeError("simulated defect")

    monkeypatch.setattr(_app.Api, "healthz", broken)  # inside a handler
    app = create_app(str(tmp_path / "crash.db"), speed=200.0)
    with serve(app) as root:
        url = f"{root}/apis/v2beta1"
        inside = httpx.get(f"{url}/healthz")
        monkeypatch.setattr(_app, "_read_body", broken)  # before any handler
        outside = httpx.post(f"{url}/runs", json={"display_name": "x"})
    for resp in (inside, outside):
        assert resp.status_code == 500
        assert resp.headers["content-type"].startswith("application/json")
        body = resp.json()
        assert body["code"] == 13 and "simulated defect" in body["message"]
        assert body["details"][0]["message"] == "Internal Server Error"


def test_launch_truncates_its_log_and_says_why_the_child_exited(tmp_path):
    db = tmp_path / "a-folder.db"
    db.mkdir()  # sqlite cannot open a folder, so the child exits at once
    log = tmp_path / "a-folder.db.server.log"
    log.write_text("STALE line from an older launch\n")
    with pytest.raises(RuntimeError) as info:
        launch(db=str(db), timeout=30)
    text = str(info.value)
    assert "exited with code" in text and "STALE" not in text
    assert "STALE" not in log.read_text()


def test_launch_on_a_port_another_server_answers_fails_fast(server, tmp_path):
    with pytest.raises(RuntimeError, match=f"port {server.port} is in use"):
        launch(db=str(tmp_path / "second.db"), port=server.port, timeout=30)
    assert httpx.get(f"{server.url}/apis/v2beta1/healthz").status_code == 200


def test_healthz_names_the_embedded_server(server):
    import kfp_nb

    health = httpx.get(f"{server.url}/apis/v2beta1/healthz").json()
    assert health["tag_name"] == f"kfp-nb-embedded/{kfp_nb.__version__}"
    assert isinstance(health["commit_sha"], str) and health["commit_sha"]


def test_cli_max_body_bytes(capsys):
    args = cli.build_parser().parse_args(["serve", "--max-body-bytes", "1024"])
    assert args.max_body_bytes == 1024
    default = cli.build_parser().parse_args(["serve"])
    assert default.max_body_bytes == 8 * 1024 * 1024
    assert cli.main(["serve", "--max-body-bytes", "0"]) == 2
    assert "--max-body-bytes must be greater than 0" in capsys.readouterr().err
