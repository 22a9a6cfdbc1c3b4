"""Compiled KFP pipeline specs → the task plan the simulator runs.

``plan_from_spec`` reads the IR a KFP v2 SDK compiles (``root.dag.tasks``, nested
DAG components, ``outputDefinitions``) and returns one ``TaskPlan`` per task, in
an order where every task follows its dependencies and its parent DAG, and every
DAG task's whole subtree comes before anything that depends on it.

``DEMO_PIPELINES`` holds a few hand-written specs in that same IR shape, for the
demo data set and for tests.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ARTIFACT_TYPES",
    "DEMO_PIPELINES",
    "DURATION_HINTS",
    "UI_METADATA_KEY",
    "OutputPlan",
    "TaskPlan",
    "pipeline_name",
    "plan_from_spec",
    "task_duration",
    "unwrap_spec",
]

#: IR schema title → artifact ``type`` as the tasks API reports it.
ARTIFACT_TYPES: dict[str, str] = {
    "system.Metrics": "Metric",
    "system.ClassificationMetrics": "ClassificationMetric",
    # Limitation: sliced metrics are planned as plain classification metrics —
    # the UI has no renderer for the sliced form (SEMANTICS.md §11).
    "system.SlicedClassificationMetrics": "ClassificationMetric",
    "system.HTML": "HTML",
    "system.Markdown": "Markdown",
    "system.Dataset": "Dataset",
    "system.Model": "Model",
    "system.Artifact": "Artifact",
}

_FILE_SUFFIX = {"HTML": ".html", "Markdown": ".md", "Dataset": ".csv", "Model": ".json"}
#: Output-key endings that pick a file type whatever the artifact type.
_KEY_SUFFIX = (("_blob", ".bin"), ("_svg", ".svg"), ("_log", ".txt"))
_IMAGE_WORDS = ("image", "plot", "chart", "figure", "heatmap", "png", "histogram")
UI_METADATA_KEY = "mlpipeline-ui-metadata"

#: Seconds per task at speed 1, by task name (then component name, ``comp-``
#: dropped); other names get 5–20 s from a checksum of the name.
DURATION_HINTS: dict[str, float] = {
    "load-data": 8.0,
    "preprocess": 14.0,
    "train": 45.0,
    "evaluate": 16.0,
    "report": 6.0,
    "prepare-data": 8.0,
    "fit": 30.0,
    "score": 10.0,
    "select-best": 6.0,
    "ingest": 10.0,
    "validate-schema": 20.0,
    "profile-data": 35.0,
    "check-drift": 25.0,
    "publish": 10.0,
    "generate-data": 20.0,
    "visualize": 40.0,
    "hostile-report": 12.0,
    "unsafe-notes": 10.0,
    "odd-metrics": 15.0,
    "raw-outputs": 20.0,
}


@dataclass(frozen=True)
class OutputPlan:
    """One output artifact of a task.

    ``file_name`` is the name of the file the task writes (and the one member of
    its stored tarball); ``None`` for metrics, which live in metadata only.
    """

    key: str
    artifact_type: str
    file_name: str | None


@dataclass(frozen=True)
class TaskPlan:
    """One task of a run, as the simulator schedules it.

    ``name`` is unique in the plan: the task's key in its DAG, qualified with its
    parent's name (``"tune-xgb.fit"``) only when two DAGs hold the same key.
    ``depends_on`` and ``parent`` hold such names; ``parent`` is ``None`` for
    tasks of the root DAG. A DAG task has no outputs and a ``duration_s`` equal
    to the critical path through its children, who start when it starts.
    """

    name: str
    display_name: str
    depends_on: tuple[str, ...]
    duration_s: float
    outputs: tuple[OutputPlan, ...]
    parent: str | None


@dataclass(frozen=True)
class _Node:
    """A task of the spec, placed in the tree of DAGs."""

    path: tuple[str, ...]
    display_name: str
    component_name: str
    component: Mapping[str, Any]
    deps: tuple[str, ...]
    children: tuple[_Node, ...]


def unwrap_spec(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    """The pipeline spec itself, from either the bare or the wrapped form."""
    if not isinstance(spec, Mapping):
        raise ValueError(
            f"pipeline_spec must be a JSON object, got {type(spec).__name__}"
        )
    for key in ("pipeline_spec", "pipelineSpec"):
        inner = spec.get(key)
        if isinstance(inner, Mapping):
            return inner
    return spec


def pipeline_name(spec: Mapping[str, Any]) -> str:
    """``pipelineInfo.displayName``, else ``pipelineInfo.name``, else a stand-in."""
    info = unwrap_spec(spec).get("pipelineInfo") or {}
    name = info.get("displayName") or info.get("name")
    return str(name) if name else "unnamed-pipeline"


def plan_from_spec(spec: Mapping[str, Any]) -> list[TaskPlan]:
    """Every task of a compiled pipeline spec, in a valid topological order.

    Raises ``ValueError`` naming what is wrong: no ``root.dag.tasks``, a missing
    component, a dependency on an unknown task, a cycle, or a DAG component that
    contains itself.
    """
    inner = unwrap_spec(spec)
    root = inner.get("root")
    dag = root.get("dag") if isinstance(root, Mapping) else None
    if not isinstance(dag, Mapping) or not isinstance(dag.get("tasks"), Mapping):
        raise ValueError(
            "pipeline_spec has no root.dag.tasks: send a compiled KFP v2 pipeline "
            "spec (what kfp.compiler writes), bare or as {'pipeline_spec': ...}"
        )
    if not dag["tasks"]:
        raise ValueError("pipeline_spec.root.dag.tasks is empty: nothing to run")
    components = inner.get("components")
    if not isinstance(components, Mapping):
        components = {}
    tree = _walk_dag(dag, components, path=(), stack=())
    names = _unique_names(tree)
    plans: list[TaskPlan] = []
    _emit(tree, names, parent=None, out=plans)
    return plans


def task_duration(task_name: str, component_name: str = "") -> float:
    """Seconds the task runs at speed 1 (deterministic in its names)."""
    for name in (task_name, component_name.removeprefix("comp-")):
        if name in DURATION_HINTS:
            return DURATION_HINTS[name]
    return 5.0 + zlib.crc32(task_name.encode()) % 16


def _walk_dag(
    dag: Mapping[str, Any],
    components: Mapping[str, Any],
    *,
    path: tuple[str, ...],
    stack: tuple[str, ...],
) -> tuple[_Node, ...]:
    """The tasks of one DAG, topologically sorted, each with its own subtree."""
    # Limitation: a ParallelFor DAG runs once and conditions always hold —
    # expanding `parameterIterator` items and evaluating `triggerPolicy` would
    # need the runtime parameter values, which a plan does not have.
    tasks = dag.get("tasks") or {}
    where = "/".join(path) or "root"
    nodes: dict[str, _Node] = {}
    for key, task in tasks.items():
        comp_name, component = _component_of(key, task, components, where)
        if comp_name in stack:
            raise ValueError(
                f"DAG component {comp_name!r} contains itself (via task {key!r})"
            )
        deps = _dependencies(task)
        unknown = [dep for dep in deps if dep not in tasks]
        if unknown:
            raise ValueError(
                f"task {key!r} in DAG {where!r} depends on unknown task(s) "
                f"{unknown}; known tasks there: {sorted(tasks)}"
            )
        children: tuple[_Node, ...] = ()
        if isinstance(component.get("dag"), Mapping):
            children = _walk_dag(
                component["dag"], components, path=path + (key,),
                stack=stack + (comp_name,),
            )
        info = task.get("taskInfo") or {}
        display = str(info.get("name") or key)
        nodes[key] = _Node(
            path + (key,), display, comp_name, component, deps, children
        )
    order = _toposort({key: node.deps for key, node in nodes.items()}, where)
    return tuple(nodes[key] for key in order)


def _component_of(
    key: str, task: Any, components: Mapping[str, Any], where: str
) -> tuple[str, Mapping[str, Any]]:
    ref = task.get("componentRef") if isinstance(task, Mapping) else None
    comp_name = ref.get("name") if isinstance(ref, Mapping) else None
    component = components.get(comp_name) if comp_name else None
    if not isinstance(component, Mapping):
        raise ValueError(
            f"task {key!r} in DAG {where!r} refers to component {comp_name!r}, "
            "which is not in pipeline_spec.components"
        )
    return comp_name, component


def _dependencies(task: Mapping[str, Any]) -> tuple[str, ...]:
    """``dependentTasks`` plus the producers the task's inputs name."""
    named = task.get("dependentTasks") or []
    deps = [named] if isinstance(named, str) else list(named)
    inputs = task.get("inputs") or {}
    refs = (("artifacts", "taskOutputArtifact"), ("parameters", "taskOutputParameter"))
    for kind, ref in refs:
        for value in (inputs.get(kind) or {}).values():
            source = value.get(ref) if isinstance(value, Mapping) else None
            producer = source.get("producerTask") if source else None
            if producer:
                deps.append(producer)
    return tuple(dict.fromkeys(deps))


