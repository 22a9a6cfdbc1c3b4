"""The ``kfp-nb`` command: ``serve`` (the embedded server) and ``demo`` (+ JupyterLab)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence

__all__ = ["build_parser", "main"]


class _DefaultDb(str):
    """The default ``--db``, told apart from the same path given explicitly."""


def _add_serve(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="run the embedded KFP-compatible API server",
        description="Serve the KFP v2beta1 RunService API over a SQLite file.",
    )
    p.add_argument("--host", default="127.0.0.1", help="bind address (loopback)")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument(
        "--db", default=_DefaultDb("kfp-nb.db"),
        help="SQLite file (created if missing; default kfp-nb.db, or a temporary "
        "file with --from-snapshot)",
    )  # fmt: skip
    p.add_argument("--demo", action="store_true", help="seed demo data (idempotent)")
    p.add_argument(
        "--from-snapshot", metavar="PATH", default=None,
        help="serve a snapshot written by Client.snapshot(); its runs stay as "
        "captured (frozen) and need a fresh --db",
    )  # fmt: skip
    p.add_argument(
        "--speed", type=float, default=1.0,
        help="simulation speed factor (20 = runs progress 20x faster)",
    )  # fmt: skip
    p.add_argument(
        "--terminate-final",
        choices=("FAILED", "CANCELED"),
        default="FAILED",
        help="state a terminated run ends in (FAILED, as KFP on Argo reports it)",
    )
    p.add_argument(
        "--max-body-bytes", type=int, default=8 * 1024 * 1024,
        help="largest request body accepted (default 8 MiB); larger ones get 413",
    )  # fmt: skip
    p.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from kfp_nb.server import create_app

    if args.speed <= 0:
        print("kfp-nb serve: --speed must be greater than 0", file=sys.stderr)
        return 2
    if args.max_body_bytes <= 0:
        print("kfp-nb serve: --max-body-bytes must be greater than 0", file=sys.stderr)
        return 2
    if args.demo and args.from_snapshot:
        print("kfp-nb serve: --demo and --from-snapshot cannot be combined",
              file=sys.stderr)  # fmt: skip
        return 2
    args.db_is_temporary = isinstance(args.db, _DefaultDb) and bool(args.from_snapshot)
    if args.db_is_temporary:
        args.db = _temporary_db()
    folder = os.path.dirname(os.path.abspath(args.db))
    if not os.path.isdir(folder):
        print(
            f"kfp-nb serve: the folder of --db {args.db!r} does not exist; create it "
            "or choose another path",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    from kfp_nb._snapshot import SnapshotError

    try:
        app = create_app(
            args.db,
            demo=args.demo,
            speed=args.speed,
            terminate_final=args.terminate_final,
            max_body_bytes=args.max_body_bytes,
            from_snapshot=args.from_snapshot,
        )
    except SnapshotError as exc:
        print(f"kfp-nb serve: cannot serve the snapshot: {exc}", file=sys.stderr)
        return 2
    if args.from_snapshot:
        print(f"kfp-nb: replaying snapshot {args.from_snapshot} (runs frozen as "
              "captured)", flush=True)  # fmt: skip
    print(f"kfp-nb: serving http://{args.host}:{args.port} (db {args.db})", flush=True)
    if args.db_is_temporary:
        # uvicorn re-raises SIGTERM after its shutdown; exiting through Python
        # instead lets the temporary database be removed.
        signal.signal(signal.SIGTERM, _exit_quietly)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _exit_quietly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _temporary_db() -> str:
    """A database file in a new temporary folder, removed when the server exits."""
    import atexit
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="kfp-nb-replay-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return os.path.join(folder, "replay.db")


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="embedded server with demo data, and JupyterLab on the notebooks",
        description=(
            "Start the embedded server with demo data (unless a KFP API already "
            "answers at --host:--port) and JupyterLab on --notebooks. Ctrl-C stops both."
        ),
    )
    p.add_argument("--host", default="127.0.0.1", help="API bind address (loopback)")
    p.add_argument("--port", type=int, default=8080, help="API port")
    p.add_argument("--lab-port", type=int, default=8888, help="JupyterLab port")
    p.add_argument("--db", default=".demo/kfp.db", help="SQLite file for the demo")
    p.add_argument("--speed", type=float, default=1.0, help="simulation speed factor")
    p.add_argument("--notebooks", default="notebooks", help="folder JupyterLab opens")
    p.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    from kfp_nb._lab import run_demo

    return run_demo(
        host=args.host,
        port=args.port,
        lab_port=args.lab_port,
        db=args.db,
        speed=args.speed,
        notebooks=args.notebooks,
    )


#: Subcommand builders, in help order.
SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_serve,
    _add_demo,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kfp-nb", description="Kubeflow Pipelines runs in Jupyter notebooks."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)
