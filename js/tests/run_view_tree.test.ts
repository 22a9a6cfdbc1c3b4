import { describe, expect, it } from "vitest";
import { buildTaskTree, typeTag, visibleRows, type TaskNode } from "../src/run_view/tree";
import { fixtureRun, tasksFrom } from "./run_view_helpers";
import { readTasks } from "../src/run_view/tasks";

const ids = (nodes: TaskNode[]): string[] => nodes.map((n) => n.task.id);

describe("buildTaskTree", () => {
  it("links children to parents and orders siblings by create time", () => {
    const roots = buildTaskTree(
      tasksFrom([
        { id: "b", parent: "root", created: "2026-01-01T00:00:05Z" },
        { id: "root" },
        { id: "a", parent: "root", created: "2026-01-01T00:00:01Z" },
        { id: "a1", parent: "a" },
      ]),
    );
    expect(ids(roots)).toEqual(["root"]);
    expect(ids(roots[0].children)).toEqual(["a", "b"]);
    expect(ids(roots[0].children[0].children)).toEqual(["a1"]);
  });

  it("keeps a task whose parent is missing, after the true roots, marked orphan", () => {
    const roots = buildTaskTree(tasksFrom([{ id: "lost", parent: "gone" }, { id: "root" }]));
    expect(ids(roots)).toEqual(["root", "lost"]);
    expect(roots.map((n) => n.orphan)).toEqual([false, true]);
  });

  it("breaks cycles instead of hanging, and every task still shows once", () => {
    const tasks = tasksFrom([
      { id: "x", parent: "z" },
      { id: "y", parent: "x" },
      { id: "z", parent: "y" },
      { id: "self", parent: "self" },
    ]);
    const roots = buildTaskTree(tasks);
    const shown = visibleRows(roots, new Set()).map((r) => r.node.task.id);
    expect(shown.slice().sort()).toEqual(["self", "x", "y", "z"]);
    expect(roots.every((n) => n.orphan)).toBe(true);
  });

  it("gives missing and repeated task ids their own keys", () => {
    const tasks = readTasks([{ name: "a" }, { task_id: "t" }, { task_id: "t" }, 7, null]);
    const keys = tasks.map((t) => t.id);
    expect(new Set(keys).size).toBe(3);
    expect(keys[1]).toBe("t");
    expect(buildTaskTree(tasks)).toHaveLength(3);
  });

  it("builds the demo server's sweep run: root, two DAGs with fit and score", () => {
    const roots = buildTaskTree(readTasks(fixtureRun("run_failed").tasks));
    expect(roots).toHaveLength(1);
    expect(roots[0].task.name).toBe("Hyperparameter sweep");
    const dags = roots[0].children.filter((n) => n.task.type === "DAG");
    expect(dags.map((n) => n.task.name).sort()).toEqual(["tune-forest", "tune-xgboost"]);
    for (const dag of dags) expect(dag.children.map((n) => n.task.name)).toEqual(["fit", "score"]);
  });
});

describe("visibleRows", () => {
  const roots = buildTaskTree(
    tasksFrom([{ id: "r" }, { id: "d", parent: "r", type: "DAG" }, { id: "leaf", parent: "d" }]),
  );

  it("walks depth first with depths", () => {
    const rows = visibleRows(roots, new Set());
    expect(rows.map((r) => [r.node.task.id, r.depth])).toEqual([
      ["r", 0],
      ["d", 1],
      ["leaf", 2],
    ]);
  });

  it("hides the subtree of a collapsed node but keeps the node", () => {
    expect(visibleRows(roots, new Set(["d"])).map((r) => r.node.task.id)).toEqual(["r", "d"]);
  });
});

describe("typeTag", () => {
  it("tags containers and not leaves", () => {
    const [root, dag, branch, leaf] = tasksFrom([
      { id: "r" },
      { id: "d", parent: "r", type: "DAG" },
      { id: "c", parent: "r", type: "CONDITION_BRANCH" },
      { id: "l", parent: "d", type: "RUNTIME" },
    ]);
    expect([root, dag, branch, leaf].map(typeTag)).toEqual(["ROOT", "DAG", "CONDITION BRANCH", ""]);
  });
});
