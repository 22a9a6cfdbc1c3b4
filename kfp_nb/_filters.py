"""Keyword filters → the KFP v2beta1 ``Filter`` JSON that ListRuns takes.

``compile_filter(state="FAILED", name_contains="nightly")`` gives::

    {"predicates": [
        {"key": "state", "operation": "EQUALS", "string_value": "FAILED"},
        {"key": "display_name", "operation": "IS_SUBSTRING", "string_value": "nightly"},
        {"key": "storage_state", "operation": "NOT_EQUALS", "string_value": "ARCHIVED"},
    ]}

Rules (SEMANTICS.md §7):

- Every predicate is ANDed by the server, so a raw ``filter`` is merged by
  appending its predicates to the keyword ones. A raw predicate on
  ``storage_state`` replaces the ``archived`` keyword, because ANDing both would
  usually select nothing (``archived=False`` is the default).
- ``state`` is checked against :data:`kfp_nb._states.RUN_STATES`; a lower-case
  known name is upper-cased. An unknown upper-case name such as ``"QUEUED"`` is
  sent anyway with a :class:`UnknownStateWarning`, since newer servers add
  states; anything else is a ``ValueError`` listing the valid states.
- Times are sent as RFC 3339 with ``Z`` at whole seconds. The server truncates
  ``timestamp_value`` to seconds and stores seconds, so a fractional bound is
  rounded *up*, which keeps ``>=`` and ``<`` exact. A naive datetime or string
  is UTC; a ``date`` means its midnight UTC.
- ``name_contains`` becomes SQL ``LIKE '%…%'`` on the server, where ``%`` and
  ``_`` act as wildcards; the match is case-insensitive on MySQL.
- Raw predicates are validated here (shape, operation, exactly one value field
  of the right kind) and written back in snake_case with operation names, which
  the server accepts as well as numbers and camelCase.
"""

from __future__ import annotations

import difflib
import json
import re
import sys
import warnings
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from . import _states
from ._warnings import UnknownStateWarning

__all__ = [
    "OPERATIONS",
    "UnknownStateWarning",
    "compile_filter",
]

#: Filter operation names and their proto numbers (there is no 4).
OPERATIONS: dict[str, int] = {
    "EQUALS": 1,
    "NOT_EQUALS": 2,
    "GREATER_THAN": 3,
    "GREATER_THAN_EQUALS": 5,
    "LESS_THAN": 6,
    "LESS_THAN_EQUALS": 7,
    "IN": 8,
    "IS_SUBSTRING": 9,
}
_OPERATION_NAMES = {number: name for name, number in OPERATIONS.items()}

_SCALAR_FIELDS = ("int_value", "long_value", "string_value", "timestamp_value")
_LIST_FIELDS = ("int_values", "long_values", "string_values")
_VALUE_FIELDS = _SCALAR_FIELDS + _LIST_FIELDS
_CAMEL = {
    "intValue": "int_value",
    "longValue": "long_value",
    "stringValue": "string_value",
    "timestampValue": "timestamp_value",
    "intValues": "int_values",
    "longValues": "long_values",
    "stringValues": "string_values",
}
_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_TIME_RANGE = "1677-09-22 to 2262-04-11 UTC"
_UPPER_NAME = re.compile(r"[A-Z][A-Z0-9_]*")

_EXAMPLE = (
    '{"predicates": [{"key": "state", "operation": "EQUALS", '
    '"string_value": "FAILED"}, {"key": "created_at", "operation": '
    '"GREATER_THAN_EQUALS", "timestamp_value": "2024-01-01T00:00:00Z"}]}'
)


def compile_filter(
    *,
    state: str | Iterable[str] | None = None,
    name_contains: str | None = None,
    created_after: Any = None,
    created_before: Any = None,
    archived: bool | None = False,
    filter: Mapping[str, Any] | str | None = None,
) -> dict[str, Any] | None:
    """KFP ``Filter`` JSON for the given keywords, or None when nothing filters.

    ``state``: one state (EQUALS) or several (IN). ``name_contains``: substring
    of ``display_name``. ``created_after`` (inclusive) / ``created_before``
    (exclusive): datetime, pandas Timestamp, ISO 8601 string or date.
    ``archived``: False → only available runs, True → only archived, None → both.
    ``filter``: a raw KFP filter (dict or JSON text) ANDed with the rest.
    Raises ``ValueError`` (or ``TypeError`` for a wrong type) naming the problem.
    """
    raw = _raw_predicates(filter)
    predicates = _state_predicates(state)
    predicates += _name_predicates(name_contains)
    predicates += _time_predicates(created_after, created_before)
    if not any(p["key"] == "storage_state" for p in raw):
        predicates += _archived_predicates(archived)
    predicates += raw
    return {"predicates": predicates} if predicates else None


# -- keywords ---------------------------------------------------------------


def _predicate(key: str, operation: str, field: str, value: Any) -> dict[str, Any]:
    return {"key": key, "operation": operation, field: value}


