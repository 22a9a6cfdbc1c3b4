"""List options (page size, page token, sort_by/order_by, filter) → SQL.

Follows SEMANTICS.md §5–§7: default page size 20, cap 200; keyset page tokens
(standard base64 of JSON) bound to the sort and the filter; ``field [asc|desc]``
sorting with ties broken by the id in the same direction; filters as JSON
``Filter`` messages, percent-decoded once more, operations by name or number,
camelCase or snake_case value keys. Text columns are declared ``COLLATE NOCASE``
in the schema, so matching is case-insensitive like MySQL's default collation.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from .._models import parse_timestamp
from ._rules import RpcError, invalid
from ._schema import decode_json, json_kind, to_int

__all__ = ["LISTABLES", "ListQuery", "Listable", "build_list_query", "make_token"]

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 200

OPERATIONS = {
    "EQUALS": 1,
    "NOT_EQUALS": 2,
    "GREATER_THAN": 3,
    "GREATER_THAN_EQUALS": 5,
    "LESS_THAN": 6,
    "LESS_THAN_EQUALS": 7,
    "IN": 8,
    "IS_SUBSTRING": 9,
}
_OP_NAMES = {v: k for k, v in OPERATIONS.items()}
_SQL_OPS = {1: "=", 2: "<>", 3: ">", 5: ">=", 6: "<", 7: "<="}

_SCALARS = {
    "string_value": "string",
    "int_value": "int32",
    "long_value": "int64",
    "timestamp_value": "*timestamppb.Timestamp",
}
_ARRAYS = {
    "string_values": "[]string",
    "int_values": "[]int32",
    "long_values": "[]int64",
}
_CAMEL = {
    "intValue": "int_value",
    "longValue": "long_value",
    "stringValue": "string_value",
    "timestampValue": "timestamp_value",
    "intValues": "int_values",
    "longValues": "long_values",
    "stringValues": "string_values",
}
_IDENT = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]{0,127}$")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


@dataclass(frozen=True)
class Listable:
    """One listable type: its name in errors, table, id column and field map."""

    name: str
    table: str
    id_column: str
    fields: dict[str, str]
    time_columns: frozenset[str] = frozenset()
    #: Columns the next-page token cannot be built from (a real-server quirk).
    untokenable: dict[str, str] = field(default_factory=dict)


RUNS = Listable(
    name="Run",
    table="runs",
    id_column="run_id",
    fields={
        "run_id": "run_id",
        "id": "run_id",
        "display_name": "display_name",
        "name": "display_name",
        "created_at": "created_at",
        "finished_at": "finished_at",
        "scheduled_at": "scheduled_at",
        "description": "description",
        "storage_state": "storage_state",
        "status": "conditions",
        "state": "state",
        "namespace": "namespace",
        "experiment_id": "experiment_id",
        "recurring_run_id": "recurring_run_id",
        "state_history": "state_history",
        "runtime_details": "runtime_details",
    },
    time_columns=frozenset({"created_at", "finished_at", "scheduled_at"}),
    untokenable={"experiment_id": "ExperimentUUID", "state_history": "StateHistory"},
)
EXPERIMENTS = Listable(
    name="Experiment",
    table="experiments",
    id_column="experiment_id",
    fields={
        "experiment_id": "experiment_id",
        "id": "experiment_id",
        "display_name": "display_name",
        "name": "display_name",
        "created_at": "created_at",
        "last_run_created_at": "last_run_created_at",
        "description": "description",
        "namespace": "namespace",
        "storage_state": "storage_state",
    },
    time_columns=frozenset({"created_at", "last_run_created_at"}),
)
TASKS = Listable(
    name="Task",
    table="tasks",
    id_column="task_id",
    fields={
        name: name
        for name in (
            "name", "display_name", "task_id", "run_id", "pods", "cache_fingerprint",
            "create_time", "start_time", "end_time", "status_metadata",
            "state_history", "type_attributes", "parent_task_id", "inputs",
            "outputs", "scope_path",
        )
    }
    | {"status": "state_num", "type": "type_num"},
    time_columns=frozenset({"create_time", "start_time", "end_time"}),
)  # fmt: skip
LISTABLES = {"run": RUNS, "experiment": EXPERIMENTS, "task": TASKS}


@dataclass
class ListQuery:
    """What a list call turns into: SQL pieces plus what the next token needs."""

    kind: Listable
    page_size: int
    sort_field: str
    sort_column: str
    desc: bool
    predicates: list[dict[str, Any]]
    where: list[str]
    args: list[Any]
    keyset: tuple[str, list[Any]] | None = None

    @property
    def order_sql(self) -> str:
        direction = "DESC" if self.desc else "ASC"
        if self.sort_column == "0":  # metric sort: every row ties, the id decides
            return f"{self.kind.id_column} {direction}"
        return f"{self.sort_column} {direction}, {self.kind.id_column} {direction}"

    def next_token(self, row: dict[str, Any]) -> str:
        """Token whose page starts at ``row`` (the page_size+1-th row)."""
        if self.sort_field in self.kind.untokenable:
            go_name = self.kind.untokenable[self.sort_field]
            raise invalid(
                f'cannot sort by field "{go_name}" on type "{self.kind.name}"',
                context="Failed to list runs",
            )
        value = row.get(self.sort_column) if self.sort_column != "0" else 0
        return make_token(
            {
                "SortByFieldName": self.sort_field,
                "SortBySQLColumn": self.sort_column,
                "SortByFieldValue": value,
                "SortByFieldPrefix": "",
                "KeyFieldName": self.kind.id_column,
                "KeyFieldValue": row[self.kind.id_column],
                "KeyFieldPrefix": "",
                "IsDesc": self.desc,
                "ModelName": self.kind.name,
                "Filter": _canonical(self.predicates) or None,
            }
        )


def make_token(payload: dict[str, Any]) -> str:
    """Standard base64 (``+/=``) of compact JSON, like the real server's tokens."""
    text = json.dumps(payload, separators=(",", ":"), sort_keys=False)
    return base64.b64encode(text.encode()).decode()


