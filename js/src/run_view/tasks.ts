// Tasks of a run, read from the PR tasks-API schema (SEMANTICS §8.3) into a small,
// always-complete shape, plus the questions the detail view asks of them.
import { arr, num, obj, parseTime, str, type Json } from "./wire";

/** One output artifact of a task, flattened out of its output key group. */
export interface Artifact {
  key: string;
  name: string;
  type: string;
  uri: string;
  numberValue: number | null;
  raw: Json;
}

/** A task with every field present; times are epoch ms or NaN. */
export interface Task {
  id: string;
  parentId: string;
  name: string;
  state: string;
  type: string;
  created: number;
  ended: number;
  errorMessage: string;
  cached: boolean;
  container: boolean;
  artifacts: Artifact[];
  index: number;
  raw: Json;
}

/** Task states after which a task does not change (its bar stops). */
export const FINAL_TASK_STATES = ["SUCCEEDED", "SKIPPED", "FAILED", "CACHED", "CANCELED"];

// Task types that group other tasks; the root task has no type (ROOT = 0 is left out).
const CONTAINER_TYPES = ["ROOT", "DAG", "LOOP", "CONDITION", "CONDITION_BRANCH", "EXIT_HANDLER"];

/** Read the wire `tasks` list; entries that are not objects are skipped. */
export function readTasks(raw: unknown): Task[] {
  const tasks: Task[] = [];
  const seen = new Set<string>();
  arr(raw).forEach((entry, index) => {
    if (entry === null || typeof entry !== "object" || Array.isArray(entry)) return;
    const task = readTask(entry as Json, index);
    // Ids key the tree and the DOM; a missing or repeated one gets a stand-in.
    if (!task.id || seen.has(task.id)) task.id = `${task.id || "task"}#${index}`;
    seen.add(task.id);
    tasks.push(task);
  });
  return tasks;
}

function readTask(t: Json, index: number): Task {
  const state = str(t.state);
  const type = str(t.type) || (str(t.parent_task_id) ? "" : "ROOT");
  return {
    id: str(t.task_id),
    parentId: str(t.parent_task_id),
    name: str(t.display_name) || str(t.name),
    state,
    type,
    created: firstTime(t.create_time, t.start_time),
    ended: parseTime(t.end_time),
    errorMessage: str(obj(t.error).message) || str(obj(t.status_metadata).message),
    cached: state === "CACHED" || lastHistoryState(t) === "CACHED",
    container: CONTAINER_TYPES.includes(type) || arr(t.child_tasks).length > 0,
    artifacts: readArtifacts(t.outputs),
    index,
    raw: t,
  };
}

function firstTime(...values: unknown[]): number {
  for (const v of values) {
    const t = parseTime(v);
    if (!Number.isNaN(t)) return t;
  }
  return NaN;
}

function lastHistoryState(t: Json): string {
  const history = arr(t.state_history);
  return history.length ? str(obj(history[history.length - 1]).state) : "";
}

/** Flatten `outputs.artifacts` = [{artifact_key, artifacts: [...]}]. */
export function readArtifacts(outputs: unknown): Artifact[] {
  const found: Artifact[] = [];
  for (const group of arr(obj(outputs).artifacts)) {
    const key = str(obj(group).artifact_key);
    for (const item of arr(obj(group).artifacts)) {
      const a = obj(item);
      found.push({
        key,
        name: str(a.name),
        type: str(a.type),
        uri: str(a.uri),
        numberValue: num(a.number_value),
        raw: a,
      });
    }
  }
  return found;
}

/** True when a task in `state` is still going (its bar extends to now / run end). */
export function isRunningTask(task: Task): boolean {
  return !FINAL_TASK_STATES.includes(task.state) && Number.isNaN(task.ended);
}

/**
 * The failed task whose error explains the run: the first FAILED task by end time,
 * then create time.
 *
 * A failure travels up: parent DAGs and the root fail too, often at the same instant
 * and with a summary message, so tasks with a failed child are only considered when
 * no other failed task exists.
 */
export function firstFailedTask(tasks: Task[]): Task | null {
  const failed = tasks.filter((t) => t.state === "FAILED");
  if (!failed.length) return null;
  const failedParents = new Set(failed.map((t) => t.parentId).filter(Boolean));
  const origins = failed.filter((t) => !failedParents.has(t.id));
  const pool = origins.length ? origins : failed;
  return pool.slice().sort(byEndThenCreate)[0];
}

function byEndThenCreate(a: Task, b: Task): number {
  return (
    compareTimes(a.ended, b.ended) || compareTimes(a.created, b.created) || a.index - b.index
  );
}

/** Ascending by time with unset (NaN) times last. */
export function compareTimes(a: number, b: number): number {
  const aSet = !Number.isNaN(a);
  const bSet = !Number.isNaN(b);
  if (aSet && bSet) return a - b;
  return aSet === bSet ? 0 : aSet ? -1 : 1;
}
