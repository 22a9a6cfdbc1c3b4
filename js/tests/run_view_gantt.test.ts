import { describe, expect, it } from "vitest";
import { axisTicks, layoutGantt } from "../src/run_view/gantt";
import { readTasks } from "../src/run_view/tasks";
import { parseTime } from "../src/run_view/wire";
import { fixtureRun, tasksFrom } from "./run_view_helpers";

const T0 = "2026-01-01T00:00:00Z";
const at = (s: number): string => new Date(Date.parse(T0) + s * 1000).toISOString();
const ms = (s: number): number => Date.parse(T0) + s * 1000;

describe("layoutGantt", () => {
  it("places finished bars proportionally within [0, 1]", () => {
    const tasks = tasksFrom([
      { id: "a", state: "SUCCEEDED", created: at(0), ended: at(50) },
      { id: "b", state: "SUCCEEDED", created: at(50), ended: at(100) },
    ]);
    const layout = layoutGantt(tasks, { now: ms(1000), runStart: ms(0), runEnd: ms(100) });
    expect(layout.start).toBe(ms(0));
    expect(layout.end).toBe(ms(100));
    expect(layout.bars.map((b) => [b.x, b.width])).toEqual([
      [0, 0.5],
      [0.5, 0.5],
    ]);
  });

  it("extends a running task to now while the run is unfinished", () => {
    const [task] = tasksFrom([{ id: "r", state: "RUNNING", created: at(10) }]);
    const layout = layoutGantt([task], { now: ms(110), runStart: ms(0), runEnd: NaN });
    const [bar] = layout.bars;
    expect(bar.running).toBe(true);
    expect(bar.end).toBe(ms(110));
    expect(bar.x + bar.width).toBeCloseTo(1, 9);
  });

  it("stops a still-running task at the run's end once the run finished", () => {
    const tasks = tasksFrom([
      { id: "r", state: "RUNNING", created: at(0) },
      { id: "epoch", state: "RUNNING", created: at(0), ended: "1970-01-01T00:00:00Z" },
    ]);
    const layout = layoutGantt(tasks, { now: ms(5000), runStart: ms(0), runEnd: ms(60) });
    expect(layout.end).toBe(ms(60));
    expect(layout.bars.map((b) => b.end)).toEqual([ms(60), ms(60)]);
  });

  it("keeps bars in bounds whatever the times: missing, reversed, outside the run", () => {
    const tasks = tasksFrom([
      { id: "none", state: "SUCCEEDED" },
      { id: "reversed", state: "FAILED", created: at(30), ended: at(10) },
      { id: "before", state: "SUCCEEDED", created: at(-20), ended: at(5) },
      { id: "final-no-end", state: "SKIPPED", created: at(40) },
      { id: "junk", state: "RUNNING", created: "soon", ended: 12 },
    ]);
    const layout = layoutGantt(tasks, { now: ms(100), runStart: ms(0), runEnd: ms(50) });
    for (const bar of layout.bars) {
      expect(bar.x).toBeGreaterThanOrEqual(0);
      expect(bar.width).toBeGreaterThanOrEqual(0);
      expect(bar.x + bar.width).toBeLessThanOrEqual(1 + 1e-12);
    }
    const byId = Object.fromEntries(layout.bars.map((b) => [b.task.id, b]));
    expect(byId.none.missing).toBe(true);
    expect(byId.junk.missing).toBe(true);
    expect(byId.reversed.width).toBe(0);
    expect(byId["final-no-end"].running).toBe(false);
    expect(byId["final-no-end"].width).toBe(0);
    expect(layout.start).toBe(ms(-20)); // the span widens to show early tasks
  });

  it("copes with no tasks and no run times at all", () => {
    const layout = layoutGantt([], { now: NaN });
    expect(layout.bars).toEqual([]);
    expect(layout.end).toBeGreaterThan(layout.start);
  });

  it("marks cached tasks", () => {
    const tasks = tasksFrom([
      { id: "c", state: "CACHED", created: at(0), ended: at(1) },
      { id: "s", state: "SUCCEEDED", created: at(0), ended: at(2) },
    ]);
    expect(layoutGantt(tasks, { now: ms(3) }).bars.map((b) => b.cached)).toEqual([true, false]);
  });

  it("lays out the demo server's failed run inside the run's span", () => {
    const { run, tasks } = fixtureRun("run_failed");
    const layout = layoutGantt(readTasks(tasks), {
      now: Date.now(),
      runStart: parseTime(run.created_at),
      runEnd: parseTime(run.finished_at),
    });
    expect(layout.start).toBe(parseTime(run.created_at));
    expect(layout.end).toBe(parseTime(run.finished_at));
    expect(layout.bars.filter((b) => b.missing)).toEqual([]);
    expect(layout.bars.every((b) => b.width > 0)).toBe(true);
  });
});

describe("axisTicks", () => {
  it("uses a round step and at most maxTicks + 1 ticks", () => {
    const ticks = axisTicks(95_000, 5);
    expect(ticks.map((t) => t.offset)).toEqual([0, 30_000, 60_000, 90_000]);
    expect(ticks.every((t) => t.x >= 0 && t.x <= 1)).toBe(true);
  });

  it("handles spans beyond the largest round step", () => {
    const year = 365 * 24 * 3600 * 1000;
    const ticks = axisTicks(year, 4);
    expect(ticks.length).toBeGreaterThan(1);
    expect(ticks.length).toBeLessThanOrEqual(5);
  });

  it("returns nothing for empty or invalid spans", () => {
    expect(axisTicks(0, 5)).toEqual([]);
    expect(axisTicks(NaN, 5)).toEqual([]);
  });
});