def _decode_token(token: str) -> dict[str, Any]:
    try:
        raw = base64.b64decode(token.encode(), validate=True)
        payload = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeError):
        raise invalid("Invalid page token", context="Failed to list") from None
    if not isinstance(payload, dict):
        raise invalid("Invalid page token", context="Failed to list")
    for key in ("SortBySQLColumn", "KeyFieldName"):
        value = payload.get(key)
        if not isinstance(value, str) or not (_IDENT.match(value) or value == "0"):
            raise invalid(f"Invalid {key} name", context="Failed to list")
    return payload


def parse_page_size(value: int | None) -> int:
    """0/absent → 20; over 200 → 200; negative → 400."""
    if not value:
        return DEFAULT_PAGE_SIZE
    if value < 0:
        raise invalid(
            f"The page size should be greater than 0. Got {value}",
            context="Failed to list",
        )
    return min(value, MAX_PAGE_SIZE)


def _parse_sort(kind: Listable, sort_by: str) -> tuple[str, str, bool]:
    text = sort_by.lower()
    words = text.split()
    if not words:
        return "created_at" if kind is not TASKS else "create_time", "", False
    if len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
        raise invalid(
            f'Received invalid sort by format "{sort_by}". Supported format: '
            '"field_name", "field_name desc", or "field_name asc"',
            context="Failed to list",
        )
    desc = len(words) == 2 and words[1] == "desc"
    name = words[0]
    if kind is RUNS and name.startswith("metric:"):
        # Limitation: no v1 run metrics are stored, so every run sorts equal and
        # the order falls back to the id.
        return name, "0", desc
    if name not in kind.fields:
        raise invalid(
            f'Invalid sorting field: "{name}" on listable type {kind.name}',
            context="Failed to list",
        )
    return name, kind.fields[name], desc


def _filter_error(raw: str, err: str) -> RpcError:
    return invalid(
        f'failed to parse valid filter from "{_shown(raw)}": {err}',
        context="Failed to list",
    )


def parse_filter(raw: str) -> list[dict[str, Any]]:
    """A ``filter`` query value → normalised predicates ``{key, op, kind, value}``."""
    if not raw:
        return []
    if _BAD_ESCAPE.search(raw):
        raise _filter_error(raw, "invalid URL escape")
    text = unquote(raw.replace("+", " "))
    for camel, snake in _CAMEL.items():
        text = text.replace(f'"{camel}"', f'"{snake}"')
    try:
        doc = decode_json(text, what="the filter")
    except RpcError as exc:
        raise _filter_error(raw, exc.chain) from None
    if not isinstance(doc, dict):
        raise _filter_error(raw, "proto: expected a JSON object")
    for key in doc:
        if key != "predicates":
            raise _filter_error(raw, f'proto: unknown field "{key}"')
    preds = doc.get("predicates") or []
    if not isinstance(preds, list):
        raise _filter_error(raw, "proto: predicates must be a list")
    return [_parse_predicate(raw, p) for p in preds]


