// The task tree: parent/child links from `parent_task_id`, built defensively (a task
// whose parent is missing still shows, a cycle in the links cannot hang the view),
// and drawn as a flat, keyboard-usable ARIA tree that can collapse any node.
import { h } from "../lib/dom";
import { formatDuration } from "../lib/format";
import { stateBadge } from "../lib/states";
import { compareTimes, type Task } from "./tasks";

/** A task in the tree; `orphan` = its parent is missing or would close a cycle. */
export interface TaskNode {
  task: Task;
  children: TaskNode[];
  orphan: boolean;
}

/** A node as shown: its depth and whether it has children. */
export interface TreeRow {
  node: TaskNode;
  depth: number;
}

/** Build the forest: true roots first, then orphans; siblings by create time. */
export function buildTaskTree(tasks: Task[]): TaskNode[] {
  const nodes = new Map<string, TaskNode>();
  for (const task of tasks) nodes.set(task.id, { task, children: [], orphan: false });

  const parentOf = new Map<string, string>();
  const roots: TaskNode[] = [];
  for (const node of nodes.values()) {
    const parentId = node.task.parentId;
    const parent = parentId ? nodes.get(parentId) : undefined;
    if (parent && !reaches(parentOf, parentId, node.task.id)) {
      parentOf.set(node.task.id, parentId);
      parent.children.push(node);
    } else {
      node.orphan = Boolean(parentId);
      roots.push(node);
    }
  }
  sortForest(roots);
  return roots;
}

// Would linking `child` under `start` close a loop? Walk up from `start`; the walk is
// bounded because the links made so far form no cycle.
function reaches(parentOf: Map<string, string>, start: string, child: string): boolean {
  for (let id: string | undefined = start; id !== undefined; id = parentOf.get(id)) {
    if (id === child) return true;
  }
  return false;
}

function sortForest(roots: TaskNode[]): void {
  const order = (a: TaskNode, b: TaskNode): number =>
    Number(a.orphan) - Number(b.orphan) ||
    compareTimes(a.task.created, b.task.created) ||
    a.task.index - b.task.index;
  const stack = [roots];
  while (stack.length) {
    const list = stack.pop() as TaskNode[];
    list.sort(order);
    for (const node of list) if (node.children.length) stack.push(node.children);
  }
}

/** The rows shown, depth first, skipping the children of collapsed nodes. */
export function visibleRows(roots: TaskNode[], collapsed: ReadonlySet<string>): TreeRow[] {
  const rows: TreeRow[] = [];
  const walk = (list: TaskNode[], depth: number): void => {
    for (const node of list) {
      rows.push({ node, depth });
      if (!collapsed.has(node.task.id)) walk(node.children, depth + 1);
    }
  };
  walk(roots, 0);
  return rows;
}

/** Short tag for container tasks ("DAG", "LOOP", …; the root says "ROOT"). */
export function typeTag(task: Task): string {
  if (!task.container) return "";
  return task.type ? task.type.replace(/_/g, " ") : "DAG";
}

export interface TreeOptions {
  collapsed: Set<string>;
  now: number;
  /** Called after a node opens or closes, so the timeline can follow. */
  onToggle: () => void;
}

/** Draw the tree into `host` (replacing what is there). */
export function renderTaskTree(host: HTMLElement, roots: TaskNode[], opts: TreeOptions): void {
  const list = h("div", { role: "tree", class: "kfp-tree", "aria-label": "Tasks" });
  const rows = visibleRows(roots, opts.collapsed);
  for (const row of rows) list.appendChild(treeRow(row, opts, host));
  if (!rows.length) list.appendChild(h("div", { class: "kfp-muted" }, "No tasks"));
  host.replaceChildren(list);
}

function treeRow({ node, depth }: TreeRow, opts: TreeOptions, host: HTMLElement): HTMLElement {
  const { task } = node;
  const open = !opts.collapsed.has(task.id);
  const hasKids = node.children.length > 0;
  const el = h(
    "div",
    {
      role: "treeitem",
      tabindex: 0,
      class: `kfp-tree-node${task.container ? " kfp-task-container" : ""}`,
      "data-testid": "task-node",
      "data-task-id": task.id,
      "aria-level": depth + 1,
      "aria-expanded": hasKids ? String(open) : null,
      style: `padding-left: ${0.25 + depth * 1.1}em`,
    },
    h("span", { class: "kfp-tree-toggle", "aria-hidden": "true" }, toggleGlyph(hasKids, open)),
    typeTag(task) ? h("span", { class: "kfp-task-type" }, typeTag(task)) : null,
    h("span", { class: "kfp-task-name", title: task.name || task.id }, task.name || "—"),
    node.orphan ? h("span", { class: "kfp-muted", title: ORPHAN_TITLE }, "(no parent)") : null,
    stateBadge(task.state || null),
    h("span", { class: "kfp-task-duration" }, taskDuration(task, opts.now)),
  );
  if (hasKids) bindToggle(el, task.id, opts, host);
  el.addEventListener("keydown", (ev) => moveFocus(ev, el));
  return el;
}

const ORPHAN_TITLE = "its parent task is not among this run's tasks";

function toggleGlyph(hasKids: boolean, open: boolean): string {
  if (!hasKids) return "";
  return open ? "▾" : "▸";
}

function taskDuration(task: Task, now: number): string {
  if (Number.isNaN(task.created)) return "—";
  const end = Number.isNaN(task.ended) ? now : task.ended;
  return formatDuration(end - task.created) || "—";
}

function bindToggle(el: HTMLElement, id: string, opts: TreeOptions, host: HTMLElement): void {
  const toggle = (): void => {
    if (opts.collapsed.has(id)) opts.collapsed.delete(id);
    else opts.collapsed.add(id);
    opts.onToggle();
    // The tree was redrawn: keep the keyboard where it was.
    const again = findNode(host, id);
    again?.focus();
  };
  el.addEventListener("click", toggle);
  el.addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter" && ev.key !== " ") return;
    ev.preventDefault();
    toggle();
  });
}

function findNode(host: HTMLElement, id: string): HTMLElement | null {
  for (const node of Array.from(host.querySelectorAll<HTMLElement>('[data-testid="task-node"]'))) {
    if (node.dataset.taskId === id) return node;
  }
  return null;
}

// Arrow keys walk the visible rows, as in any tree widget.
function moveFocus(ev: KeyboardEvent, el: HTMLElement): void {
  const step = ev.key === "ArrowDown" ? 1 : ev.key === "ArrowUp" ? -1 : 0;
  if (!step) return;
  const next = step > 0 ? el.nextElementSibling : el.previousElementSibling;
  if (next instanceof HTMLElement && next.getAttribute("role") === "treeitem") {
    ev.preventDefault();
    next.focus();
  }
}