def _toposort(graph: dict[str, tuple[str, ...]], where: str) -> list[str]:
    """Kahn's algorithm, keeping spec order among ready tasks (stable output)."""
    pending = {key: set(deps) for key, deps in graph.items()}
    order: list[str] = []
    while pending:
        ready = [key for key, deps in pending.items() if not deps]
        if not ready:
            raise ValueError(
                f"dependency cycle in DAG {where!r}: {_cycle(pending)}; "
                "remove one of these dependencies"
            )
        for key in ready:
            del pending[key]
        order.extend(ready)
        for deps in pending.values():
            deps.difference_update(ready)
    return order


def _cycle(pending: dict[str, set[str]]) -> str:
    """One cycle among tasks that can never start, e.g. ``'a' → 'b' → 'a'``."""
    seen: list[str] = []
    node = min(pending)
    while node not in seen:
        seen.append(node)
        node = min(pending[node])
    loop = seen[seen.index(node):] + [node]
    return " → ".join(map(repr, loop))


def _flatten(tree: tuple[_Node, ...]) -> list[_Node]:
    found: list[_Node] = []
    for node in tree:
        found.append(node)
        found.extend(_flatten(node.children))
    return found


def _unique_names(tree: tuple[_Node, ...]) -> dict[tuple[str, ...], str]:
    """Plain task keys, or dotted paths for keys found in more than one DAG."""
    nodes = _flatten(tree)
    counts: dict[str, int] = {}
    for node in nodes:
        counts[node.path[-1]] = counts.get(node.path[-1], 0) + 1
    return {
        node.path: node.path[-1] if counts[node.path[-1]] == 1 else ".".join(node.path)
        for node in nodes
    }


