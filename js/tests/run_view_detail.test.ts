import { afterEach, describe, expect, it, vi } from "vitest";
import { renderRunDetail } from "../src/run_view/detail";
import { RULES } from "./lib_rules_fixture";
import { fixtureRun } from "./run_view_helpers";

const OPTS = { timeZone: "UTC", rules: RULES };
const T0 = "2026-01-01T00:00:00Z";
const q = (el: ParentNode, id: string): HTMLElement | null =>
  el.querySelector(`[data-testid="${id}"]`);
const all = (el: ParentNode, id: string): HTMLElement[] =>
  Array.from(el.querySelectorAll<HTMLElement>(`[data-testid="${id}"]`));

let host: HTMLElement;
afterEach(() => host?.remove());

function mount(detail: unknown, opts: Record<string, unknown> = {}): HTMLElement {
  host = document.createElement("div");
  document.body.appendChild(host);
  renderRunDetail(host, detail as never, { ...OPTS, ...opts } as never);
  return host;
}

describe("renderRunDetail with the demo server's failed run", () => {
  it("shows the run's fields in the labelled zone", () => {
    const el = mount(fixtureRun("run_failed"));
    expect(q(el, "kfp-run-detail")?.classList.contains("kfp-nb")).toBe(true);
    expect(q(el, "detail-state")?.textContent).toContain("FAILED");
    const text = q(el, "detail-fields")?.textContent ?? "";
    expect(text).toContain("95a26a2c-de50-5c3f-ae30-b78549c99ddf");
    expect(text).toContain("2026-11-22 06:17:38"); // created, UTC
    expect(text).toContain("2026-11-22 06:17:41"); // started = first RUNNING
    expect(text).toContain("51 s"); // duration created → finished
    expect(text).toContain("pipeline-runner");
    expect(text).toContain("Hyperparameter sweep run #9");
  });

  it("shows the same times in another zone", () => {
    const el = mount(fixtureRun("run_failed"), { timeZone: "Asia/Tokyo" });
    const text = q(el, "detail-fields")?.textContent ?? "";
    expect(text).toContain("2026-11-22 15:17:38");
    expect(text).toContain("Asia/Tokyo");
  });

  it("lists parameters and the state history with the error", () => {
    const el = mount(fixtureRun("run_failed"));
    const params = q(el, "detail-params") as HTMLElement;
    const rows = Array.from(params.querySelectorAll("tr")).map((tr) => tr.textContent);
    expect(rows).toEqual(["epochs5", "fail_taskscore", "learning_rate0.0551"]);
    const history = Array.from((q(el, "detail-history") as HTMLElement).querySelectorAll("li"));
    const states = history.map((li) => li.querySelector(".kfp-badge")?.getAttribute("data-state"));
    expect(states).toEqual(["PENDING", "RUNNING", "FAILED"]);
    expect(history[2].textContent).toContain("exit code 1");
  });

  it("shows the failing task's error prominently", () => {
    const el = mount(fixtureRun("run_failed"));
    const box = q(el, "first-error") as HTMLElement;
    expect(box.textContent).toContain("Task score failed");
    expect(box.textContent).toContain("task 'score' failed: exit code 1");
    expect(box.getAttribute("role")).toBe("alert");
  });

  it("draws every task in the tree with DAGs marked, and one bar per task", () => {
    const { run, tasks } = fixtureRun("run_failed");
    const el = mount({ run, tasks });
    const nodes = all(el, "task-node");
    expect(nodes).toHaveLength(tasks.length);
    const dags = nodes.filter((n) => n.classList.contains("kfp-task-container"));
    expect(dags.map((n) => n.querySelector(".kfp-task-type")?.textContent).sort()).toEqual([
      "DAG",
      "DAG",
      "ROOT",
    ]);
    expect(nodes.map((n) => Number(n.getAttribute("aria-level")))).toContain(3);
    expect(all(el, "gantt-bar")).toHaveLength(tasks.length);
    expect(q(el, "gantt")?.querySelectorAll(".kfp-gantt-tick").length).toBeGreaterThan(1);
  });

  it("toggles a DAG with Enter and Space, hiding its bars too, and keeps focus", () => {
    const el = mount(fixtureRun("run_failed"));
    const dag = (): HTMLElement =>
      all(el, "task-node").find((n) => n.textContent?.includes("tune-forest")) as HTMLElement;
    const before = all(el, "task-node").length;
    dag().focus();
    dag().dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(all(el, "task-node")).toHaveLength(before - 2);
    expect(all(el, "gantt-bar")).toHaveLength(before - 2);
    expect(dag().getAttribute("aria-expanded")).toBe("false");
    expect(document.activeElement).toBe(dag());
    dag().dispatchEvent(new KeyboardEvent("keydown", { key: " ", bubbles: true }));
    expect(all(el, "task-node")).toHaveLength(before);
    expect(dag().tabIndex).toBe(0);
  });

  it("keeps nodes closed across re-renders when given the same set", () => {
    const collapsed = new Set<string>();
    const detail = fixtureRun("run_failed");
    const el = mount(detail, { collapsed });
    const root = all(el, "task-node")[0];
    root.click();
    expect(all(el, "task-node")).toHaveLength(1);
    renderRunDetail(el, detail as never, { ...OPTS, collapsed });
    expect(all(el, "task-node")).toHaveLength(1);
  });

  it("lists output artifacts with metric values and calls onOpenArtifact", () => {
    const onOpenArtifact = vi.fn();
    const el = mount(fixtureRun("run_failed"), { onOpenArtifact });
    const section = q(el, "task-artifacts") as HTMLElement;
    const rows = Array.from(section.querySelectorAll("tr"));
    const auc = rows.find((tr) => tr.textContent?.includes("auc"));
    expect(auc?.textContent).toContain("Metric");
    expect(auc?.textContent).toContain("0.8287");
    const model = rows.find((tr) => tr.textContent?.includes("Model")) as HTMLElement;
    expect(model.textContent).toContain("minio://mlpipeline/v2/artifacts/");
    (model.querySelector("button") as HTMLButtonElement).click();
    expect(onOpenArtifact).toHaveBeenCalledTimes(1);
    const [taskId, artifact] = onOpenArtifact.mock.calls[0];
    expect(taskId).toBe(model.getAttribute("data-task-id"));
    expect(artifact.type).toBe("Model");
  });

  it("shows artifact info without buttons when no callback is given", () => {
    const el = mount(fixtureRun("run_failed"));
    const section = q(el, "task-artifacts") as HTMLElement;
    expect(section.textContent).toContain("dataset");
    expect(section.querySelectorAll("button")).toHaveLength(0);
  });

  it("returns a cleanup that removes the detail", () => {
    host = document.createElement("div");
    const cleanup = renderRunDetail(host, fixtureRun("run_failed") as never, OPTS);
    expect(q(host, "kfp-run-detail")).not.toBeNull();
    cleanup();
    expect(host.childElementCount).toBe(0);
  });
});

