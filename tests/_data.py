"""Test inputs kept in the repository: field cases, API samples and schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"
CASES = DATA / "cases"
API = DATA / "kfp-api"


def case(name: str) -> dict[str, Any]:
    """A field case by file stem or numeric prefix, e.g. ``case("27")``."""
    matches = sorted(CASES.glob(f"{name}*.json"))
    if not matches:
        raise FileNotFoundError(f"no field case {name!r} in {CASES}")
    return json.loads(matches[0].read_text())


def sample(name: str) -> dict[str, Any]:
    return json.loads((API / "samples" / name).read_text())


def swagger(name: str) -> dict[str, Any]:
    return json.loads((API / name).read_text())
