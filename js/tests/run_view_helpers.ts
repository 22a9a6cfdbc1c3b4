/// <reference types="node" />
// Shared pieces of the run view tests: the demo server's runs saved as fixtures, and
// a stand-in for the anywidget model that records what the panel sends.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { AnyModel } from "@anywidget/types";
import { readTasks, type Task } from "../src/run_view/tasks";

/** A run as `GET /apis/v2beta1/runs?view=FULL` returned it (tasks inline). */
export function fixtureRun(name: "run_failed" | "run_succeeded" | "run_canceling"): {
  run: Record<string, unknown>;
  tasks: unknown[];
} {
  const file = join(__dirname, "fixtures", `${name}.json`);
  const run = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  return { run, tasks: run.tasks as unknown[] };
}

/** Tasks from short specs: `{id, parent?, state?, created?, ended?, ...wire}`. */
export function tasksFrom(specs: Record<string, unknown>[]): Task[] {
  return readTasks(
    specs.map(({ id, parent, created, ended, ...rest }) => ({
      task_id: id,
      name: id,
      parent_task_id: parent,
      create_time: created,
      end_time: ended,
      ...rest,
    })),
  );
}

type Listener = (...args: any[]) => void;

/** A model double: traits in a map, listeners by event, sent messages recorded. */
export class FakeModel implements AnyModel {
  readonly sent: Record<string, unknown>[] = [];
  readonly saves: number[] = [];
  private readonly traits = new Map<string, unknown>();
  private readonly listeners = new Map<string, Set<Listener>>();
  widget_manager = { get_model: () => Promise.reject(new Error("no manager")) } as never;

  constructor(traits: Record<string, unknown>) {
    for (const [k, v] of Object.entries(traits)) this.traits.set(k, v);
  }

  get(key: string): any {
    return this.traits.get(key);
  }

  set(key: string, value: unknown): void {
    this.traits.set(key, value);
  }

  /** Change a trait from the kernel side: store it and fire `change:<key>`. */
  push(key: string, value: unknown): void {
    this.traits.set(key, value);
    for (const fn of Array.from(this.listeners.get(`change:${key}`) ?? [])) fn();
  }

  save_changes(): void {
    this.saves.push(this.saves.length);
  }

  on(event: string, fn: Listener): void {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event)?.add(fn);
  }

  off(event?: string | null, fn?: Listener | null): void {
    if (event && fn) this.listeners.get(event)?.delete(fn);
  }

  send(content: Record<string, unknown>): void {
    this.sent.push(content);
  }

  /** Deliver a custom message (with buffers) from the kernel. */
  receive(msg: Record<string, unknown>, buffers: DataView[] = []): void {
    for (const fn of Array.from(this.listeners.get("msg:custom") ?? []))
      fn(msg, buffers);
  }

  listenerCount(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }
}
