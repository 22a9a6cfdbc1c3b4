// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { renderRunTable } from "../src/run_table/index";
import { FakeModel, ipcRows, manyRows, type RowSpec } from "./run_table_fake";
import { RULES } from "./lib_rules_fixture";

const COLUMNS = [
  { key: "display_name", label: "Name", kind: "text", hideable: false },
  { key: "state", label: "State", kind: "state", hideable: false },
  { key: "experiment_name", label: "Experiment", kind: "text", hideable: true },
  { key: "created_at", label: "Created", kind: "time", hideable: true },
  { key: "duration", label: "Duration", kind: "duration", hideable: true },
  { key: "pipeline", label: "Pipeline", kind: "text", hideable: true },
  { key: "param.lr", label: "lr", kind: "number", hideable: true },
];

function traits(extra: Record<string, unknown> = {}) {
  return {
    _panel: "run_table",
    rules: RULES,
    time_zone: "UTC",
    error: "",
    poll_interval: 5,
    polling: true,
    updated_at: "",
    selected: [],
    archived: "active",
    columns: COLUMNS,
    hidden_columns: [],
    sort: { key: "", desc: false },
    text_filter: "",
    state_filter: [],
    loaded: 0,
    total: 0,
    loading: false,
    last_action: {},
    ...extra,
  };
}

let el: HTMLElement;
let cleanup: (() => void) | undefined;

beforeEach(() => {
  el = document.createElement("div");
  document.body.appendChild(el);
});

afterEach(() => {
  cleanup?.();
  cleanup = undefined;
  el.remove();
  vi.useRealTimers();
});

function mount(model: FakeModel): void {
  cleanup = renderRunTable({
    model: model as any,
    el,
    signal: new AbortController().signal,
  } as any);
}

/** Render and answer the `load` request with `rows`. */
async function mountWith(
  rows: RowSpec[],
  extra: Record<string, unknown> = {},
): Promise<FakeModel> {
  const model = new FakeModel(
    traits({ loaded: rows.length, total: rows.length, ...extra }),
  );
  mount(model);
  const load = model.lastSent("load");
  expect(load).toBeDefined();
  model.pySend({ kind: "rows", id: load!.content.id, replace: true, ok: true }, [
    ipcRows(rows),
  ]);
  await Promise.resolve();
  await Promise.resolve();
  return model;
}

const q = (id: string) => el.querySelector<HTMLElement>(`[data-testid="${id}"]`);
const qa = (id: string) => [
  ...el.querySelectorAll<HTMLElement>(`[data-testid="${id}"]`),
];
const rowIds = () =>
  qa("run-row")
    .sort((a, b) => Number(a.dataset.index) - Number(b.dataset.index))
    .map((r) => r.dataset.runId);
const button = (action: string) => q(`action-${action}`) as HTMLButtonElement;

function rowOf(id: string): HTMLElement {
  const row = el.querySelector<HTMLElement>(
    `[data-testid="run-row"][data-run-id="${id}"]`,
  );
  if (!row) throw new Error(`row ${id} not drawn`);
  return row;
}

function tick(id: string, init: MouseEventInit = {}): void {
  const box = rowOf(id).querySelector<HTMLInputElement>("[data-testid=row-select]")!;
  box.dispatchEvent(
    new MouseEvent("click", { bubbles: true, cancelable: true, ...init }),
  );
}

const FIVE: RowSpec[] = [
  {
    run_id: "r1",
    display_name: "one",
    state: "RUNNING",
    created_at: 3000,
    experiment_name: "e",
  },
  {
    run_id: "r2",
    display_name: "two",
    state: "FAILED",
    created_at: 1000,
    params: { lr: 0.5 },
  },
  {
    run_id: "r3",
    display_name: "three",
    state: "FAILED",
    created_at: 2000,
    params: { lr: 0.1 },
  },
  {
    run_id: "r4",
    display_name: "four",
    state: "SUCCEEDED",
    created_at: 5000,
    storage_state: "ARCHIVED",
  },
  { run_id: "r5", display_name: "five", state: "PENDING", created_at: 4000 },
];