def _state_predicates(state: Any) -> list[dict[str, Any]]:
    if state is None:
        return []
    if isinstance(state, str):
        names = [state]
    elif isinstance(state, Iterable) and not isinstance(state, Mapping):
        unordered = isinstance(state, (set, frozenset))
        names = sorted(state, key=str) if unordered else list(state)
    else:
        raise TypeError(
            f"state must be a state name or a list of names, not {state!r}; "
            "e.g. state='FAILED' or state=['FAILED', 'CANCELED']"
        )
    if not names:
        raise ValueError(
            "state=[] would select no run; pass state=None to not filter by state"
        )
    checked = list(dict.fromkeys(_check_state(name) for name in names))
    if len(checked) == 1:
        return [_predicate("state", "EQUALS", "string_value", checked[0])]
    values = {"values": checked}
    return [_predicate("state", "IN", "string_values", values)]


def _check_state(name: Any) -> str:
    if not isinstance(name, str):
        raise TypeError(f"a state is a name such as 'FAILED', not {name!r}")
    if name.upper() in _states.RUN_STATES:
        return name.upper()
    if _UPPER_NAME.fullmatch(name):
        warnings.warn(
            f"state {name!r} is not a run state this version of kfp_nb knows "
            f"({', '.join(_states.RUN_STATES)}); sending it to the server as is",
            UnknownStateWarning,
            stacklevel=_user_stacklevel(),
        )
        return name
    close = difflib.get_close_matches(name.upper(), _states.RUN_STATES, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"unknown run state {name!r}; valid states: "
        f"{', '.join(_states.RUN_STATES)}.{hint}"
    )


def _user_stacklevel() -> int:
    """``stacklevel`` that points a warning at the first caller outside kfp_nb."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith(
        "kfp_nb"
    ):
        frame = frame.f_back
        level += 1
    return level


def check_unicode(text: str, argument: str) -> str:
    """``text`` if it can be sent as UTF-8; a lone surrogate is a ValueError."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"{argument} holds {text[exc.start]!r} at position {exc.start}, a "
            "lone surrogate that is not valid Unicode text (often from bytes "
            "decoded with errors='surrogateescape'); fix the string"
        ) from None
    return text


def _name_predicates(name_contains: Any) -> list[dict[str, Any]]:
    if name_contains is None or name_contains == "":
        return []
    if not isinstance(name_contains, str):
        raise TypeError(f"name_contains must be a string, not {name_contains!r}")
    check_unicode(name_contains, "name_contains")
    return [_predicate("display_name", "IS_SUBSTRING", "string_value", name_contains)]


def _time_predicates(after: Any, before: Any) -> list[dict[str, Any]]:
    start = None if after is None else _to_utc(after, "created_after")
    end = None if before is None else _to_utc(before, "created_before")
    if start is not None and end is not None and start >= end:
        raise ValueError(
            f"created_after ({_rfc3339(start)}) is not before created_before "
            f"({_rfc3339(end)}): no run can match"
        )
    out = []
    if start is not None:
        out.append(
            _predicate("created_at", "GREATER_THAN_EQUALS", "timestamp_value",
                       _rfc3339(start))
        )
    if end is not None:
        out.append(
            _predicate("created_at", "LESS_THAN", "timestamp_value", _rfc3339(end))
        )
    return out


