"""Pydantic models of the v2beta1 wire format, shared by the client and the server.

They accept what real servers emit (SEMANTICS.md §1, §8): snake_case names,
omitted zero values, ``{}`` or ``null`` for empty lists, int64 as strings, enum
names or numbers, unknown enum values, the 1970 epoch meaning "unset", and fields
this version does not know (kept in ``model_extra``). ``to_wire`` writes a model
back the way the real server does, so the embedded server and the client read and
write one definition.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from . import _states

__all__ = [
    "Artifact",
    "Experiment",
    "ExperimentPage",
    "IOArtifact",
    "IOParameter",
    "PipelineVersionReference",
    "Run",
    "RunPage",
    "RuntimeConfig",
    "RuntimeStatus",
    "Status",
    "Task",
    "TaskPage",
    "format_timestamp",
    "parse_timestamp",
    "to_wire",
]

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_GO_ZERO = datetime(1, 1, 1, tzinfo=timezone.utc)
_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_timestamp(value: Any) -> datetime | None:
    """RFC 3339 text (or a datetime) → aware UTC datetime; epoch, '' and None → None.

    A string without a zone is taken as UTC. Digits past microseconds are dropped
    here; the DataFrame path keeps nanoseconds (it parses with pandas).
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        text = _FRACTION.sub(r"\1", value.strip())
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"not an RFC 3339 timestamp: {value!r} ({exc})") from exc
    else:
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}")
    dt = dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt
    try:
        dt = dt.astimezone(timezone.utc)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-01:00
        raise ValueError(f"outside the years 1-9999 in UTC: {value!r}") from None
    return None if dt == EPOCH else dt


def _model_timestamp(value: Any) -> datetime | None:
    """:func:`parse_timestamp`, and Go's zero time is "not set" too (as in _frames)."""
    dt = parse_timestamp(value)
    return None if dt == _GO_ZERO else dt


def format_timestamp(value: datetime | None) -> str:
    """Aware datetime → RFC 3339 with ``Z``, as the server writes it; None → epoch."""
    if value is None:
        return "1970-01-01T00:00:00Z"
    value = value.astimezone(timezone.utc)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    micros = value.microsecond
    if micros:
        # protojson writes fractions in groups of 3 digits.
        text += f".{micros // 1000:03d}" if micros % 1000 == 0 else f".{micros:06d}"
    return text + "Z"


