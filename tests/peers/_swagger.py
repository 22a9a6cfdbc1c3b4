"""JSON Schema validators built from the vendored swagger 2 documents.

Swagger 2 definitions are JSON Schema draft 4 plus ``format`` names of its own.
Two tightenings make the check worth having, since grpc-gateway's swagger never
forbids extra keys:

- every object definition that lists ``properties`` gets
  ``additionalProperties: false`` (a camelCase or misspelled key fails), unless
  it declares ``additionalProperties`` itself (``protobufAny``, maps);
- formats are checked: ``date-time`` (RFC 3339 in UTC with ``Z``, fraction in
  groups of 3/6/9 digits as protojson writes it), ``int64``/``uint64`` (a JSON
  string of digits), ``int32`` (in range) and ``byte`` (standard padded base64).
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
from functools import cache
from typing import Any

import jsonschema

from tests._data import swagger

_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.(\d{3}|\d{6}|\d{9}))?Z$"
)
_INTEGER = re.compile(r"^-?\d+$")
_BASE64 = re.compile(
    r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
)

FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time")
def _date_time(value: object) -> bool:
    return not isinstance(value, str) or bool(_TIMESTAMP.match(value))


@FORMATS.checks("int64")
@FORMATS.checks("uint64")
def _int64(value: object) -> bool:
    # protojson writes 64-bit integers as strings; a JSON number is wrong.
    return isinstance(value, str) and bool(_INTEGER.match(value))


@FORMATS.checks("int32")
def _int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value < 2**31


@FORMATS.checks("byte", raises=(binascii.Error,))
def _byte(value: object) -> bool:
    if not isinstance(value, str) or not _BASE64.match(value):
        return False
    base64.b64decode(value, validate=True)
    return True


def _closed(node: Any) -> Any:
    """A copy where objects with ``properties`` reject keys they do not list."""
    if isinstance(node, dict):
        out = {k: _closed(v) for k, v in node.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_closed(v) for v in node]
    return node


@cache
def _document(name: str) -> dict[str, Any]:
    return _closed(copy.deepcopy(swagger(name)))


def validator(document: str, definition: str) -> jsonschema.Draft4Validator:
    """A validator for ``#/definitions/<definition>`` of a vendored swagger file."""
    doc = _document(document)
    if definition not in doc["definitions"]:
        raise KeyError(f"{definition} is not defined in {document}")
    schema = {"definitions": doc["definitions"], "$ref": f"#/definitions/{definition}"}
    return jsonschema.Draft4Validator(schema, format_checker=FORMATS)


def problems(document: str, definition: str, instance: Any) -> list[str]:
    """Every schema violation, as ``path: message`` lines (empty when valid)."""
    found = validator(document, definition).iter_errors(instance)
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in sorted(found, key=lambda e: list(map(str, e.absolute_path)))
    ]


def enums(document: str) -> dict[str, set[str]]:
    """Enum definition name → its allowed values."""
    return {
        name: set(d["enum"])
        for name, d in swagger(document)["definitions"].items()
        if "enum" in d
    }


def emitted_enums(runs: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Swagger enum name → values found in runs fetched with ``view=FULL``."""
    seen: dict[str, set[str]] = {}

    def add(enum: str, value: Any) -> None:
        if value is not None:
            seen.setdefault(enum, set()).add(value)

    for run in runs:
        add("v2beta1RuntimeState", run["state"])
        add("v2beta1RunStorageState", run["storage_state"])
        for entry in run.get("state_history", []):
            add("v2beta1RuntimeState", entry["state"])
        for task in run.get("tasks", []):
            add("PipelineTaskDetailTaskState", task.get("state"))
            add("PipelineTaskDetailTaskType", task.get("type"))
            for entry in task.get("state_history", []):
                add("PipelineTaskDetailTaskState", entry.get("state"))
            for pod in task.get("pods", []):
                add("PipelineTaskDetailTaskPodType", pod.get("type"))
            for io in (task["inputs"], task["outputs"]):
                for param in io.get("parameters", []):
                    add("v2beta1IOType", param.get("type"))
                for group in io.get("artifacts", []):
                    add("v2beta1IOType", group.get("type"))
                    for art in group.get("artifacts", []):
                        add("ArtifactArtifactType", art.get("type"))
    return seen
