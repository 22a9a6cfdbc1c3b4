"""Compiled pipeline specs → task plans, and the demo specs."""

from __future__ import annotations

import copy
import json

import pytest

from kfp_nb.server._pipelines import (
    DEMO_PIPELINES,
    OutputPlan,
    TaskPlan,
    pipeline_name,
    plan_from_spec,
)


def _component(outputs: dict[str, str] | None = None) -> dict:
    """A container component with the given ``{key: schemaTitle}`` outputs."""
    artifacts = {
        key: {"artifactType": {"schemaTitle": title, "schemaVersion": "0.0.1"}}
        for key, title in (outputs or {}).items()
    }
    component: dict = {"executorLabel": "exec-x"}
    if artifacts:
        component["outputDefinitions"] = {"artifacts": artifacts}
    return component


def _task(component: str, *deps: str, label: str | None = None) -> dict:
    task: dict = {"componentRef": {"name": component}}
    if label:
        task["taskInfo"] = {"name": label}
    if deps:
        task["dependentTasks"] = list(deps)
    return task


def _spec(tasks: dict, components: dict, name: str = "p") -> dict:
    return {
        "pipelineInfo": {"name": name},
        "root": {"dag": {"tasks": tasks}},
        "components": components,
        "schemaVersion": "2.1.0",
    }


def _assert_valid_order(plans: list[TaskPlan]) -> None:
    """Dependencies and parents come first; a DAG's subtree precedes dependents."""
    position = {plan.name: i for i, plan in enumerate(plans)}
    assert len(position) == len(plans), "task names must be unique"
    for i, plan in enumerate(plans):
        for dep in plan.depends_on:
            assert position[dep] < i, (dep, plan.name)
            for other in plans:
                if other.parent == dep:
                    assert position[other.name] < i, (other.name, plan.name)
        if plan.parent is not None:
            assert position[plan.parent] < i


def test_linear_spec_listed_in_dependency_order_whatever_the_key_order():
    components = {"comp-a": _component(), "comp-b": _component()}
    tasks = {
        "report": _task("comp-b", "train"),
        "train": _task("comp-a", "load"),
        "load": _task("comp-a"),
    }
    plans = plan_from_spec(_spec(tasks, components))

    assert [p.name for p in plans] == ["load", "train", "report"]
    assert plans[1].depends_on == ("load",)
    assert all(p.parent is None for p in plans)


def test_producer_tasks_of_inputs_count_as_dependencies():
    task = _task("comp-a")
    task["inputs"] = {
        "artifacts": {
            "data": {"taskOutputArtifact": {"producerTask": "make",
                                            "outputArtifactKey": "out"}}
        },
        "parameters": {"n": {"taskOutputParameter": {"producerTask": "count",
                                                     "outputParameterKey": "n"}}},
    }
    tasks = {"use": task, "make": _task("comp-a"), "count": _task("comp-a")}
    plans = plan_from_spec(_spec(tasks, {"comp-a": _component()}))

    use = next(p for p in plans if p.name == "use")
    assert set(use.depends_on) == {"make", "count"}
    assert plans[-1].name == "use"


def test_outputs_map_schema_titles_and_file_names():
    outputs = {
        "metrics": "system.Metrics",
        "cm": "system.ClassificationMetrics",
        "page": "system.HTML",
        "notes": "system.Markdown",
        "table": "system.Dataset",
        "model": "system.Model",
        "loss_plot": "system.Artifact",
        "blob": "system.Artifact",
        "mlpipeline-ui-metadata": "system.Artifact",
        "odd": "acme.Custom",
    }
    spec = _spec({"t": _task("comp-t")}, {"comp-t": _component(outputs)})
    (plan,) = plan_from_spec(spec)

    assert plan.outputs == (
        OutputPlan("metrics", "Metric", None),
        OutputPlan("cm", "ClassificationMetric", None),
        OutputPlan("page", "HTML", "page.html"),
        OutputPlan("notes", "Markdown", "notes.md"),
        OutputPlan("table", "Dataset", "table.csv"),
        OutputPlan("model", "Model", "model.json"),
        OutputPlan("loss_plot", "Artifact", "loss_plot.png"),
        OutputPlan("blob", "Artifact", "blob.json"),
        OutputPlan("mlpipeline-ui-metadata", "Artifact",
                   "mlpipeline-ui-metadata.json"),
        OutputPlan("odd", "Artifact", "odd.json"),
    )