def _emit(
    tree: tuple[_Node, ...],
    names: dict[tuple[str, ...], str],
    *,
    parent: str | None,
    out: list[TaskPlan],
) -> None:
    """Append each task, then its whole subtree, so dependents come after both."""
    for node in tree:
        name = names[node.path]
        siblings = node.path[:-1]
        out.append(
            TaskPlan(
                name=name,
                display_name=node.display_name,
                depends_on=tuple(names[siblings + (dep,)] for dep in node.deps),
                duration_s=_duration(node),
                outputs=() if node.children else _outputs(node.component),
                parent=parent,
            )
        )
        _emit(node.children, names, parent=name, out=out)


def _duration(node: _Node) -> float:
    """A leaf's hint, or the longest dependency chain through a DAG's children."""
    if not node.children:
        return task_duration(node.path[-1], node.component_name)
    finish: dict[str, float] = {}
    for child in node.children:
        start = max((finish[dep] for dep in child.deps), default=0.0)
        finish[child.path[-1]] = start + _duration(child)
    return max(finish.values())


def _outputs(component: Mapping[str, Any]) -> tuple[OutputPlan, ...]:
    artifacts = (component.get("outputDefinitions") or {}).get("artifacts") or {}
    plans = []
    for key, definition in artifacts.items():
        title = ((definition or {}).get("artifactType") or {}).get("schemaTitle", "")
        artifact_type = ARTIFACT_TYPES.get(title, "Artifact")
        plans.append(OutputPlan(key, artifact_type, _file_name(key, artifact_type)))
    return tuple(plans)