def _parse_predicate(raw: str, pred: Any) -> dict[str, Any]:
    if not isinstance(pred, dict):
        raise _filter_error(raw, "proto: a predicate must be an object")
    values = []
    for key in pred:
        if key not in ("key", "operation") and key not in _SCALARS | _ARRAYS:
            raise _filter_error(raw, f'proto: unknown field "{key}"')
        if key in _SCALARS or key in _ARRAYS:
            values.append(key)
    if len(values) > 1:
        raise _filter_error(raw, f'proto: oneof "value" is already set ({values})')
    op = pred.get("operation", 0)
    if isinstance(op, str):
        if op not in OPERATIONS and op != "OPERATION_UNSPECIFIED":
            if not op.isdigit():
                raise _filter_error(raw, f"proto: invalid value for enum: {op!r}")
            op = int(op)
        else:
            op = OPERATIONS.get(op, 0)
    if not isinstance(op, int) or isinstance(op, bool):
        raise _filter_error(raw, "proto: invalid value for enum operation")
    key = pred.get("key", "")
    if not isinstance(key, str):
        raise _filter_error(raw, "proto: key must be a string")
    value_kind = values[0] if values else None
    value = _read_value(raw, value_kind, pred.get(value_kind)) if value_kind else None
    return {"key": key, "op": op, "kind": value_kind, "value": value}


_INT_KINDS = {
    "int_value": "int32", "long_value": "int64",
    "int_values": "int32", "long_values": "int64",
}  # fmt: skip


def _read_value(raw: str, kind: str, value: Any) -> Any:
    try:
        return _typed_value(kind, value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise _filter_error(raw, f"proto: {kind}: {exc}") from None


def _typed_value(kind: str, value: Any) -> Any:
    """A predicate value checked as protojson would (types, int32/int64 ranges)."""
    if kind == "string_value":
        if not isinstance(value, str):
            raise TypeError(f"expected a JSON string, got {json_kind(value)}")
        return value
    if kind in ("int_value", "long_value"):
        return to_int(value, _INT_KINDS[kind])
    if kind == "timestamp_value":
        if not isinstance(value, str):
            raise TypeError(f"expected an RFC 3339 string, got {json_kind(value)}")
        when = parse_timestamp(value)
        return int(when.timestamp()) if when else 0
    if value is None:
        return []
    if not isinstance(value, dict) or set(value) - {"values"}:
        raise TypeError('expected an object {"values": [...]}')
    items = value.get("values") or []
    if not isinstance(items, list):
        raise TypeError(f'"values" must be a JSON array, got {json_kind(items)}')
    if kind == "string_values":
        for item in items:
            if not isinstance(item, str):
                raise TypeError(
                    f"every value must be a JSON string, got {json_kind(item)}"
                )
        return list(items)
    return [to_int(v, _INT_KINDS[kind]) for v in items]


def _shown(raw: str) -> str:
    """The filter as echoed in an error: shortened, so a huge filter stays readable."""
    return raw if len(raw) <= 300 else f"{raw[:300]}…"


def _validate_predicates(preds: list[dict[str, Any]]) -> None:
    for p in preds:
        op_name = _OP_NAMES.get(p["op"], "UNSPECIFIED")
        if not p["key"]:
            raise invalid(
                f"Predicate key cannot be empty for operation {op_name} "
                f"and value {p['value']}",
                context="Failed to list",
            )
        if p["op"] not in _OP_NAMES:
            raise RpcError(
                3,
                "Failed to list: Invalid input error: Error using "
                f"Filter.Predicate.Operation with {p['op']}",
                f"Error using Filter.Predicate.Operation with {p['op']}",
            )
        if p["kind"] is None:
            raise invalid(
                "Error using Filter.Predicate.Value with <nil>",
                context="Failed to list",
            )
        if p["op"] == 8 and p["kind"] in _SCALARS:
            raise invalid(
                f"cannot use IN operator with scalar type {_SCALARS[p['kind']]}",
                context="Failed to list",
            )
        if p["op"] != 8 and p["kind"] in _ARRAYS:
            raise invalid(
                f"cannot use scalar operator {op_name} on array type "
                f"{_ARRAYS[p['kind']]}",
                context="Failed to list",
            )
        if p["op"] == 9 and p["kind"] != "string_value":
            raise invalid(
                f"cannot use non string value type {_SCALARS[p['kind']]} "
                "with operator IS_SUBSTRING",
                context="Failed to list",
            )


_ASCII_LOWER = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"
)

