"""Stand-in for Jupyter in the Binder replay: run notebooks against ``$KFP_HOST``.

``binder/start`` hands over to this script the way it hands over to Jupyter on
Binder. It executes each notebook top to bottom with nbclient in this Python's
kernel, writes a JSON summary to ``--out`` and exits 0 when every notebook ran.
It only imports what the Binder image installs (no pytest, no test helpers).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def _run(path: Path) -> dict:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(path, as_version=4)
    runner = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        runner.execute()
    except CellExecutionError as exc:
        return {"notebook": path.name, "ok": False, "error": str(exc)[-2000:]}
    code = [c for c in notebook.cells if c.cell_type == "code"]
    last = "".join(
        o.get("text", "")
        for o in code[-1].get("outputs", [])
        if o.get("name") == "stdout"
    )
    return {"notebook": path.name, "ok": True, "cells": len(code), "last": last}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True, help="where to write the JSON summary")
    parser.add_argument("notebooks", nargs="+")
    args = parser.parse_args()

    import kfp_nb

    package = Path(kfp_nb.__file__).parent
    summary = {
        "kfp_host": os.environ.get("KFP_HOST"),
        "python": sys.executable,
        "kfp_nb": str(package),
        "bundle": (package / "static" / "widget.js").is_file(),
        "results": [_run(Path(p).resolve()) for p in args.notebooks],
    }
    Path(args.out).write_text(json.dumps(summary, indent=1))
    return 0 if all(r["ok"] for r in summary["results"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
