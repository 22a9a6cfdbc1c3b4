// The timeline: one bar per task from its create time to its end time. The layout is
// a pure function (fractions of the time span, unit-tested); drawing uses absolutely
// positioned divs sized in percent, so the chart follows the panel's width.
import { h, isolated } from "../lib/dom";
import { formatDuration, formatTime } from "../lib/format";
import { isRunningTask, type Task } from "./tasks";

export interface GanttBar {
  task: Task;
  /** Left edge and width as fractions of the span, both within [0, 1]. */
  x: number;
  width: number;
  start: number;
  end: number;
  running: boolean;
  cached: boolean;
  /** The task has no usable start time: shown as an empty row. */
  missing: boolean;
}

export interface GanttTick {
  /** Position as a fraction of the span. */
  x: number;
  /** Milliseconds since the span's start. */
  offset: number;
}

export interface GanttLayout {
  start: number;
  end: number;
  bars: GanttBar[];
  ticks: GanttTick[];
}

export interface GanttWindow {
  /** The current time: running tasks extend to it while the run is unfinished. */
  now: number;
  /** Run created / finished (epoch ms, NaN when unset). */
  runStart?: number;
  runEnd?: number;
  maxTicks?: number;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const STEPS = [
  SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND,
  MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY,
];

/** Lay out bars for `tasks` (in display order) and a few axis ticks. */
export function layoutGantt(tasks: Task[], win: GanttWindow): GanttLayout {
  const runEnd = finite(win.runEnd);
  // A running task ends "now" unless the run is over, in which case it stopped there.
  const openEnd = runEnd ?? (Number.isFinite(win.now) ? win.now : NaN);
  const spans = tasks.map((task) => taskSpan(task, openEnd));

  const starts = spans.map((s) => s.start).filter(Number.isFinite);
  const ends = spans.map((s) => s.end).filter(Number.isFinite);
  const runStart = finite(win.runStart);
  if (runStart !== null) starts.push(runStart);
  if (runEnd !== null) ends.push(runEnd);
  const start = starts.length ? starts.reduce((a, b) => Math.min(a, b)) : 0;
  let end = ends.reduce((a, b) => Math.max(a, b), start);
  if (end - start < SECOND) end = start + SECOND;

  const span = end - start;
  const bars = tasks.map((task, i) => placeBar(task, spans[i], start, span));
  return { start, end, bars, ticks: axisTicks(span, win.maxTicks ?? 6) };
}

function finite(v: number | undefined): number | null {
  return v !== undefined && Number.isFinite(v) ? v : null;
}

interface Span {
  start: number;
  end: number;
  running: boolean;
}

function taskSpan(task: Task, openEnd: number): Span {
  const start = task.created;
  if (!Number.isFinite(start)) return { start: NaN, end: NaN, running: false };
  if (Number.isFinite(task.ended)) {
    return { start, end: Math.max(start, task.ended), running: false };
  }
  const running = isRunningTask(task);
  // A finished task without an end time is drawn as an instant, not stretched.
  const end = running && Number.isFinite(openEnd) ? Math.max(start, openEnd) : start;
  return { start, end, running };
}

function placeBar(task: Task, s: Span, start: number, span: number): GanttBar {
  const base = { task, start: s.start, end: s.end, running: s.running, cached: task.cached };
  if (!Number.isFinite(s.start)) return { ...base, x: 0, width: 0, missing: true };
  const x = clamp((s.start - start) / span);
  const width = clamp((s.end - start) / span) - x;
  return { ...base, x, width: Math.max(0, width), missing: false };
}

function clamp(f: number): number {
  return Number.isFinite(f) ? Math.min(1, Math.max(0, f)) : 0;
}

/** Ticks at a round step (1 s … 7 d), at most `maxTicks` + 1 of them. */
export function axisTicks(span: number, maxTicks: number): GanttTick[] {
  if (!(span > 0) || !(maxTicks >= 1)) return [];
  const step = STEPS.find((s) => span / s <= maxTicks) ?? Math.ceil(span / maxTicks / DAY) * DAY;
  const ticks: GanttTick[] = [];
  for (let offset = 0; offset <= span && ticks.length <= maxTicks; offset += step) {
    ticks.push({ x: offset / span, offset });
  }
  return ticks;
}

export interface GanttOptions {
  timeZone: string;
}

/** Draw `layout` into `host` (replacing what is there). */
export function renderGantt(host: HTMLElement, layout: GanttLayout, opts: GanttOptions): void {
  const axis = h("div", { class: "kfp-gantt-axis", "aria-hidden": "true" });
  for (const tick of layout.ticks) {
    axis.appendChild(
      h("span", { class: "kfp-gantt-tick", style: `left: ${pct(tick.x)}` }, tickLabel(tick.offset)),
    );
  }
  const rows = layout.bars.map((bar) => ganttRow(bar, opts));
  const note = `Time since ${formatTime(layout.start, opts.timeZone) || "—"}`;
  host.replaceChildren(
    h("div", { class: "kfp-gantt-note kfp-muted" }, note),
    h("div", { class: "kfp-gantt-head" }, h("span", { class: "kfp-gantt-label" }), axis),
    ...rows,
  );
  if (!rows.length) host.appendChild(h("div", { class: "kfp-muted" }, "No tasks"));
}

function tickLabel(offset: number): string {
  return offset === 0 ? "0" : `+${formatDuration(offset)}`;
}

function pct(f: number): string {
  return `${(f * 100).toFixed(3)}%`;
}

function ganttRow(bar: GanttBar, opts: GanttOptions): HTMLElement {
  const name = bar.task.name || "—";
  const track = h("div", { class: "kfp-gantt-track" });
  if (!bar.missing) track.appendChild(barEl(bar, opts));
  else track.appendChild(h("span", { class: "kfp-muted kfp-gantt-missing" }, "no times"));
  return h(
    "div",
    { class: "kfp-gantt-row", "data-task-id": bar.task.id },
    h("span", { class: "kfp-gantt-label", title: name }, name),
    track,
  );
}

function barEl(bar: GanttBar, opts: GanttOptions): HTMLElement {
  const state = bar.task.state || "—";
  const tone = bar.cached ? "cached" : state.toLowerCase().replace(/[^a-z_]/g, "");
  const classes = ["kfp-gantt-bar", `kfp-gantt-${tone}`];
  if (bar.running) classes.push("kfp-gantt-running");
  const name = bar.task.name || "—";
  const what = `${state}${bar.cached ? " (cached)" : ""}`;
  const from = formatTime(bar.start, opts.timeZone);
  const until = bar.running ? "still running" : formatTime(bar.end, opts.timeZone);
  const took = formatDuration(bar.end - bar.start) || "—";
  return h(
    "div",
    {
      class: classes.join(" "),
      "data-testid": "gantt-bar",
      "data-task-id": bar.task.id,
      "data-state": bar.task.state,
      "data-cached": bar.cached ? "true" : null,
      role: "img",
      "aria-label": `${isolated(name)}: ${what}`,
      title: `${isolated(name)} · ${what}\n${from} → ${until} (${took})`,
      style: `left: ${pct(bar.x)}; width: ${pct(bar.width)}`,
    },
    bar.cached ? h("span", { class: "kfp-gantt-cached-mark", "aria-hidden": "true" }, "⟳") : null,
  );
}