def test_display_name_comes_from_task_info():
    spec = _spec({"t-1": _task("comp-a", label="Train model")},
                 {"comp-a": _component()})
    (plan,) = plan_from_spec(spec)
    assert (plan.name, plan.display_name) == ("t-1", "Train model")


def _nested_spec() -> dict:
    inner = {
        "fit": _task("comp-leaf"),
        "score": _task("comp-leaf", "fit"),
    }
    components = {
        "comp-leaf": _component({"m": "system.Metrics"}),
        "comp-branch": {"dag": {"tasks": inner}},
        "comp-solo": {"dag": {"tasks": {"only": _task("comp-leaf")}}},
    }
    tasks = {
        "finish": _task("comp-leaf", "left", "right", "solo"),
        "left": _task("comp-branch", "start"),
        "right": _task("comp-branch", "start"),
        "solo": _task("comp-solo"),
        "start": _task("comp-leaf"),
    }
    return _spec(tasks, components)


def test_nested_dags_give_parents_unique_names_and_a_valid_order():
    plans = plan_from_spec(_nested_spec())
    by_name = {p.name: p for p in plans}

    _assert_valid_order(plans)
    # "fit" and "score" exist in two DAGs, so they are qualified; "only" is not.
    assert by_name["left.fit"].parent == "left"
    assert by_name["right.score"].depends_on == ("right.fit",)
    assert by_name["right.score"].display_name == "score"
    assert by_name["only"].parent == "solo"
    assert by_name["finish"].depends_on == ("left", "right", "solo")
    assert plans[-1].name == "finish"


def test_dag_task_spans_its_children_and_has_no_outputs():
    by_name = {p.name: p for p in plan_from_spec(_nested_spec())}
    left = by_name["left"]
    chain = by_name["left.fit"].duration_s + by_name["left.score"].duration_s

    assert left.outputs == ()
    assert left.duration_s == pytest.approx(chain)
    assert by_name["left.fit"].outputs == (OutputPlan("m", "Metric", None),)


def test_wrapped_spec_gives_the_same_plan_as_the_bare_one():
    bare = _nested_spec()
    wrapped = {"pipeline_spec": copy.deepcopy(bare), "platform_spec": {}}

    assert plan_from_spec(wrapped) == plan_from_spec(bare)
    assert pipeline_name(wrapped) == pipeline_name(bare) == "p"


def test_pipeline_name_prefers_display_name():
    spec = _spec({"t": _task("comp-a")}, {"comp-a": _component()})
    spec["pipelineInfo"]["displayName"] = "My pipeline"
    assert pipeline_name(spec) == "My pipeline"
    assert pipeline_name({"root": {}}) == "unnamed-pipeline"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"pipelineInfo": {"name": "p"}}, "no root.dag.tasks"),
        ({"root": {"dag": {}}}, "no root.dag.tasks"),
        (_spec({}, {}), "empty"),
        (_spec({"t": _task("comp-missing")}, {}), "'comp-missing'"),
        (_spec({"t": _task("comp-a", "ghost")}, {"comp-a": _component()}),
         "unknown task(s) ['ghost']"),
        (_spec({"a": _task("comp-a", "b"), "b": _task("comp-a", "a"),
                "c": _task("comp-a")}, {"comp-a": _component()}),
         "dependency cycle in DAG 'root': 'a' → 'b' → 'a'"),
        (_spec({"a": _task("comp-a", "a")}, {"comp-a": _component()}),
         "'a' → 'a'"),
        (_spec({"t": _task("comp-loop")},
               {"comp-loop": {"dag": {"tasks": {"again": _task("comp-loop")}}}}),
         "'comp-loop' contains itself"),
    ],
    ids=["no-root", "no-tasks", "empty-dag", "missing-component", "unknown-dep",
         "cycle", "self-dependency", "self-containing-dag"],
)
def test_unusable_specs_raise_value_error_naming_the_problem(spec, message):
    with pytest.raises(ValueError) as caught:
        plan_from_spec(spec)
    assert message in str(caught.value)


