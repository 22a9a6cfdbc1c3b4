// The run detail: fields, parameters, state history, task tree, timeline, the first
// failed task's error and output artifacts. Used full-size by the run view panel and
// in the run table's side pane. Input is raw wire JSON; nothing here trusts its shape.
import { append, type Child, h, isolated } from "../lib/dom";
import { formatDuration, formatTime, zoneLabel } from "../lib/format";
import { isActive, normalizeRules, stateBadge, type Rules } from "../lib/states";
import { renderGantt, layoutGantt } from "./gantt";
import { firstFailedTask, readTasks, type Artifact, type Task } from "./tasks";
import { buildTaskTree, renderTaskTree, visibleRows } from "./tree";
import { arr, obj, parseTime, showValue, str, type Json } from "./wire";
import "./run_view.css";

export interface DetailOptions {
  timeZone: string;
  rules: Rules;
  onOpenArtifact?: (taskId: string, artifact: unknown) => void;
  /** Clock for running tasks' bars and durations (tests pin it). */
  now?: () => number;
  /** Nodes the user closed; pass the same set across re-renders to keep them closed. */
  collapsed?: Set<string>;
}

export interface RunDetail {
  run: unknown;
  tasks: unknown;
}

/** Draw `detail` into `container`; the returned function removes it again. */
export function renderRunDetail(
  container: HTMLElement,
  detail: RunDetail,
  opts: DetailOptions,
): () => void {
  const d = obj(detail);
  const o = obj(opts) as Partial<DetailOptions>;
  const run = obj(d.run);
  const tasks = readTasks(d.tasks);
  const now = safeNow(o.now);
  const zone = typeof o.timeZone === "string" ? o.timeZone : "";
  const rules = normalizeRules(o.rules);
  const collapsed = o.collapsed instanceof Set ? o.collapsed : new Set<string>();
  const onOpen = typeof o.onOpenArtifact === "function" ? o.onOpenArtifact : undefined;

  const root = h("div", { class: "kfp-nb kfp-run-detail", "data-testid": "kfp-run-detail" });
  append(
    root,
    header(run),
    errorSection(run, tasks),
    fieldsSection(run, { zone, now, rules }),
    paramsSection(run),
    historySection(run, zone),
    tasksSection(run, tasks, { zone, now, collapsed }),
    artifactsSection(tasks, onOpen),
  );
  const focused = focusedTask(container);
  container.replaceChildren(root);
  if (focused) refocus(root, focused);
  return () => root.remove();
}

// A poll redraws the whole detail; the keyboard user's place in the tree survives it.
function focusedTask(container: HTMLElement): string {
  const active = container.ownerDocument.activeElement;
  if (!(active instanceof HTMLElement) || !container.contains(active)) return "";
  return active.dataset.testid === "task-node" ? active.dataset.taskId ?? "" : "";
}

function refocus(root: HTMLElement, taskId: string): void {
  const nodes = root.querySelectorAll<HTMLElement>('[data-testid="task-node"]');
  Array.from(nodes)
    .find((node) => node.dataset.taskId === taskId)
    ?.focus({ preventScroll: true });
}

function safeNow(now: (() => number) | undefined): number {
  const t = typeof now === "function" ? now() : Date.now();
  return Number.isFinite(t) ? t : Date.now();
}

function section(title: string, testid: string | null, ...body: (Node | null)[]): HTMLElement {
  return h(
    "section",
    { class: "kfp-detail-section", "data-testid": testid },
    h("h4", { class: "kfp-detail-title" }, title),
    ...body,
  );
}

function header(run: Json): HTMLElement {
  const state = str(run.state);
  return h(
    "div",
    { class: "kfp-detail-header" },
    h("span", { class: "kfp-detail-name" }, str(run.display_name) || "—"),
    h("span", { "data-testid": "detail-state" }, stateBadge(state || null)),
  );
}