def _to_utc(value: Any, keyword: str, *, exact: bool = False) -> Any:
    """A point in time as a UTC pandas Timestamp, rounded up to whole seconds
    unless ``exact``."""
    import numpy as np
    import pandas as pd  # pandas parses every ISO 8601 form and datetime64

    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, (str, datetime, np.datetime64)):
        raise TypeError(
            f"{keyword} must be a datetime, pandas Timestamp, date or ISO 8601 "
            f"string, not {value!r}"
        )
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"{keyword}={value!r} is not a date or time; use e.g. "
            "'2024-05-01', '2024-05-01T12:00:00Z' or a datetime"
        ) from exc
    if stamp is pd.NaT:
        raise ValueError(f"{keyword} is NaT; pass None to not bound creation time")
    try:
        utc = stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")
        stamp = utc.as_unit("ns")
    except (OverflowError, ValueError):  # OutOfBoundsDatetime is a ValueError
        raise ValueError(
            f"{keyword}={value!r} is outside the times a filter can hold "
            f"({_TIME_RANGE}); pass a time in that range, or None for no bound"
        ) from None
    if exact:
        return stamp
    return pd.Timestamp(-(-stamp.value // 10**9), unit="s", tz="UTC")


def _rfc3339(stamp: Any) -> str:
    """RFC 3339 with ``Z``; fraction digits only when there is a fraction."""
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S")
    nanos = stamp.value % 10**9
    if nanos:
        text += "." + f"{nanos:09d}".rstrip("0")
    return text + "Z"


def _archived_predicates(archived: Any) -> list[dict[str, Any]]:
    if archived is None:
        return []
    if archived is True:
        return [_predicate("storage_state", "EQUALS", "string_value", "ARCHIVED")]
    if archived is False:
        return [_predicate("storage_state", "NOT_EQUALS", "string_value", "ARCHIVED")]
    raise TypeError(
        f"archived must be True, False or None, not {archived!r}: False lists "
        "available runs, True archived ones, None both"
    )


# -- raw filters ------------------------------------------------------------


def _raw_predicates(raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if isinstance(raw, (str, bytes)):
        if not raw.strip():
            return []
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            _invalid(f"it is not valid JSON ({exc})")
    if not isinstance(raw, Mapping):
        _invalid(f"it must be an object, got {type(raw).__name__}")
    extra = set(raw) - {"predicates"}
    if extra:
        _invalid(f"unknown field(s) {sorted(extra)}; the only field is 'predicates'")
    predicates = raw.get("predicates") or []
    if not isinstance(predicates, list):
        _invalid("'predicates' must be a list of predicate objects")
    return [_check_predicate(p, i) for i, p in enumerate(predicates)]


def _invalid(problem: str, index: int | None = None) -> None:
    where = "" if index is None else f" predicate {index}:"
    raise ValueError(f"invalid KFP filter:{where} {problem}. A valid one: {_EXAMPLE}")


def _check_predicate(pred: Any, index: int) -> dict[str, Any]:
    if not isinstance(pred, Mapping):
        _invalid(f"expected an object, got {pred!r}", index)
    if "op" in pred:
        _invalid("'op' is the v1beta1 name; v2beta1 calls it 'operation'", index)
    names = [_CAMEL.get(k, k) for k in pred]
    unknown = set(names) - {"key", "operation", *_VALUE_FIELDS}
    if unknown:
        _invalid(f"unknown field(s) {sorted(unknown)}", index)
    key = pred.get("key")
    if not isinstance(key, str) or not key:
        _invalid("'key' must be a non-empty field name such as 'state'", index)
    operation = _check_operation(pred.get("operation"), index)
    fields = [name for name in names if name in _VALUE_FIELDS]
    if len(fields) != 1:  # also catches string_value and stringValue together
        _invalid(
            f"needs exactly one value field of {list(_VALUE_FIELDS)}, has {fields}",
            index,
        )
    field = fields[0]
    raw = next(v for k, v in pred.items() if _CAMEL.get(k, k) == field)
    _check_pairing(operation, field, index)
    return _predicate(key, operation, field, _check_value(field, raw, index))


def _check_pairing(operation: str, field: str, index: int) -> None:
    if operation == "IN" and field not in _LIST_FIELDS:
        _invalid("IN needs a list value: string_values, int_values or long_values",
                 index)
    if operation != "IN" and field in _LIST_FIELDS:
        _invalid(f"{operation} needs a single value, not {field}", index)
    if operation == "IS_SUBSTRING" and field != "string_value":
        _invalid("IS_SUBSTRING needs a string_value", index)


def _check_operation(operation: Any, index: int) -> str:
    if isinstance(operation, int) and not isinstance(operation, bool):
        if operation in _OPERATION_NAMES:
            return _OPERATION_NAMES[operation]
    elif isinstance(operation, str):
        if operation.upper() in OPERATIONS:
            return operation.upper()
        if operation.isdigit() and int(operation) in _OPERATION_NAMES:
            return _OPERATION_NAMES[int(operation)]
    _invalid(
        f"'operation' {operation!r} is not one of {list(OPERATIONS)} "
        f"or their numbers {sorted(_OPERATION_NAMES)}",
        index,
    )
    raise AssertionError  # unreachable: _invalid raises


def _check_value(field: str, value: Any, index: int) -> Any:
    if field in _LIST_FIELDS:
        if not isinstance(value, Mapping) or set(value) != {"values"}:
            _invalid(f'{field} must look like {{"values": [...]}}, not {value!r}',
                     index)
        items = value["values"]
        if not isinstance(items, list):
            _invalid(f"{field}.values must be a list", index)
        scalar = field[:-1]
        return {"values": [_check_scalar(scalar, v, index) for v in items]}
    return _check_scalar(field, value, index)


def _check_scalar(field: str, value: Any, index: int) -> Any:
    if field == "string_value":
        if not isinstance(value, str):
            _invalid(f"string_value must be a string, not {value!r}", index)
        return value
    if field == "timestamp_value":
        return _check_timestamp(value, index)
    number = _integer(value)
    low, high = _INT32 if field == "int_value" else _INT64
    if number is None or not low <= number <= high:
        kind = "32" if field == "int_value" else "64"
        _invalid(f"{field} must be an integer within int{kind}, not {value!r}", index)
    # int64 travels as a JSON string (protojson), int32 as a number.
    return str(number) if field == "long_value" else number


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None


def _check_timestamp(value: Any, index: int) -> str:
    # Written back as RFC 3339 with Z: protojson rejects a time without a zone.
    if isinstance(value, (str, datetime)):
        try:
            return _rfc3339(_to_utc(value, "timestamp_value", exact=True))
        except (TypeError, ValueError):
            pass
    _invalid(
        f"timestamp_value must be an RFC 3339 string such as "
        f"'2024-01-01T00:00:00Z', not {value!r}",
        index,
    )
    raise AssertionError  # unreachable: _invalid raises