describe("renderRunDetail with other runs", () => {
  it("shows a succeeded run without an error box", () => {
    const el = mount(fixtureRun("run_succeeded"));
    expect(q(el, "first-error")).toBeNull();
    expect(q(el, "detail-state")?.textContent).toContain("SUCCEEDED");
    const bars = all(el, "gantt-bar");
    expect(bars.every((b) => b.classList.contains("kfp-gantt-succeeded"))).toBe(true);
  });

  it("extends running tasks of an unfinished run to now, with the run's duration running", () => {
    const detail = fixtureRun("run_canceling");
    const created = Date.parse(String(detail.run.created_at));
    const el = mount(detail, { now: () => created + 3_600_000 });
    const running = all(el, "gantt-bar").filter((b) => b.classList.contains("kfp-gantt-running"));
    expect(running.length).toBeGreaterThan(0);
    for (const bar of running) {
      expect(parseFloat(bar.style.left) + parseFloat(bar.style.width)).toBeCloseTo(100, 1);
    }
    expect(q(el, "detail-fields")?.textContent).toContain("1 h 00 m (running)");
  });

  it("marks cached tasks' bars", () => {
    const el = mount({
      run: { run_id: "r", state: "SUCCEEDED" },
      tasks: [
        { task_id: "c", state: "CACHED", create_time: T0, end_time: "2026-01-01T00:00:01Z" },
        { task_id: "s", state: "SUCCEEDED", create_time: T0, end_time: "2026-01-01T00:00:09Z" },
      ],
    });
    const bars = all(el, "gantt-bar");
    expect(bars.map((b) => b.getAttribute("data-cached"))).toEqual(["true", null]);
  });

  it("falls back to the run's own error when no task failed", () => {
    const el = mount({
      run: {
        state: "FAILED",
        state_history: [{ state: "FAILED", error: { code: 3, message: "pipeline spec invalid" } }],
      },
      tasks: [],
    });
    expect(q(el, "first-error")?.textContent).toContain("pipeline spec invalid");
  });
});