def test_cycle_inside_a_nested_dag_names_that_dag():
    inner = {"x": _task("comp-a", "y"), "y": _task("comp-a", "x")}
    spec = _spec({"outer": _task("comp-d")},
                 {"comp-a": _component(), "comp-d": {"dag": {"tasks": inner}}})
    with pytest.raises(ValueError, match="DAG 'outer'"):
        plan_from_spec(spec)


def test_non_object_spec_is_refused():
    with pytest.raises(ValueError, match="JSON object"):
        plan_from_spec(["not", "a", "spec"])  # type: ignore[arg-type]


def test_plans_are_deterministic():
    for spec in DEMO_PIPELINES.values():
        assert plan_from_spec(spec) == plan_from_spec(copy.deepcopy(spec))


# --- Demo pipelines ------------------------------------------------------------


def test_demo_pipelines_are_keyed_by_display_name_and_json_clean():
    assert len(DEMO_PIPELINES) >= 3
    for name, spec in DEMO_PIPELINES.items():
        assert pipeline_name(spec) == name
        assert json.loads(json.dumps(spec)) == spec
        assert spec["schemaVersion"] == "2.1.0"
        for task in spec["root"]["dag"]["tasks"].values():
            assert task["componentRef"]["name"] in spec["components"]


def test_every_demo_executor_label_has_an_executor():
    for spec in DEMO_PIPELINES.values():
        executors = spec["deploymentSpec"]["executors"]
        for component in spec["components"].values():
            if "executorLabel" in component:
                assert component["executorLabel"] in executors


def test_demo_training_pipeline_outputs_every_viewer_kind():
    plans = plan_from_spec(DEMO_PIPELINES["Training pipeline"])
    outputs = [o for p in plans for o in p.outputs]
    kinds = {o.artifact_type for o in outputs}

    assert [p.name for p in plans] == [
        "load-data", "preprocess", "train", "evaluate", "report"
    ]
    assert {"Metric", "ClassificationMetric", "HTML", "Markdown", "Dataset",
            "Model"} <= kinds
    assert any((o.file_name or "").endswith(".png") for o in outputs)


def test_demo_has_a_nested_pipeline_with_parallel_branches():
    nested = [
        plans for plans in map(plan_from_spec, DEMO_PIPELINES.values())
        if any(p.parent for p in plans)
    ]
    assert nested
    plans = nested[0]
    _assert_valid_order(plans)
    dags = [p for p in plans if any(c.parent == p.name for c in plans)]
    assert len(dags) >= 2
    # The branches share their dependencies, so they can run side by side.
    assert len({p.depends_on for p in dags}) == 1


def _critical_path(plans: list[TaskPlan]) -> float:
    finish: dict[str, float] = {}
    for plan in plans:
        if plan.parent is None:
            start = max((finish[d] for d in plan.depends_on), default=0.0)
            finish[plan.name] = start + plan.duration_s
    return max(finish.values())


def test_demo_runs_last_one_to_three_minutes_at_speed_one():
    for name, spec in DEMO_PIPELINES.items():
        plans = plan_from_spec(spec)
        assert all(p.duration_s > 0 for p in plans), name
        assert 45 <= _critical_path(plans) <= 180, name