describe("run table render", () => {
  it("asks for rows on render and draws them", async () => {
    await mountWith(FIVE);
    expect(q("kfp-run-table")).not.toBeNull();
    expect(rowIds()).toEqual(["r1", "r2", "r3", "r4", "r5"]);
    expect(q("row-count")!.textContent).toBe("5 of 5 runs loaded");
    expect(q("time-zone")!.textContent).toBe("UTC");
    expect(rowOf("r1").textContent).toContain("1970-01-01 00:00:03");
    expect(q("col-param.lr")!.textContent).toContain("lr");
  });

  it("keeps the DOM small with 100,000 rows and reaches the end by scrolling", async () => {
    const model = await mountWith(manyRows(100_000));
    expect(qa("run-row").length).toBeGreaterThan(10);
    expect(qa("run-row").length).toBeLessThanOrEqual(300);
    expect(q("row-count")!.textContent).toBe("100,000 of 100,000 runs loaded");
    const scroll = q("table-scroll")!;
    const spacer = scroll.querySelector<HTMLElement>(".kfp-spacer")!;
    expect(spacer.style.height).toBe(`${100_000 * 30}px`);

    vi.useFakeTimers();
    scroll.scrollTop = 100_000 * 30;
    scroll.dispatchEvent(new Event("scroll"));
    vi.advanceTimersByTime(50);
    expect(rowIds()).toContain("run-99999");
    expect(qa("run-row").length).toBeLessThanOrEqual(300);
    expect(model.sent.filter((s) => s.content.kind === "load").length).toBe(1);
  });

  it("shows one row per run when a page repeats a run id", async () => {
    vi.useFakeTimers();
    await mountWith([
      { run_id: "a", state: "RUNNING" },
      { run_id: "b" },
      { run_id: "a", state: "FAILED" },
    ]);
    vi.advanceTimersByTime(250);
    expect(rowIds()).toEqual(["b", "a"]);
    expect(rowOf("a").textContent).toContain("FAILED");
  });

  it("shows names with markup as text", async () => {
    const name = "<img src=x onerror=alert(1)> 訓練 🚀 </td><script>alert(2)</script>";
    await mountWith([
      { run_id: "x", display_name: name, params: { note: "<b>p</b>" } },
    ]);
    const link = rowOf("x").querySelector("[data-testid=run-link]")!;
    expect(link.textContent).toBe(name);
    expect(el.querySelector("img, script, b")).toBeNull();
  });

  it("ticks a row into the selected trait and enables only valid actions", async () => {
    const model = await mountWith(FIVE);
    for (const a of ["archive", "restore", "retry", "terminate", "delete"]) {
      expect(button(a).disabled).toBe(true);
      expect(button(a).tagName).toBe("BUTTON");
    }
    tick("r2");
    expect(model.get("selected")).toEqual(["r2"]);
    expect(model.saves).toBeGreaterThan(0);
    expect(button("retry").disabled).toBe(false);
    expect(button("archive").disabled).toBe(false);
    expect(button("terminate").disabled).toBe(true);
    expect(button("terminate").title).toContain("1 FAILED");
    expect(button("restore").disabled).toBe(true);

    tick("r1");
    expect(new Set(model.get("selected"))).toEqual(new Set(["r1", "r2"]));
    expect(button("retry").disabled).toBe(true);
    expect(button("retry").title).toContain("1 RUNNING");
  });

  it("selects a range with shift-click in the shown order", async () => {
    const model = await mountWith(FIVE, { sort: { key: "created_at", desc: false } });
    expect(rowIds()).toEqual(["r2", "r3", "r1", "r5", "r4"]);
    tick("r3");
    tick("r5", { shiftKey: true });
    expect(new Set(model.get("selected"))).toEqual(new Set(["r3", "r1", "r5"]));
  });

  it("follows the selected trait when Python changes it", async () => {
    const model = await mountWith(FIVE);
    model.pySet("selected", ["r4"]);
    const box = (id: string) =>
      rowOf(id).querySelector<HTMLInputElement>("[data-testid=row-select]")!;
    expect(box("r4").checked).toBe(true);
    expect(box("r1").checked).toBe(false);
    expect(button("restore").disabled).toBe(false);
  });

  it("select-all ticks only the shown (filtered) rows, then clears them", async () => {
    const model = await mountWith(FIVE, { state_filter: ["FAILED"] });
    expect(rowIds()).toEqual(["r2", "r3"]);
    const all = q("select-all") as HTMLInputElement;
    all.click();
    expect(new Set(model.get("selected"))).toEqual(new Set(["r2", "r3"]));
    expect(button("retry").disabled).toBe(false);
    all.click();
    expect(model.get("selected")).toEqual([]);
  });

  it("sorts by clicking a header, toggling direction", async () => {
    const model = await mountWith(FIVE);
    q("col-created_at")!.click();
    expect(model.get("sort")).toEqual({ key: "created_at", desc: false });
    expect(rowIds()).toEqual(["r2", "r3", "r1", "r5", "r4"]);
    q("col-created_at")!.click();
    expect(model.get("sort")).toEqual({ key: "created_at", desc: true });
    expect(rowIds()).toEqual(["r4", "r5", "r1", "r3", "r2"]);
    q("col-param.lr")!.click();
    expect(rowIds()).toEqual(["r3", "r2", "r1", "r4", "r5"]); // unset last
  });

  it("keeps focus on a header button after sorting from the keyboard", async () => {
    await mountWith(FIVE);
    q("col-duration")!.focus();
    q("col-duration")!.click();
    expect(document.activeElement).toBe(q("col-duration"));
    expect(q("col-duration")!.closest("[aria-sort]")!.getAttribute("aria-sort")).toBe(
      "ascending",
    );
  });

  it("applies a text filter set from Python", async () => {
    const model = await mountWith(FIVE);
    model.pySet("text_filter", "FOUR");
    expect(rowIds()).toEqual(["r4"]);
    expect((q("text-filter") as HTMLInputElement).value).toBe("FOUR");
  });

  it("filters by text at once and saves the trait after a pause", async () => {
    vi.useFakeTimers();
    const model = await mountWith(FIVE);
    const input = q("text-filter") as HTMLInputElement;
    input.value = "T";
    input.dispatchEvent(new Event("input"));
    expect(rowIds()).toEqual(["r2", "r3"]);
    expect(model.get("text_filter")).toBe("");
    expect(q("row-count")!.textContent).toBe("2 shown · 5 of 5 runs loaded");
    vi.advanceTimersByTime(200);
    expect(model.get("text_filter")).toBe("T");
  });

  it("filters by state chips with counts", async () => {
    const model = await mountWith(FIVE);
    const chip = q("state-chip-FAILED")!;
    expect(chip.textContent).toContain("2");
    chip.click();
    expect(model.get("state_filter")).toEqual(["FAILED"]);
    expect(rowIds()).toEqual(["r2", "r3"]);
    expect(q("state-chip-FAILED")!.getAttribute("aria-pressed")).toBe("true");
    q("state-chip-FAILED")!.click();
    expect(model.get("state_filter")).toEqual([]);
  });

  it("sets archived, polling, time zone and hidden columns traits", async () => {
    const model = await mountWith(FIVE);
    const archived = q("archived-toggle") as HTMLSelectElement;
    archived.value = "all";
    archived.dispatchEvent(new Event("change"));
    expect(model.get("archived")).toBe("all");

    const polling = q("polling-toggle") as HTMLInputElement;
    expect(polling.checked).toBe(true);
    polling.click();
    expect(model.get("polling")).toBe(false);

    const zone = q("time-zone-select") as HTMLSelectElement;
    zone.value = "";
    zone.dispatchEvent(new Event("change"));
    expect(model.get("time_zone")).toBe("");
    expect(q("time-zone")!.textContent).toContain("(local)");

    const toggle = q("column-toggle-experiment_name") as HTMLInputElement;
    toggle.click();
    expect(model.get("hidden_columns")).toEqual(["experiment_name"]);
    expect(q("col-experiment_name")).toBeNull();

    model.pySet("time_zone", "Asia/Tokyo");
    expect(rowOf("r1").textContent).toContain("1970-01-01 09:00:03");
    model.pySet("updated_at", "2026-12-04T16:00:00Z");
    expect(q("updated-at")!.textContent).toBe("Updated 2026-12-05 01:00:00");
  });

  it("confirms Terminate with the count, then shows outcomes and a summary", async () => {
    const model = await mountWith(FIVE);
    tick("r1");
    tick("r5");
    button("terminate").click();
    const dialog = q("confirm-dialog")!;
    expect(dialog.textContent).toContain("Terminate 2 runs?");
    expect(model.lastSent("action")).toBeUndefined();
    q("confirm-ok")!.click();
    expect(q("confirm-dialog")).toBeNull();

    const sent = model.lastSent("action")!.content;
    expect(sent).toMatchObject({ kind: "action", action: "terminate" });
    expect(new Set(sent.run_ids)).toEqual(new Set(["r1", "r5"]));
    expect(button("archive").disabled).toBe(true); // busy
    model.pySend({
      kind: "action_progress",
      id: sent.id,
      run_id: "r1",
      ok: true,
      error: "",
    });
    expect(rowOf("r1").dataset.outcome).toBe("ok");
    expect(rowOf("r5").dataset.outcome).toBe("pending");
    model.pySend({
      kind: "action_done",
      id: sent.id,
      ok: true,
      results: [
        { run_id: "r1", action: "terminate", ok: true, error: "" },
        {
          run_id: "r5",
          action: "terminate",
          ok: false,
          error: "run is SUCCEEDED; <b>too late</b>",
        },
      ],
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(rowOf("r5").dataset.outcome).toBe("failed");
    const summary = q("action-summary")!;
    expect(summary.hidden).toBe(false);
    expect(summary.textContent).toContain("1 of 2 succeeded");
    expect(summary.textContent).toContain("<b>too late</b>");
    expect(summary.textContent).toContain("five (r5)");
  });

  it("cancels a Delete confirmation with Escape and warns it cannot be undone", async () => {
    const model = await mountWith(FIVE);
    tick("r4");
    button("delete").click();
    const dialog = q("confirm-dialog")!;
    expect(dialog.textContent).toContain("Delete 1 run?");
    expect(dialog.textContent).toMatch(/cannot be undone/);
    dialog.dispatchEvent(
      new KeyboardEvent("keydown", { key: "Escape", bubbles: true }),
    );
    expect(q("confirm-dialog")).toBeNull();
    expect(model.lastSent("action")).toBeUndefined();
  });

  it("shows a failed load and the error trait in the panel, dismissibly", async () => {
    const model = new FakeModel(traits());
    mount(model);
    const load = model.lastSent("load")!;
    model.pySend({
      kind: "rows",
      id: load.content.id,
      ok: false,
      error: "KFP said 503: upstream down",
    });
    await new Promise((r) => setTimeout(r, 0));
    const banner = q("panel-error")!;
    expect(banner.hidden).toBe(false);
    expect(banner.textContent).toContain("upstream down");
    q("panel-error-dismiss")!.click();
    expect(q("panel-error")!.hidden).toBe(true);
    model.pySet("error", "network unreachable");
    expect(q("panel-error")!.hidden).toBe(false);
    expect(q("panel-error")!.textContent).toContain("network unreachable");
    expect(q("kfp-run-table")).not.toBeNull();
  });

  it("merges updates, appends pages and removes runs pushed by the kernel", async () => {
    const model = await mountWith(FIVE);
    model.pySend({ kind: "update" }, [
      ipcRows([{ run_id: "r1", display_name: "one", state: "CANCELING" }]),
    ]);
    expect(rowOf("r1").querySelector(".kfp-badge")!.textContent).toContain("CANCELING");
    model.pySend({ kind: "rows", replace: false }, [
      ipcRows([{ run_id: "r6", display_name: "six" }]),
    ]);
    expect(rowIds()).toEqual(["r1", "r2", "r3", "r4", "r5", "r6"]);
    model.pySend({ kind: "remove", run_ids: ["r2", "r6"] });
    expect(rowIds()).toEqual(["r1", "r3", "r4", "r5"]);
    model.pySend({ kind: "update" }, [new Uint8Array([1, 2, 3])]);
    expect(q("panel-error")!.hidden).toBe(false);
  });

  it("opens a run's detail from its name and closes it with Escape", async () => {
    const model = await mountWith(FIVE);
    rowOf("r2").querySelector<HTMLElement>("[data-testid=run-link]")!.click();
    const req = model.lastSent("run_detail")!.content;
    expect(req.run_id).toBe("r2");
    const pane = q("run-detail-pane")!;
    expect(pane.hidden).toBe(false);
    model.pySend({
      kind: "run_detail",
      id: req.id,
      ok: true,
      run: { run_id: "r2", display_name: "two", state: "FAILED" },
      tasks: [],
      error: "",
    });
    await new Promise((r) => setTimeout(r, 0));
    expect(pane.textContent).toContain("two");
    pane.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(q("run-detail-pane")!.hidden).toBe(true);
  });

  it("is keyboard usable: Space selects the focused row, Enter opens it", async () => {
    const model = await mountWith(FIVE);
    const row = rowOf("r3");
    row.focus();
    row.dispatchEvent(new KeyboardEvent("keydown", { key: " ", bubbles: true }));
    expect(model.get("selected")).toEqual(["r3"]);
    row.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(model.lastSent("run_detail")!.content.run_id).toBe("r3");
  });

  it("shows the last action's outcome from the trait in a view opened later", async () => {
    await mountWith(FIVE, {
      last_action: {
        action: "retry",
        requested: 2,
        succeeded: 1,
        failed: [{ run_id: "r3", error: "quota" }],
        at: "",
      },
    });
    const summary = q("action-summary")!;
    expect(summary.hidden).toBe(false);
    expect(summary.textContent).toContain("Retry: 1 of 2 succeeded");
    expect(summary.textContent).toContain("quota");
  });

  it("puts a failed run's error on its state cell", async () => {
    await mountWith([{ run_id: "f", state: "FAILED", error: "OOMKilled" }]);
    expect(rowOf("f").querySelector<HTMLElement>(".kfp-kind-state")!.title).toBe(
      "OOMKilled",
    );
  });

  it("removes every model listener on cleanup", async () => {
    const model = await mountWith(FIVE);
    expect(model.listenerCount()).toBeGreaterThan(0);
    cleanup!();
    cleanup = undefined;
    expect(model.listenerCount()).toBe(0);
    expect(el.querySelector("[data-testid=kfp-run-table]")).toBeNull();
  });
});
