"""``create_app`` in-process, the CLI parser, and ``launch`` failures."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from kfp_nb import cli
from kfp_nb.server import create_app, launch


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
        with pytest.raises(RuntimeError, match="did not become healthy"):
            launch(db=str(tmp_path / "k.db"), port=port, timeout=15)
