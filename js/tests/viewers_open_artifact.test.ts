// "Open" in the artifacts table of the run view and of the run table's detail pane:
// an open_artifact request, the viewer in a pane with a close button.
import { afterEach, describe, expect, it } from "vitest";
import { renderRunTable } from "../src/run_table/index";
import { renderRunView } from "../src/run_view/index";
import { RULES } from "./lib_rules_fixture";
import { FakeModel as TableModel, ipcRows } from "./run_table_fake";
import { FakeModel, fixtureRun } from "./run_view_helpers";
import { flush, q, spec } from "./viewers_fake";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const { run, tasks } = fixtureRun("run_succeeded");
const RUN_ID = String(run.run_id);
const TASK_ID = "926c664b-79f9-5eec-963a-c565d49b0d89"; // prepare-data
const ARTIFACT_ID = "f9e0d5cf-3570-5eae-a85f-0eec377b4f10"; // its "dataset"

function host(): HTMLElement {
  const el = document.createElement("div");
  document.body.appendChild(el);
  cleanups.push(() => el.remove());
  return el;
}

function openButton(root: HTMLElement): HTMLButtonElement {
  const row = root.querySelector<HTMLElement>(
    `[data-testid="task-artifacts"] tr[data-task-id="${TASK_ID}"]`,
  );
  const button = row?.querySelector<HTMLButtonElement>("button");
  if (!button) throw new Error("no Open button for the dataset");
  return button;
}

describe("run view: open artifact", () => {
  async function setup() {
    const model = new FakeModel({
      _panel: "run_view",
      run_id: RUN_ID,
      rules: RULES,
      time_zone: "UTC",
      error: "",
      polling: false,
      updated_at: "",
    });
    const el = host();
    const baseline = model.listenerCount();
    const stop = renderRunView({ model, el });
    cleanups.push(stop);
    const detail = model.sent[0];
    model.receive({ kind: "run_detail", id: detail.id, ok: true, run, tasks });
    await flush();
    return { model, el, stop, baseline };
  }

  it("asks the kernel for the artifact and shows it in a closable pane", async () => {
    const { model, el } = await setup();
    const pane = q(el, "artifact-pane")!;
    expect(pane.hidden).toBe(true);
    openButton(el).click();
    expect(model.sent[1]).toMatchObject({
      kind: "open_artifact",
      run_id: RUN_ID,
      task_id: TASK_ID,
      name: ARTIFACT_ID,
    });
    expect(pane.hidden).toBe(false);
    model.receive({
      kind: "open_artifact",
      id: model.sent[1].id,
      ok: true,
      spec: spec("table", { columns: ["<id>"], rows: [[1]], total_rows: 1 }),
    });
    await flush();
    expect(q(pane, "viewer-table")).not.toBeNull();
    expect(q(pane, "table-header")?.textContent).toBe("<id>");
    (q(pane, "artifact-close") as HTMLButtonElement).click();
    expect(pane.hidden).toBe(true);
    expect(q(pane, "viewer-table")).toBeNull();
  });

  it("keeps the pane open across polls and closes it for another run", async () => {
    const { model, el } = await setup();
    openButton(el).click();
    model.receive({
      kind: "open_artifact",
      id: model.sent[1].id,
      ok: true,
      spec: spec("text", { text: "x" }),
    });
    await flush();
    model.receive({ kind: "run_detail", run, tasks }); // a poll redraws the detail
    expect(q(el, "artifact-pane")!.hidden).toBe(false);
    expect(q(el, "viewer-text")).not.toBeNull();
    model.push("run_id", "another-run");
    expect(q(el, "artifact-pane")!.hidden).toBe(true);
  });

  it("shows the kernel's refusal in the pane", async () => {
    const { model, el } = await setup();
    openButton(el).click();
    model.receive({
      kind: "open_artifact",
      id: model.sent[1].id,
      ok: false,
      error: "no such output",
    });
    await flush();
    expect(q(el, "artifact-pane-error")?.textContent).toContain("no such output");
  });

  it("leaves no listener behind when closed mid-request", async () => {
    const { model, el, stop, baseline } = await setup();
    openButton(el).click();
    stop();
    expect(model.listenerCount()).toBe(baseline);
  });
});

describe("run table detail pane: open artifact", () => {
  it("opens an artifact of the run shown and closes with the run's pane", async () => {
    const model = new TableModel({
      _panel: "run_table",
      rules: RULES,
      time_zone: "UTC",
      error: "",
      poll_interval: 5,
      polling: false,
      updated_at: "",
      selected: [],
      archived: "active",
      columns: [{ key: "display_name", label: "Name", kind: "text", hideable: false }],
      hidden_columns: [],
      sort: { key: "", desc: false },
      text_filter: "",
      state_filter: [],
      loaded: 1,
      total: 1,
      loading: false,
      last_action: {},
    });
    const el = host();
    const ctl = new AbortController();
    const stop = renderRunTable({ model: model as any, el, signal: ctl.signal } as any);
    cleanups.push(() => {
      stop?.();
      ctl.abort();
    });
    const load = model.lastSent("load")!;
    model.pySend({ kind: "rows", id: load.content.id, replace: true, ok: true }, [
      ipcRows([{ run_id: RUN_ID, display_name: "sweep" }]),
    ]);
    await flush();
    el.querySelector<HTMLElement>(
      `[data-run-id="${RUN_ID}"] [data-testid=run-link]`,
    )!.click();
    const req = model.lastSent("run_detail")!.content;
    model.pySend({ kind: "run_detail", id: req.id, ok: true, run, tasks, error: "" });
    await flush();

    openButton(el).click();
    const open = model.lastSent("open_artifact")!.content;
    expect(open).toMatchObject({ run_id: RUN_ID, task_id: TASK_ID, name: ARTIFACT_ID });
    model.pySend({
      kind: "open_artifact",
      id: open.id,
      ok: true,
      spec: spec("metrics", { groups: [] }),
    });
    await flush();
    const pane = q(el, "artifact-pane")!;
    expect(pane.hidden).toBe(false);
    expect(q(pane, "viewer-metrics")).not.toBeNull();
    expect(q(el, "run-detail-pane")!.contains(pane)).toBe(true);

    (q(el, "detail-close") as HTMLButtonElement).click();
    expect(pane.hidden).toBe(true);
  });
});