#: SQLite's default SQLITE_MAX_LIKE_PATTERN_LENGTH is 50,000 bytes, with two '%'.
_LIKE_MAX = 40_000


def _predicate_sql(kind: Listable, p: dict[str, Any]) -> tuple[str, list[Any]]:
    key = p["key"]
    if key not in kind.fields:
        raise invalid(
            f'no support for filtering on unrecognized field "{key}"',
            context="Failed to list",
        )
    column = kind.fields[key]
    if p["op"] == 8:
        if not p["value"]:
            return "0", []
        marks = ",".join("?" for _ in p["value"])
        return f"{column} IN ({marks})", list(p["value"])
    if p["op"] == 9:
        if len(p["value"]) > _LIKE_MAX:
            # SQLite refuses longer LIKE patterns (an error, not a match).
            raise invalid(
                f"IS_SUBSTRING value on {key!r} is {len(p['value']):,} characters; "
                f"this server accepts at most {_LIKE_MAX:,}",
                context="Failed to list",
            )
        if "\0" in p["value"]:
            # LIKE reads its pattern only up to a NUL (so 'ab\0zz' would match
            # every 'ab'); compare the whole value's bytes instead, ASCII case
            # folded as LIKE does. Limitation: '%'/'_' are literal here.
            needle = p["value"].translate(_ASCII_LOWER).encode("utf-8", "replace")
            return f"instr(CAST(lower({column}) AS BLOB), ?) > 0", [needle]
        # '%' and '_' stay wildcards, as on the real server.
        return f"{column} LIKE ?", [f"%{p['value']}%"]
    return f"{column} {_SQL_OPS[p['op']]} ?", [p["value"]]


def _canonical(preds: list[dict[str, Any]]) -> list[list[Any]]:
    return [[p["key"], p["op"], p["kind"], p["value"]] for p in preds]


def build_list_query(
    kind: Listable,
    *,
    page_size: int | None,
    page_token: str,
    sort_by: str,
    filter_text: str,
) -> ListQuery:
    """Validate list options in the real server's order and build the query."""
    if not page_token:
        preds = parse_filter(filter_text)
        _validate_predicates(preds)
        size = parse_page_size(page_size)
        sort_field, sort_column, desc = _parse_sort(kind, sort_by)
        if not sort_column:
            sort_field = sort_column = "create_time" if kind is TASKS else "created_at"
        where, args = _where(kind, preds)
        return ListQuery(kind, size, sort_field, sort_column, desc, preds, where, args)
    size = parse_page_size(page_size)
    token = _decode_token(page_token)
    preds_raw = token.get("Filter") or []
    try:
        preds = [{"key": k, "op": o, "kind": t, "value": v} for k, o, t, v in preds_raw]
    except (TypeError, ValueError):
        raise invalid("Invalid page token", context="Failed to list") from None
    sort_field = token.get("SortByFieldName", "")
    sort_column = token["SortBySQLColumn"]
    desc = bool(token.get("IsDesc"))
    allowed = set(kind.fields.values()) | {"0"}
    if sort_column not in allowed or token["KeyFieldName"] != kind.id_column:
        raise invalid("Invalid page token", context="Failed to list")
    if sort_by or filter_text:
        sent = parse_filter(filter_text)
        _validate_predicates(sent)
        _, s_column, s_desc = _parse_sort(kind, sort_by)
        if not s_column:
            s_column = "create_time" if kind is TASKS else "created_at"
        if (s_column, s_desc, _canonical(sent)) != (
            sort_column,
            desc,
            _canonical(preds),
        ):
            raise invalid(
                "page token does not match the supplied sort by and/or filtering "
                "criteria. Either specify the same criteria or leave the latter "
                "empty if page token is specified.",
                context="Failed to list",
            )
    where, args = _where(kind, preds)
    # The token's row starts the page: (sort value, id) at or past it, in the
    # sort direction. Written as one row-value comparison so SQLite seeks the
    # (column, id) index to it instead of walking from the start.
    cmp = "<=" if desc else ">="
    keyset = (
        f"({sort_column}, {kind.id_column}) {cmp} (?, ?)",
        [token.get("SortByFieldValue"), token.get("KeyFieldValue")],
    )
    query = ListQuery(kind, size, sort_field, sort_column, desc, preds, where, args)
    query.keyset = keyset
    return query


def _where(kind: Listable, preds: list[dict[str, Any]]) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    args: list[Any] = []
    for p in preds:
        sql, values = _predicate_sql(kind, p)
        where.append(sql)
        args.extend(values)
    return where, args