def _file_name(key: str, artifact_type: str) -> str | None:
    """The file a task of this output type writes; ``None`` for metrics."""
    if artifact_type in ("Metric", "ClassificationMetric"):
        return None
    for ending, suffix in _KEY_SUFFIX:
        if key.endswith(ending):
            return key + suffix
    if artifact_type in _FILE_SUFFIX:
        return key + _FILE_SUFFIX[artifact_type]
    if key == UI_METADATA_KEY:
        return UI_METADATA_KEY + ".json"
    if any(word in key.lower() for word in _IMAGE_WORDS):
        return key + ".png"
    return key + ".json"


# --- Demo pipelines ----------------------------------------------------------
# Written by hand in the IR shape the SDK compiles to (schema 2.1.0), so the demo
# exercises the same parser as uploaded specs.

_PARAM_TYPES = {
    bool: "BOOLEAN",
    int: "NUMBER_INTEGER",
    float: "NUMBER_DOUBLE",
    str: "STRING",
}
_IO = dict[str, str]
_Uses = dict[str, tuple[str, str]]


def _artifact_defs(artifacts: _IO) -> dict[str, Any]:
    return {
        key: {"artifactType": {"schemaTitle": title, "schemaVersion": "0.0.1"}}
        for key, title in artifacts.items()
    }


def _param_defs(params: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: {"parameterType": _PARAM_TYPES[type(value)], "defaultValue": value}
        for name, value in params.items()
    }


def _leaf(
    name: str, *, inputs: _IO, outputs: _IO, params: Mapping[str, Any]
) -> dict[str, Any]:
    component: dict[str, Any] = {"executorLabel": f"exec-{name}"}
    input_defs: dict[str, Any] = {}
    if inputs:
        input_defs["artifacts"] = _artifact_defs(inputs)
    if params:
        input_defs["parameters"] = _param_defs(params)
    if input_defs:
        component["inputDefinitions"] = input_defs
    if outputs:
        component["outputDefinitions"] = {"artifacts": _artifact_defs(outputs)}
    return component


def _executor(name: str) -> dict[str, Any]:
    function = name.replace("-", "_")
    return {
        "container": {
            "image": "python:3.11",
            "command": ["python3", "-m", "kfp.dsl.executor_main"],
            "args": ["--executor_input", "{{$}}", "--function_to_execute", function],
        }
    }