interface FieldContext {
  zone: string;
  now: number;
  rules: Rules;
}

function fieldsSection(run: Json, ctx: FieldContext): HTMLElement {
  const created = parseTime(run.created_at);
  const started = startedAt(run);
  const finished = parseTime(run.finished_at);
  const time = (t: number): string => formatTime(t, ctx.zone) || "—";
  const rows: [string, string][] = [
    ["Run ID", str(run.run_id)],
    ["Experiment", str(run.experiment_id)],
    ["Pipeline", pipelineRef(run)],
    ["Created", time(created)],
    ["Started", time(started)],
    ["Finished", time(finished)],
    ["Duration", runDuration(run, ctx)],
    ["Time zone", zoneLabel(ctx.zone)],
    ["Service account", str(run.service_account)],
    ["Description", str(run.description)],
    ["Recurring run", str(run.recurring_run_id)],
    ["Storage state", str(run.storage_state)],
  ];
  const list = h("dl", { class: "kfp-detail-fields" });
  for (const [label, value] of rows) {
    list.append(h("dt", null, label), h("dd", { class: "kfp-detail-value" }, value || "—"));
  }
  return section("Run", "detail-fields", list);
}

// The run's start is its first move to RUNNING; runs that never ran have none.
function startedAt(run: Json): number {
  for (const entry of arr(run.state_history)) {
    if (str(obj(entry).state) === "RUNNING") return parseTime(obj(entry).update_time);
  }
  return NaN;
}

function runDuration(run: Json, ctx: FieldContext): string {
  const created = parseTime(run.created_at);
  if (Number.isNaN(created)) return "—";
  const finished = parseTime(run.finished_at);
  if (!Number.isNaN(finished)) return formatDuration(finished - created) || "—";
  if (!isActive(str(run.state), ctx.rules)) return "—";
  return `${formatDuration(ctx.now - created) || "—"} (running)`;
}

function pipelineRef(run: Json): string {
  const ref = obj(run.pipeline_version_reference);
  const pipeline = str(ref.pipeline_id);
  const version = str(ref.pipeline_version_id);
  if (pipeline || version) return version ? `${pipeline || "—"} @ ${version}` : pipeline;
  if (run.pipeline_spec !== undefined && run.pipeline_spec !== null) return "inline pipeline spec";
  return "";
}

function paramsSection(run: Json): HTMLElement {
  const params = obj(obj(run.runtime_config).parameters);
  const names = Object.keys(params).sort();
  if (!names.length) {
    const none = h("div", { class: "kfp-muted" }, "No parameters");
    return section("Parameters", "detail-params", none);
  }
  const body = h("tbody");
  for (const name of names) {
    const value = showValue(params[name]);
    body.append(h("tr", null, h("th", { scope: "row" }, name), h("td", null, value)));
  }
  const table = h("table", { class: "kfp-detail-table kfp-detail-params" }, body);
  return section("Parameters", "detail-params", table);
}

function historySection(run: Json, zone: string): HTMLElement {
  const list = h("ol", { class: "kfp-detail-history" });
  for (const item of arr(run.state_history)) {
    const entry = obj(item);
    const message = str(obj(entry.error).message);
    const when = formatTime(parseTime(entry.update_time), zone) || "—";
    list.append(
      h(
        "li",
        null,
        h("span", { class: "kfp-detail-time" }, when),
        stateBadge(str(entry.state) || null),
        message ? h("span", { class: "kfp-detail-error-text" }, message) : null,
      ),
    );
  }
  if (!list.childElementCount) list.append(h("li", { class: "kfp-muted" }, "No state history"));
  return section("State history", "detail-history", list);
}

// The failed task that explains the run, or, when no task failed (a run that failed
// before any task, or an old server without tasks), the run's own latest error.
function errorSection(run: Json, tasks: Task[]): HTMLElement | null {
  const task = firstFailedTask(tasks);
  if (task) {
    // The name in an isolate of its own: an RTL override in it stays inside.
    const title = ["Task ", h("bdi", null, task.name || task.id), " failed"];
    return errorBox(title, task.errorMessage, task.id);
  }
  const message = runError(run);
  return message ? errorBox(["Run failed"], message, null) : null;
}

