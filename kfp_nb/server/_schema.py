"""Request JSON checks the real gateway's protojson decoder makes, and a few more.

``decode_json`` turns request text into Python values or a gateway 400 (code 3):
bad JSON, ``NaN``/``Infinity`` literals, nesting deeper than ``MAX_DEPTH`` and lone
UTF-16 surrogates (``"\\ud800"``, which cannot be stored as UTF-8) are refused
before any handler sees the body. ``check`` walks a decoded message against a
small type schema (strings, enums, int32/int64 with range checks, timestamps,
Structs, lists, maps, nested messages), so a wrong JSON type answers 400 naming
the field and the type expected instead of failing deep in storage.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from .. import _states
from .._models import parse_timestamp
from ._rules import RpcError, gateway_error

__all__ = [
    "MAX_DEPTH",
    "Msg",
    "check",
    "decode_json",
    "json_kind",
    "to_int",
]

#: Deepest JSON nesting accepted in a body or filter (pipeline specs need ~15).
MAX_DEPTH = 100

INT_RANGES = {"int32": 31, "int64": 63}
_INT_TEXT = re.compile(r"^-?[0-9]+$")


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (use a number or a string)")


def json_kind(value: Any) -> str:
    """JSON type name of a decoded value, for error texts."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def decode_json(raw: bytes | str, *, what: str) -> Any:
    """Request text → value; any defect → gateway 400 code 3 naming ``what``."""
    try:
        value = json.loads(raw, parse_constant=_no_constants)
    except RecursionError:
        raise _too_deep(what) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise gateway_error(3, f"proto: syntax error in {what}: {exc}") from None
    _scan(value, what)
    return value


def _too_deep(what: str) -> RpcError:
    return gateway_error(
        3,
        f"proto: {what} is nested more than {MAX_DEPTH} levels deep; flatten it",
    )


