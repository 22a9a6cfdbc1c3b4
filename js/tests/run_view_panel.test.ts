import { afterEach, describe, expect, it } from "vitest";
import { renderRunView } from "../src/run_view/index";
import { RULES } from "./lib_rules_fixture";
import { FakeModel, fixtureRun } from "./run_view_helpers";

const q = (el: ParentNode, id: string): HTMLElement | null =>
  el.querySelector(`[data-testid="${id}"]`);
const flush = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

const RUN_ID = "95a26a2c-de50-5c3f-ae30-b78549c99ddf";

function setup(traits: Record<string, unknown> = {}) {
  const model = new FakeModel({
    _panel: "run_view",
    run_id: RUN_ID,
    rules: RULES,
    time_zone: "UTC",
    error: "",
    polling: true,
    updated_at: "",
    ...traits,
  });
  const el = document.createElement("div");
  document.body.appendChild(el); // a checkbox fires "change" only when connected
  const baseline = model.listenerCount();
  const stop = renderRunView({ model, el });
  const cleanup = (): void => {
    stop();
    el.remove();
  };
  return { model, el, cleanup, baseline };
}

function reply(model: FakeModel, fields: Record<string, unknown>): void {
  const request = model.sent[model.sent.length - 1];
  model.receive({ kind: "run_detail", id: request.id, ...fields });
}

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe("renderRunView", () => {
  it("asks for the run on render and draws the reply", async () => {
    const { model, el, cleanup } = setup();
    cleanups.push(cleanup);
    expect(model.sent).toHaveLength(1);
    expect(model.sent[0]).toMatchObject({ kind: "run_detail", run_id: RUN_ID });
    expect(typeof model.sent[0].id).toBe("string");
    expect(el.textContent).toContain("Loading");

    const { run, tasks } = fixtureRun("run_failed");
    reply(model, { ok: true, run, tasks });
    await flush();
    expect(q(el, "kfp-run-detail")).not.toBeNull();
    expect(q(el, "first-error")?.textContent).toContain("score");
    expect((q(el, "panel-error") as HTMLElement).hidden).toBe(true);
  });

  it("redraws on an unsolicited run_detail push, keeping closed nodes closed", async () => {
    const running = fixtureRun("run_canceling");
    const { model, el, cleanup } = setup({ run_id: running.run.run_id });
    cleanups.push(cleanup);
    reply(model, { ok: true, ...running });
    await flush();
    const rootNode = q(el, "task-node") as HTMLElement;
    rootNode.click();
    expect(el.querySelectorAll('[data-testid="task-node"]')).toHaveLength(1);

    const finished = fixtureRun("run_canceling");
    finished.run.state = "CANCELED";
    model.receive({ kind: "run_detail", ok: true, ...finished });
    expect(q(el, "detail-state")?.textContent).toContain("CANCELED");
    expect(el.querySelectorAll('[data-testid="task-node"]')).toHaveLength(1);
  });

  it("ignores a push for another run", async () => {
    const { model, el, cleanup } = setup();
    cleanups.push(cleanup);
    reply(model, { ok: true, ...fixtureRun("run_failed") });
    await flush();
    model.receive({ kind: "run_detail", ok: true, ...fixtureRun("run_succeeded") });
    expect(q(el, "detail-state")?.textContent).toContain("FAILED");
  });

  it("shows a failed request in the banner, and the error trait too", async () => {
    const { model, el, cleanup } = setup();
    cleanups.push(cleanup);
    reply(model, { ok: false, error: "GET /apis/v2beta1/runs/x: 404 run not found" });
    await flush();
    const banner = q(el, "panel-error") as HTMLElement;
    expect(banner.hidden).toBe(false);
    expect(banner.textContent).toContain("404 run not found");
    expect(el.textContent).toContain("could not be loaded");

    model.push("error", "connection refused <b>x</b>");
    expect(banner.textContent).toContain("connection refused <b>x</b>");
    expect(banner.querySelector("b")).toBeNull();
  });

  it("shows the error trait present at render, and hides the banner once it clears", () => {
    const { model, el, cleanup } = setup({ error: "kernel lost the server" });
    cleanups.push(cleanup);
    const banner = q(el, "panel-error") as HTMLElement;
    expect(banner.hidden).toBe(false);
    expect(banner.textContent).toBe("kernel lost the server");
    model.push("error", "");
    expect(banner.hidden).toBe(true);
  });

  it("shows updated_at and syncs the polling toggle both ways", () => {
    const { model, el, cleanup } = setup({ polling: false });
    cleanups.push(cleanup);
    const toggle = q(el, "polling-toggle") as HTMLInputElement;
    expect(toggle.checked).toBe(false);
    model.push("polling", true);
    expect(toggle.checked).toBe(true);
    toggle.click();
    expect(model.get("polling")).toBe(false);
    expect(model.saves.length).toBe(1);

    expect(q(el, "updated-at")?.textContent).toBe("Not updated yet");
    model.push("updated_at", "2026-12-04T16:05:09Z");
    expect(q(el, "updated-at")?.textContent).toBe("Updated 2026-12-04 16:05:09");
  });

  it("asks again when run_id changes and when Refresh is clicked", () => {
    const { model, el, cleanup } = setup();
    cleanups.push(cleanup);
    model.push("run_id", "other");
    const last = model.sent[model.sent.length - 1];
    expect(last).toMatchObject({ kind: "run_detail", run_id: "other" });
    (el.querySelector("button") as HTMLButtonElement).click();
    expect(model.sent).toHaveLength(3);
  });

  it("redraws times when the zone changes", async () => {
    const { model, el, cleanup } = setup();
    cleanups.push(cleanup);
    reply(model, { ok: true, ...fixtureRun("run_failed") });
    await flush();
    model.push("time_zone", "Asia/Tokyo");
    expect(q(el, "detail-fields")?.textContent).toContain("2026-11-22 15:17:38");
  });

  it("cleanup removes every listener it added and the panel", async () => {
    const { model, el, cleanup, baseline } = setup();
    expect(model.listenerCount()).toBeGreaterThan(baseline);
    cleanup();
    expect(model.listenerCount()).toBe(baseline);
    expect(el.childElementCount).toBe(0);
    // A late reply after close must not throw or redraw.
    reply(model, { ok: true, ...fixtureRun("run_failed") });
    await flush();
    expect(el.childElementCount).toBe(0);
  });
});
