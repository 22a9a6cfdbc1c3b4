"""Hatch build hook: bundle the front end (js/) into kfp_nb/static/ when it is stale.

Set ``KFP_NB_SKIP_JS=1`` to skip (the Python parts then install without the panels'
front end; the widgets say so in the notebook instead of failing).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

_BUNDLE = Path("kfp_nb") / "static" / "widget.js"


def _newest(folder: Path) -> float:
    return max((p.stat().st_mtime for p in folder.rglob("*") if p.is_file()), default=0)


class FrontEndBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        build_data.setdefault("artifacts", []).append("kfp_nb/static/*")
        if os.environ.get("KFP_NB_SKIP_JS"):
            return
        root = Path(self.root)
        js, bundle = root / "js", root / _BUNDLE
        if not js.is_dir():
            return  # building from an sdist that already carries the bundle
        sources = max(_newest(js / "src"), (js / "package-lock.json").stat().st_mtime)
        if bundle.exists() and bundle.stat().st_mtime >= sources:
            return
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError(
                "building kfp_nb's front end needs npm (Node.js >= 18); install it, "
                "or set KFP_NB_SKIP_JS=1 to install without the notebook panels"
            )
        if not (js / "node_modules").is_dir():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=js, check=True)
        subprocess.run([npm, "run", "build"], cwd=js, check=True)