def _bad_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _scan(value: Any, what: str) -> None:
    """Depth and lone-surrogate check, iterative so no input can exhaust the stack."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _bad_text(item):
                raise gateway_error(
                    3,
                    f"proto: {what} holds a string with a lone UTF-16 surrogate "
                    "(e.g. \\ud800), which is not valid Unicode; send UTF-8 text",
                )
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth > MAX_DEPTH:
            raise _too_deep(what)
        if isinstance(item, dict):
            for key, sub in item.items():
                stack.append((key, depth))
                stack.append((sub, depth + 1))
        else:
            stack.extend((sub, depth + 1) for sub in item)


def to_int(value: Any, kind: str) -> int:
    """A JSON int32/int64 (number or decimal string) → int, else Type/ValueError."""
    bits = INT_RANGES[kind]
    if isinstance(value, bool):
        raise TypeError(f"expected an {kind}, got a boolean")
    if isinstance(value, str):
        if not _INT_TEXT.match(value.strip()):
            raise ValueError(f"expected an {kind}, got the string {value[:40]!r}")
        number = int(value.strip())
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise ValueError(f"expected an {kind}, got {value!r}")
        number = int(value)
    else:
        raise TypeError(f"expected an {kind}, got {json_kind(value)}")
    if not -(2**bits) <= number < 2**bits:
        raise ValueError(
            f"{number} is out of the {kind} range [{-(2**bits)}, {2**bits - 1}]"
        )
    return number


# -- schemas ------------------------------------------------------------------

STRING, ENUM, TIMESTAMP, BOOL, STRUCT, VALUE = (
    "string", "enum", "timestamp", "bool", "object", "value",
)  # fmt: skip
INT32, INT64, DOUBLE = "int32", "int64", "double"


@dataclass(frozen=True)
class Msg:
    """A message type: field name → type (a name above, a Msg, or a container)."""

    name: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Enum:
    """An enum: a name, or its number (the index in ``names``, proto order)."""

    name: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class ListOf:
    item: Any


@dataclass(frozen=True)
class MapOf:
    item: Any


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _fail(path: str, expected: str, value: Any, why: str = "") -> RpcError:
    got = why or f"got {json_kind(value)}"
    return gateway_error(
        3, f'proto: invalid value for {expected} field "{path}": {got}; '
        f"send {_expected_text(expected)}",
    )  # fmt: skip


def _expected_text(expected: str) -> str:
    return {
        STRING: "a JSON string",
        ENUM: "an enum name (string) or number",
        TIMESTAMP: 'an RFC 3339 string such as "2024-01-02T03:04:05Z"',
        BOOL: "true or false",
        STRUCT: "a JSON object",
        INT32: "an integer (number or decimal string) within int32",
        INT64: "an integer (number or decimal string) within int64",
        "array": "a JSON array",
        "message": "a JSON object",
        DOUBLE: "a JSON number",
    }.get(expected, "an enum name (string) or number")


def check(value: Any, schema: Any, path: str) -> None:
    """Raise a gateway 400 when ``value`` does not fit ``schema`` (null fits all)."""
    if value is None or schema is VALUE:
        return
    if isinstance(schema, Msg):
        if not isinstance(value, dict):
            raise _fail(path, "message", value)
        for key, sub in value.items():
            name = key if key in schema.fields else _snake(key)
            if name not in schema.fields and schema is not ANY:
                # protojson refuses them at any depth; an Any carries its own
                # type's fields beside "@type".
                where = f" in {path}" if path else ""
                raise gateway_error(3, f'proto: unknown field "{key}"{where}')
            if name in schema.fields:
                check(sub, schema.fields[name], f"{path}.{name}" if path else name)
                if isinstance(schema.fields[name], Enum) and isinstance(
                    sub, (int, float)
                ):
                    # Stored and echoed by name, as protojson writes a known value.
                    value[key] = schema.fields[name].names[to_int(sub, INT32)]
        return
    if isinstance(schema, ListOf):
        if not isinstance(value, list):
            raise _fail(path, "array", value)
        for i, item in enumerate(value):
            _not_null(item, schema.item, f"{path}[{i}]")
            check(item, schema.item, f"{path}[{i}]")
        return
    if isinstance(schema, MapOf):
        if not isinstance(value, dict):
            raise _fail(path, "message", value)
        for key, item in value.items():
            _not_null(item, schema.item, f"{path}[{key!r}]")
            check(item, schema.item, f"{path}[{key!r}]")
        return
    if isinstance(schema, Enum):
        _check_enum(value, schema, path)
        return
    _check_scalar(value, schema, path)


def _not_null(item: Any, schema: Any, path: str) -> None:
    # null means "not set" for a field, but a list or map entry must be a value.
    if item is None and schema is not VALUE:
        raise gateway_error(
            3, f'proto: invalid value for the entry "{path}": got null; send a '
            "value or leave the entry out",
        )  # fmt: skip


def _check_enum(value: Any, schema: Enum, path: str) -> None:
    if isinstance(value, str):
        if value not in schema.names:
            names = ", ".join(sorted(schema.names))
            raise _fail(path, f"enum {schema.name}", value,
                        f"{value[:40]!r} is not one of {names}")  # fmt: skip
        return
    try:
        number = to_int(value, INT32)
    except (TypeError, ValueError) as exc:
        raise _fail(path, f"enum {schema.name}", value, str(exc)) from None
    # Every enum here is numbered 0..n-1. protojson would keep an unknown number;
    # this server refuses it, as it could not write it back as a name.
    if not 0 <= number < len(schema.names):
        raise _fail(path, f"enum {schema.name}", value,
                    f"{number} is not a {schema.name} number "
                    f"(0 to {len(schema.names) - 1})")  # fmt: skip


#: protojson's Timestamp: full RFC 3339 with a zone; "" and zone-less text fail.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})"
)


_DOUBLE_TEXT = re.compile(
    r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|NaN|-?Infinity"
)


def _check_scalar(value: Any, schema: str, path: str) -> None:
    if schema == TIMESTAMP and isinstance(value, str):
        try:
            if not _RFC3339.fullmatch(value):
                raise ValueError(f"not an RFC 3339 timestamp with a zone: {value!r}")
            parse_timestamp(value)
        except (ValueError, OverflowError) as exc:
            raise _fail(path, schema, value, str(exc)[:200]) from None
        return
    if schema in (STRING, TIMESTAMP):
        ok = isinstance(value, str)
    elif schema == ENUM:
        ok = isinstance(value, str) or (
            isinstance(value, int) and not isinstance(value, bool)
        )
    elif schema == DOUBLE:
        # protojson also reads a double from a decimal string or "NaN"/"Infinity".
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool)) or (
            isinstance(value, str) and bool(_DOUBLE_TEXT.fullmatch(value))
        )
    elif schema == BOOL:
        ok = isinstance(value, bool)
    elif schema == STRUCT:
        ok = isinstance(value, dict)
    elif schema in INT_RANGES:
        try:
            to_int(value, schema)
        except (TypeError, ValueError) as exc:
            raise _fail(path, schema, value, str(exc)) from None
        return
    else:  # pragma: no cover - a schema typo
        raise AssertionError(f"unknown schema type {schema!r}")
    if not ok:
        raise _fail(path, schema, value)


def _by_number(numbers: dict[int, str]) -> tuple[str, ...]:
    return tuple(numbers[n] for n in sorted(numbers))


RUN_STATE = Enum("RuntimeState", _by_number(_states.RUN_STATE_NUMBERS))
STORAGE_STATE = Enum("StorageState", _by_number(_states.STORAGE_STATE_NUMBERS))
TASK_STATE = Enum("TaskState", _by_number(_states.TASK_STATE_NUMBERS))
TASK_TYPE = Enum(
    "TaskType",
    ("ROOT", "RUNTIME", "CONDITION_BRANCH", "CONDITION", "LOOP",
     "EXIT_HANDLER", "IMPORTER", "DAG"),
)  # fmt: skip
POD_TYPE = Enum("TaskPodType", ("UNSPECIFIED", "DRIVER", "EXECUTOR"))
IO_TYPE = Enum(
    "IOType",
    (
        "UNSPECIFIED", "COMPONENT_DEFAULT_INPUT", "TASK_OUTPUT_INPUT",
        "COMPONENT_INPUT", "RUNTIME_VALUE_INPUT", "COLLECTED_INPUTS",
        "ITERATOR_INPUT", "ITERATOR_INPUT_RAW", "ITERATOR_OUTPUT", "OUTPUT",
        "ONE_OF_OUTPUT", "TASK_FINAL_STATUS_OUTPUT",
    ),
)  # fmt: skip
ARTIFACT_TYPE = Enum(
    "ArtifactType",
    (
        "TYPE_UNSPECIFIED", "Artifact", "Model", "Dataset", "HTML", "Markdown",
        "Metric", "ClassificationMetric", "SlicedClassificationMetric",
    ),
)  # fmt: skip

ANY = Msg("Any", {"@type": STRING})
STATUS = Msg("Status", {"code": INT32, "message": STRING, "details": ListOf(ANY)})
REFERENCE = Msg(
    "PipelineVersionReference", {"pipeline_id": STRING, "pipeline_version_id": STRING}
)
PRODUCER = Msg("IOProducer", {"task_name": STRING, "iteration": INT64})
ARTIFACT = Msg(
    "Artifact",
    {
        "artifact_id": STRING, "name": STRING, "description": STRING,
        "type": ARTIFACT_TYPE, "number_value": DOUBLE,
        "uri": STRING, "metadata": STRUCT, "created_at": TIMESTAMP,
        "namespace": STRING,
    },
)  # fmt: skip
IO_PARAMETER = Msg(
    "IOParameter",
    {"value": VALUE, "type": IO_TYPE, "parameter_key": STRING, "producer": PRODUCER},
)
IO_ARTIFACT = Msg(
    "IOArtifact",
    {
        "artifacts": ListOf(ARTIFACT),
        "type": IO_TYPE,
        "artifact_key": STRING,
        "producer": PRODUCER,
    },
)
TASK_IO = Msg(
    "TaskIO", {"parameters": ListOf(IO_PARAMETER), "artifacts": ListOf(IO_ARTIFACT)}
)
TASK = Msg(
    "PipelineTaskDetail",
    {
        "name": STRING, "display_name": STRING, "task_id": STRING, "run_id": STRING,
        "pods": ListOf(
            Msg("TaskPod", {"name": STRING, "uid": STRING, "type": POD_TYPE})
        ),
        "cache_fingerprint": STRING, "create_time": TIMESTAMP,
        "end_time": TIMESTAMP, "state": TASK_STATE,
        "status_metadata": Msg(
            "StatusMetadata", {"message": STRING, "custom_properties": STRUCT}
        ),
        "state_history": ListOf(
            Msg("TaskStatus",
                {"update_time": TIMESTAMP, "state": TASK_STATE, "error": STATUS})
        ),
        "type": TASK_TYPE,
        "type_attributes": Msg(
            "TypeAttributes",
            {"iteration_index": INT64, "iteration_count": INT64,
             "download_to_workspace": BOOL},
        ),
        "error": STATUS, "parent_task_id": STRING,
        "child_tasks": ListOf(
            Msg("ChildTask", {"task_id": STRING, "name": STRING, "pod_name": STRING})
        ),
        "inputs": TASK_IO, "outputs": TASK_IO, "scope_path": STRING,
    },
)  # fmt: skip
RUN = Msg(
    "Run",
    {
        "experiment_id": STRING, "run_id": STRING, "display_name": STRING,
        "storage_state": STORAGE_STATE, "description": STRING,
        "pipeline_version_id": STRING,
        "pipeline_spec": STRUCT, "pipeline_version_reference": REFERENCE,
        "pipeline_reference": REFERENCE,
        "runtime_config": Msg(
            "RuntimeConfig", {"parameters": MapOf(VALUE), "pipeline_root": STRING}
        ),
        "service_account": STRING, "created_at": TIMESTAMP,
        "scheduled_at": TIMESTAMP, "finished_at": TIMESTAMP, "state": RUN_STATE,
        "error": STATUS, "run_details": Msg(
            "RunDetails",
            {"pipeline_context_id": INT64, "pipeline_run_context_id": INT64,
             "task_details": ListOf(TASK)},
        ),
        "recurring_run_id": STRING,
        "state_history": ListOf(
            Msg("RuntimeStatus",
                {"update_time": TIMESTAMP, "state": RUN_STATE, "error": STATUS})
        ),
        "plugins_input": STRUCT, "plugins_output": STRUCT, "task_count": INT32,
        "tasks": ListOf(TASK),
    },
)  # fmt: skip
EXPERIMENT = Msg(
    "Experiment",
    {
        "experiment_id": STRING, "display_name": STRING, "description": STRING,
        "created_at": TIMESTAMP, "namespace": STRING,
        "storage_state": STORAGE_STATE,
        "last_run_created_at": TIMESTAMP,
    },
)  # fmt: skip

#: Column limits of KFP's ``validation/length.go`` that SEMANTICS.md §3.1 lists;
#: the real server answers 500 (code 13) past them, and so does this one.
LENGTH_LIMITS = {
    "Run": {"run_id": 191, "experiment_id": 64},
    "Experiment": {"experiment_id": 64, "namespace": 63},
}


def over_long(body: dict[str, Any], message: str) -> tuple[str, int] | None:
    """The first (field, limit) whose value is longer than its column allows."""
    for name, limit in LENGTH_LIMITS.get(message, {}).items():
        value = body.get(name)
        if isinstance(value, str) and len(value) > limit:
            return name, limit
    return None