describe("renderRunDetail with hostile or broken input", () => {
  const html = '<img src=x onerror=alert(1)> 訓練 🚀 & "quoted" </td><script>alert(2)</script>';

  it("keeps markup in names, messages and parameters as text (case 38)", () => {
    const art = { name: html, uri: html };
    const el = mount({
      run: {
        display_name: html,
        description: "line1\nline2 <b>bold?</b>",
        state: "FAILED",
        runtime_config: { parameters: { "<i>p</i>": html } },
      },
      tasks: [
        { task_id: "t", display_name: html, state: "FAILED", error: { message: html } },
        { task_id: "u", outputs: { artifacts: [{ artifact_key: "<b>k</b>", artifacts: [art] }] } },
      ],
    });
    for (const tag of ["img", "script", "b", "i", "td script"]) {
      expect(el.querySelectorAll(`[data-testid="kfp-run-detail"] ${tag}`)).toHaveLength(0);
    }
    expect(el.querySelector(".kfp-detail-name")?.textContent).toBe(html);
    expect(q(el, "first-error")?.textContent).toContain(html);
    expect(q(el, "detail-params")?.textContent).toContain("<i>p</i>");
    expect(q(el, "task-node")?.textContent).toContain(html);
  });

  it.each([
    ["nothing", undefined],
    ["null", null],
    ["a string", "run"],
    ["null parts", { run: null, tasks: null }],
    ["wrong types", { run: [], tasks: "tasks" }],
    [
      "wrong field types",
      {
        run: {
          display_name: 42,
          state: { x: 1 },
          created_at: 5,
          finished_at: ["x"],
          runtime_config: { parameters: [1, 2] },
          state_history: [null, 3, { state: null, update_time: {}, error: "boom" }],
          pipeline_version_reference: "p",
        },
        tasks: [
          null,
          1,
          "t",
          [],
          { task_id: {}, parent_task_id: 9, state: 7, child_tasks: "c", outputs: [] },
        ],
      },
    ],
  ])("renders %s without throwing, with dashes for missing values", (_label, detail) => {
    const el = mount(detail);
    expect(q(el, "kfp-run-detail")).not.toBeNull();
    expect(q(el, "detail-state")?.textContent).toContain("—");
    expect(q(el, "detail-fields")?.textContent).toContain("—");
  });

  it("survives missing options", () => {
    host = document.createElement("div");
    const detail = fixtureRun("run_canceling") as never;
    expect(() => renderRunDetail(host, detail, undefined as never)).not.toThrow();
    expect(q(host, "task-tree")?.childElementCount).toBe(1);
  });
});

describe("renderRunDetail redraws", () => {
  it("keep keyboard focus on the same task node", () => {
    const detail = fixtureRun("run_failed");
    const el = mount(detail);
    const target = all(el, "task-node")[2];
    const id = target.dataset.taskId;
    target.focus();
    renderRunDetail(el, detail as never, OPTS);
    const active = document.activeElement as HTMLElement;
    expect(active).not.toBe(target); // a new element…
    expect(active.dataset.taskId).toBe(id); // …for the same task
  });
});