function runError(run: Json): string {
  const history = arr(run.state_history);
  for (let i = history.length - 1; i >= 0; i -= 1) {
    const message = str(obj(obj(history[i]).error).message);
    if (message) return message;
  }
  return str(obj(run.error).message);
}

function errorBox(title: Child[], message: string, taskId: string | null): HTMLElement {
  return h(
    "div",
    {
      class: "kfp-detail-first-error",
      role: "alert",
      "data-testid": "first-error",
      "data-task-id": taskId,
    },
    h("strong", null, ...title),
    h("div", { class: "kfp-detail-error-text" }, message || "no error message"),
  );
}

interface TasksContext {
  zone: string;
  now: number;
  collapsed: Set<string>;
}

function tasksSection(run: Json, tasks: Task[], ctx: TasksContext): HTMLElement {
  const roots = buildTaskTree(tasks);
  const treeHost = h("div", { "data-testid": "task-tree" });
  const ganttHost = h("div", { class: "kfp-gantt", "data-testid": "gantt" });
  const span = {
    now: ctx.now,
    runStart: parseTime(run.created_at),
    runEnd: parseTime(run.finished_at),
  };
  // The timeline lists the same rows as the tree, so closing a DAG hides its bars too.
  const draw = (): void => {
    renderTaskTree(treeHost, roots, { collapsed: ctx.collapsed, now: ctx.now, onToggle: draw });
    const shown = visibleRows(roots, ctx.collapsed).map((row) => row.node.task);
    renderGantt(ganttHost, layoutGantt(shown, span), { timeZone: ctx.zone });
  };
  draw();
  return h(
    "div",
    { class: "kfp-detail-tasks" },
    section(`Tasks (${tasks.length})`, null, treeHost),
    section("Timeline", null, ganttHost),
  );
}

function artifactsSection(
  tasks: Task[],
  onOpen: ((taskId: string, artifact: unknown) => void) | undefined,
): HTMLElement {
  const body = h("tbody");
  for (const task of tasks) {
    for (const artifact of task.artifacts) body.append(artifactRow(task, artifact, onOpen));
  }
  if (!body.childElementCount) {
    const none = h("div", { class: "kfp-muted" }, "No output artifacts");
    return section("Output artifacts", "task-artifacts", none);
  }
  const heads = ["Task", "Output", "Name", "Type", "Value", "URI", ""];
  const head = h("tr", null, ...heads.map((c) => h("th", { scope: "col" }, c)));
  const content = h(
    "table",
    { class: "kfp-detail-table kfp-detail-artifacts" },
    h("thead", null, head),
    body,
  );
  return section("Output artifacts", "task-artifacts", content);
}

function artifactRow(
  task: Task,
  artifact: Artifact,
  onOpen: ((taskId: string, artifact: unknown) => void) | undefined,
): HTMLElement {
  const value = artifact.numberValue === null ? "" : String(artifact.numberValue);
  let open: HTMLElement | null = null;
  if (typeof onOpen === "function") {
    const title = `Open ${isolated(artifact.name || "artifact")}`;
    open = h("button", { type: "button", class: "kfp-button", title }, "Open");
    open.addEventListener("click", () => onOpen(task.id, artifact.raw));
  }
  return h(
    "tr",
    { "data-task-id": task.id },
    h("td", null, task.name || "—"),
    h("td", null, artifact.key || "—"),
    h("td", null, artifact.name || "—"),
    h("td", null, artifact.type || "—"),
    h("td", { class: "kfp-num" }, value || "—"),
    h("td", { class: "kfp-detail-uri" }, artifact.uri || "—"),
    h("td", null, open),
  );
}