def _task(
    key: str, component: str, *, uses: _Uses, params: tuple[str, ...] = (),
    after: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A DAG task; ``uses`` maps input key → (producer task, output key)."""
    deps = sorted({producer for producer, _ in uses.values()} | set(after))
    task: dict[str, Any] = {
        "taskInfo": {"name": key},
        "componentRef": {"name": f"comp-{component}"},
        "cachingOptions": {"enableCache": True},
    }
    inputs: dict[str, Any] = {}
    if uses:
        inputs["artifacts"] = {
            name: {"taskOutputArtifact": {"producerTask": p, "outputArtifactKey": k}}
            for name, (p, k) in uses.items()
        }
    if params:
        inputs["parameters"] = {
            name: {"componentInputParameter": name} for name in params
        }
    if inputs:
        task["inputs"] = inputs
    if deps:
        task["dependentTasks"] = deps
    return task


class _SpecBuilder:
    """Collects components, executors and root tasks of one demo spec."""

    def __init__(
        self, name: str, *, display: str, params: Mapping[str, Any]
    ) -> None:
        self.name, self.display, self.params = name, display, dict(params)
        self.components: dict[str, Any] = {}
        self.executors: dict[str, Any] = {}

    def leaf(
        self, name: str, *, inputs: _IO | None = None, outputs: _IO,
        params: tuple[str, ...] = (),
    ) -> str:
        """Register a container component; returns its short name."""
        values = {p: self.params[p] for p in params}
        self.components[f"comp-{name}"] = _leaf(
            name, inputs=inputs or {}, outputs=outputs, params=values
        )
        self.executors[f"exec-{name}"] = _executor(name)
        return name

    def dag(self, name: str, *, tasks: dict[str, Any], inputs: _IO) -> str:
        """Register a DAG component whose ``tasks`` are already built."""
        self.components[f"comp-{name}"] = {
            "dag": {"tasks": tasks},
            "inputDefinitions": {"artifacts": _artifact_defs(inputs)},
        }
        return name

    def spec(self, tasks: dict[str, Any], *, description: str) -> dict[str, Any]:
        return {
            "components": self.components,
            "deploymentSpec": {"executors": self.executors},
            "pipelineInfo": {
                "name": self.name,
                "displayName": self.display,
                "description": description,
            },
            "root": {
                "dag": {"tasks": tasks},
                "inputDefinitions": {"parameters": _param_defs(self.params)},
            },
            "schemaVersion": "2.1.0",
            "sdkVersion": "kfp-2.14.0",
        }


def _training_pipeline() -> dict[str, Any]:
    """load-data → preprocess → train → evaluate → report: every viewer kind."""
    b = _SpecBuilder(
        "training-pipeline",
        display="Training pipeline",
        params={
            "learning_rate": 0.01, "epochs": 10, "batch_size": 32,
            "optimizer": "adam", "use_augmentation": True,
        },
    )
    ds, model = "system.Dataset", "system.Model"
    b.leaf("load-data", outputs={"raw_data": ds})
    b.leaf("preprocess", inputs={"raw_data": ds}, outputs={"train_data": ds},
           params=("use_augmentation",))
    b.leaf("train", inputs={"train_data": ds},
           outputs={"model": model, "training_metrics": "system.Metrics",
                    "loss_plot": "system.Artifact"},
           params=("learning_rate", "epochs", "batch_size", "optimizer"))
    b.leaf("evaluate", inputs={"model": model, "train_data": ds},
           outputs={"metrics": "system.Metrics",
                    "classification_metrics": "system.ClassificationMetrics",
                    "confusion_heatmap": "system.Artifact",
                    "predictions": ds})
    b.leaf("report", inputs={"predictions": ds},
           outputs={"report": "system.HTML", "summary": "system.Markdown"})
    tasks = {
        "load-data": _task("load-data", "load-data", uses={}),
        "preprocess": _task("preprocess", "preprocess",
                            uses={"raw_data": ("load-data", "raw_data")},
                            params=("use_augmentation",)),
        "train": _task("train", "train",
                       uses={"train_data": ("preprocess", "train_data")},
                       params=("learning_rate", "epochs", "batch_size", "optimizer")),
        "evaluate": _task("evaluate", "evaluate",
                          uses={"model": ("train", "model"),
                                "train_data": ("preprocess", "train_data")}),
        "report": _task("report", "report",
                        uses={"predictions": ("evaluate", "predictions")}),
    }
    return b.spec(tasks, description="Train and evaluate a classifier.")


def _sweep_pipeline() -> dict[str, Any]:
    """prepare-data → two nested tune DAGs in parallel → select-best."""
    b = _SpecBuilder(
        "hyperparameter-sweep",
        display="Hyperparameter sweep",
        params={"learning_rate": 0.05, "epochs": 20},
    )
    ds = "system.Dataset"
    b.leaf("prepare-data", outputs={"dataset": ds})
    b.leaf("fit", inputs={"dataset": ds},
           outputs={"model": "system.Model", "fit_metrics": "system.Metrics"},
           params=("learning_rate", "epochs"))
    b.leaf("score", inputs={"model": "system.Model", "dataset": ds},
           outputs={"metrics": "system.Metrics",
                    "classification_metrics": "system.ClassificationMetrics"})
    b.leaf("select-best", outputs={"summary": "system.Markdown"})
    inner = {
        "fit": {**_task("fit", "fit", uses={}, params=("learning_rate", "epochs")),
                "inputs": {"artifacts": {"dataset": {
                    "componentInputArtifact": "dataset"}}}},
        "score": _task("score", "score", uses={"model": ("fit", "model")}),
    }
    b.dag("tune-model", tasks=inner, inputs={"dataset": ds})
    feed = {"dataset": ("prepare-data", "dataset")}
    tasks = {
        "prepare-data": _task("prepare-data", "prepare-data", uses={}),
        "tune-xgboost": _task("tune-xgboost", "tune-model", uses=feed),
        "tune-forest": _task("tune-forest", "tune-model", uses=feed),
        "select-best": _task("select-best", "select-best", uses={},
                             after=("tune-forest", "tune-xgboost")),
    }
    return b.spec(tasks, description="Tune two model families side by side.")


def _validation_pipeline() -> dict[str, Any]:
    """ingest → three checks in parallel → publish."""
    b = _SpecBuilder(
        "data-validation", display="Data validation",
        params={"source_table": "events_daily", "drift_threshold": 0.2},
    )
    ds = "system.Dataset"
    b.leaf("ingest", outputs={"snapshot": ds}, params=("source_table",))
    b.leaf("validate-schema", inputs={"snapshot": ds},
           outputs={"schema_report": "system.Markdown"})
    b.leaf("profile-data", inputs={"snapshot": ds},
           outputs={"profile": "system.HTML", "histogram": "system.Artifact"})
    b.leaf("check-drift", inputs={"snapshot": ds},
           outputs={"drift_metrics": "system.Metrics"}, params=("drift_threshold",))
    b.leaf("publish", inputs={"snapshot": ds}, outputs={"published": ds})
    snap = {"snapshot": ("ingest", "snapshot")}
    checks = ("validate-schema", "profile-data", "check-drift")
    tasks = {
        "ingest": _task("ingest", "ingest", uses={}, params=("source_table",)),
        **{name: _task(name, name, uses=snap) for name in checks},
        "publish": _task("publish", "publish", uses=snap, after=checks),
    }
    tasks["check-drift"]["inputs"]["parameters"] = {
        "drift_threshold": {"componentInputParameter": "drift_threshold"}
    }
    return b.spec(tasks, description="Check a daily snapshot before publishing.")


def _legacy_pipeline() -> dict[str, Any]:
    """A v1-style visualisation: one ``mlpipeline-ui-metadata`` output."""
    b = _SpecBuilder(
        "v1-visualizations", display="V1 visualizations",
        params={"learning_rate": 0.1, "epochs": 5},
    )
    b.leaf("generate-data", outputs={"table": "system.Dataset"})
    b.leaf("visualize", inputs={"table": "system.Dataset"},
           outputs={UI_METADATA_KEY: "system.Artifact"},
           params=("learning_rate", "epochs"))
    tasks = {
        "generate-data": _task("generate-data", "generate-data", uses={}),
        "visualize": _task("visualize", "visualize",
                           uses={"table": ("generate-data", "table")},
                           params=("learning_rate", "epochs")),
    }
    return b.spec(tasks, description="Outputs read by the v1 output viewers.")


def _edge_case_pipeline() -> dict[str, Any]:
    """Outputs the viewers must show safely: hostile, malformed and odd content.

    What each output holds is in ``_content.EDGE_CASE_OUTPUTS`` (by output key).
    """
    b = _SpecBuilder(
        "viewer-edge-cases", display="Viewer edge cases",
        params={"learning_rate": 0.01, "epochs": 10},
    )
    b.leaf("hostile-report", outputs={"hostile_html": "system.HTML"})
    b.leaf("unsafe-notes", outputs={"unsafe_markdown": "system.Markdown",
                                    "unsafe_svg": "system.Artifact"})
    b.leaf("odd-metrics",
           outputs={"malformed_confusion_matrix": "system.ClassificationMetrics",
                    "wrapped_classification_metrics":
                        "system.ClassificationMetrics",
                    "odd_metric_names": "system.Metrics"})
    b.leaf("raw-outputs", outputs={"weights_blob": "system.Model",
                                   "run_log": "system.Artifact",
                                   "big_table": "system.Dataset"})
    order = ("hostile-report", "unsafe-notes", "odd-metrics", "raw-outputs")
    tasks = {
        name: _task(name, name, uses={}, after=order[i - 1:i])
        for i, name in enumerate(order)
    }
    return b.spec(tasks, description="Hostile, malformed and odd outputs.")


#: Pipeline display name → compiled spec (bare IR, camelCase).
DEMO_PIPELINES: dict[str, dict[str, Any]] = {
    pipeline_name(spec): spec
    for spec in (
        _training_pipeline(),
        _sweep_pipeline(),
        _validation_pipeline(),
        _legacy_pipeline(),
        _edge_case_pipeline(),
    )
}