def _int64(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return int(value)
    return value


def _listish(value: Any) -> Any:
    # The gateway sends {} (or null) where a list is empty.
    if value is None or value == {}:
        return []
    return value


def _dictish(value: Any) -> Any:
    return {} if value is None else value


def _enum(numbers: dict[int, str]) -> Any:
    def convert(value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("an enum is a name or a number, not a boolean")
        if isinstance(value, int):
            # Keep an unknown number visible rather than dropping it.
            return numbers.get(value, str(value))
        return value or None

    return BeforeValidator(convert)


Timestamp = Annotated[datetime | None, BeforeValidator(_model_timestamp)]
Int64 = Annotated[int | None, BeforeValidator(_int64)]
RunState = Annotated[str | None, _enum(_states.RUN_STATE_NUMBERS)]
TaskState = Annotated[str | None, _enum(_states.TASK_STATE_NUMBERS)]
StorageState = Annotated[str | None, _enum(_states.STORAGE_STATE_NUMBERS)]
#: Enums whose numbers past 0 this module does not name: a number stays visible.
IOType = Annotated[str | None, _enum({0: "UNSPECIFIED"})]
Struct = Annotated[dict[str, Any], BeforeValidator(_dictish)]


def _list_of(kind: Any) -> Any:
    return Annotated[list[kind], BeforeValidator(_listish)]


class _Wire(BaseModel):
    """Base: tolerant on input, keeps unknown fields, never rejects a new value."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    #: Fields the real server writes even when empty.
    _always: ClassVar[frozenset[str]] = frozenset()
    #: Free-form fields (protobuf Struct/Value): written as they are.
    _free: ClassVar[frozenset[str]] = frozenset()
    #: int64 fields: written as JSON strings.
    _int64: ClassVar[frozenset[str]] = frozenset()


class Status(_Wire):
    """``google.rpc.Status``: an error attached to a run, task or state change."""

    code: int | None = None
    message: str | None = None
    details: _list_of(dict[str, Any]) = Field(default_factory=list)
    _free = frozenset({"details"})


class RuntimeStatus(_Wire):
    """One entry of a run's ``state_history``."""

    update_time: Timestamp = None
    state: RunState = None
    error: Status | None = None


class TaskStatus(_Wire):
    """One entry of a task's ``state_history``."""

    update_time: Timestamp = None
    state: TaskState = None
    error: Status | None = None


class PipelineVersionReference(_Wire):
    pipeline_id: str | None = None
    pipeline_version_id: str | None = None


class RuntimeConfig(_Wire):
    """Runtime parameters (name → JSON value) and the pipeline root."""

    parameters: Struct = Field(default_factory=dict)
    pipeline_root: str | None = None
    _free = frozenset({"parameters"})


class Artifact(_Wire):
    """An artifact as the tasks API lists it (PR schema)."""

    artifact_id: str | None = None
    name: str | None = None
    description: str | None = None
    type: Annotated[str | None, _enum({0: "TYPE_UNSPECIFIED"})] = None
    uri: str | None = None
    metadata: Struct = Field(default_factory=dict)
    number_value: float | None = None
    created_at: Timestamp = None
    namespace: str | None = None
    _free = frozenset({"metadata"})


class IOProducer(_Wire):
    task_name: str | None = None
    iteration: Int64 = None
    _int64 = frozenset({"iteration"})


class IOArtifact(_Wire):
    """Artifacts under one input/output key of a task."""

    artifacts: _list_of(Artifact) = Field(default_factory=list)
    type: IOType = None
    artifact_key: str | None = None
    producer: IOProducer | None = None


class IOParameter(_Wire):
    value: Any = None
    type: IOType = None
    parameter_key: str | None = None
    producer: IOProducer | None = None
    _free = frozenset({"value"})


class TaskIO(_Wire):
    """A task's inputs or outputs. HEAD's older map form lands in ``model_extra``."""

    parameters: _list_of(IOParameter) = Field(default_factory=list)
    artifacts: _list_of(IOArtifact) = Field(default_factory=list)


class TaskPod(_Wire):
    name: str | None = None
    uid: str | None = None
    type: Annotated[str | None, _enum({0: "UNSPECIFIED"})] = None


class ChildTask(_Wire):
    task_id: str | None = None
    name: str | None = None
    pod_name: str | None = None


class TypeAttributes(_Wire):
    iteration_index: Int64 = None
    iteration_count: Int64 = None
    download_to_workspace: bool | None = None
    _int64 = frozenset({"iteration_index", "iteration_count"})


class StatusMetadata(_Wire):
    message: str | None = None
    custom_properties: Struct = Field(default_factory=dict)
    _free = frozenset({"custom_properties"})


class Task(_Wire):
    """A pipeline task (``PipelineTaskDetail``), in either the PR or HEAD schema."""

    task_id: str | None = None
    run_id: str | None = None
    name: str | None = None
    display_name: str | None = None
    pods: _list_of(TaskPod) = Field(default_factory=list)
    cache_fingerprint: str | None = None
    create_time: Timestamp = None
    start_time: Timestamp = None
    end_time: Timestamp = None
    state: TaskState = None
    status_metadata: StatusMetadata | None = None
    state_history: _list_of(TaskStatus) = Field(default_factory=list)
    type: Annotated[str | None, _enum({0: "ROOT"})] = None
    type_attributes: TypeAttributes | None = None
    error: Status | None = None
    parent_task_id: str | None = None
    child_tasks: _list_of(ChildTask) = Field(default_factory=list)
    inputs: TaskIO = Field(default_factory=TaskIO)
    outputs: TaskIO = Field(default_factory=TaskIO)
    scope_path: str | None = None
    execution_id: Int64 = None
    pod_name: str | None = None
    _always = frozenset({"inputs", "outputs"})
    _int64 = frozenset({"execution_id"})

    @property
    def output_artifacts(self) -> list[tuple[str, Artifact]]:
        """``(output key, artifact)`` for every output artifact of the task."""
        return [
            (group.artifact_key or "", art)
            for group in self.outputs.artifacts
            for art in group.artifacts
        ]


class RunDetails(_Wire):
    pipeline_context_id: Int64 = None
    pipeline_run_context_id: Int64 = None
    task_details: _list_of(Task) = Field(default_factory=list)
    _int64 = frozenset({"pipeline_context_id", "pipeline_run_context_id"})


class Run(_Wire):
    """A pipeline run. ``finished_at`` is None until the run finishes."""

    experiment_id: str | None = None
    run_id: str | None = None
    display_name: str | None = None
    storage_state: StorageState = None
    description: str | None = None
    pipeline_version_id: str | None = None
    pipeline_spec: dict[str, Any] | None = None
    pipeline_version_reference: PipelineVersionReference | None = None
    pipeline_reference: PipelineVersionReference | None = None
    runtime_config: RuntimeConfig | None = None
    service_account: str | None = None
    created_at: Timestamp = None
    scheduled_at: Timestamp = None
    finished_at: Timestamp = None
    state: RunState = None
    error: Status | None = None
    run_details: RunDetails | None = None
    recurring_run_id: str | None = None
    state_history: _list_of(RuntimeStatus) = Field(default_factory=list)
    task_count: int | None = None
    tasks: _list_of(Task) = Field(default_factory=list)
    plugins_input: Struct = Field(default_factory=dict)
    plugins_output: Struct = Field(default_factory=dict)
    _always = frozenset({"created_at", "scheduled_at", "finished_at"})
    _free = frozenset({"pipeline_spec", "plugins_input", "plugins_output"})

    @property
    def parameters(self) -> dict[str, Any]:
        """Runtime parameters, ``{}`` when none were given."""
        return dict(self.runtime_config.parameters) if self.runtime_config else {}

    @property
    def is_final(self) -> bool:
        return _states.is_final(self.state)


class Experiment(_Wire):
    experiment_id: str | None = None
    display_name: str | None = None
    description: str | None = None
    created_at: Timestamp = None
    namespace: str | None = None
    storage_state: StorageState = None
    last_run_created_at: Timestamp = None
    _always = frozenset({"created_at", "last_run_created_at"})


class RunPage(_Wire):
    """One page of ``list_runs``: ``runs``, ``total_size``, ``next_page_token``."""

    runs: _list_of(Run) = Field(default_factory=list)
    total_size: int = 0
    next_page_token: str | None = None


class TaskPage(_Wire):
    """One page of ``list_tasks``."""

    tasks: _list_of(Task) = Field(default_factory=list)
    total_size: int = 0
    next_page_token: str | None = None


class ExperimentPage(_Wire):
    experiments: _list_of(Experiment) = Field(default_factory=list)
    total_size: int = 0
    next_page_token: str | None = None


def to_wire(model: _Wire) -> dict[str, Any]:
    """The JSON object the real server would send for ``model``.

    Zero values are left out (protojson ``EmitUnpopulated: false``), timestamps
    become RFC 3339 with ``Z``, int64 fields become strings, and a nested message
    is written when it has content or is one the server always writes.
    """
    out: dict[str, Any] = {}
    cls = type(model)
    values = dict(model)
    values.update(model.model_extra or {})
    for name, value in values.items():
        always = name in cls._always
        if name in cls._free:
            # A set google.protobuf.Value is written even when it is 0, false
            # or "" (only an empty Struct/list counts as unset).
            scalar = value is not None and not isinstance(value, (dict, list))
            if value or always or scalar:
                out[name] = value
        elif isinstance(value, _Wire):
            dumped = to_wire(value)
            if dumped or always:
                out[name] = dumped
        elif isinstance(value, list):
            if value:
                out[name] = [to_wire(v) if isinstance(v, _Wire) else v for v in value]
        elif isinstance(value, datetime) or (value is None and always):
            if value is not None or always:
                out[name] = format_timestamp(value)
        elif value or value is False and always:
            out[name] = str(value) if name in cls._int64 else value
    return out
