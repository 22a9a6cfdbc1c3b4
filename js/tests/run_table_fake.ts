// Test doubles for the run table: a fake anywidget model (TESTING.md §5) and Arrow
// IPC payloads built the way the kernel sends them.
import {
  Bool,
  Float64,
  Utf8,
  makeData,
  makeVector,
  tableFromArrays,
  tableToIPC,
  vectorFromArray,
  type Vector,
} from "apache-arrow";

const encoder = new TextEncoder();

/** A Utf8 vector built from its buffers (the builder is slow for 100k rows). */
function utf8(values: (string | null | undefined)[]): Vector {
  const parts = values.map((v) =>
    v === null || v === undefined ? null : encoder.encode(v),
  );
  const offsets = new Int32Array(values.length + 1);
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  let nulls = 0;
  parts.forEach((p, i) => {
    offsets[i + 1] = offsets[i] + (p?.length ?? 0);
    if (p) bitmap[i >> 3] |= 1 << (i & 7);
    else nulls++;
  });
  const data = new Uint8Array(offsets[values.length]);
  parts.forEach((p, i) => p && data.set(p, offsets[i]));
  return makeVector(
    makeData({
      type: new Utf8(),
      length: values.length,
      nullCount: nulls,
      valueOffsets: offsets,
      data,
      nullBitmap: bitmap,
    }),
  );
}

type Fn = (...args: any[]) => void;

export interface Sent {
  content: any;
  buffers: Uint8Array[];
}

export class FakeModel {
  state: Record<string, unknown>;
  sent: Sent[] = [];
  saves = 0;
  private handlers = new Map<string, Fn[]>();
  widget_manager = { get_model: async () => this as any };

  constructor(state: Record<string, unknown> = {}) {
    this.state = { ...state };
  }

  get(key: string): any {
    return this.state[key];
  }

  set(key: string, value: unknown): void {
    this.state[key] = value;
    this.emit(`change:${key}`);
    this.emit("change");
  }

  on(event: string, fn: Fn): void {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), fn]);
  }

  off(event?: string | null, fn?: Fn | null): void {
    if (!event) return this.handlers.clear();
    if (!fn) return void this.handlers.delete(event);
    this.handlers.set(
      event,
      (this.handlers.get(event) ?? []).filter((f) => f !== fn),
    );
  }

  private emit(event: string, ...args: unknown[]): void {
    for (const fn of this.handlers.get(event) ?? []) fn(...args);
  }

  listenerCount(): number {
    let n = 0;
    for (const list of this.handlers.values()) n += list.length;
    return n;
  }

  save_changes(): void {
    this.saves++;
  }

  send(
    content: any,
    _callbacks?: unknown,
    buffers?: ArrayBufferView[] | ArrayBuffer[],
  ): void {
    const bytes = (buffers ?? []).map((b: any) =>
      b instanceof ArrayBuffer
        ? new Uint8Array(b)
        : new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
    );
    this.sent.push({ content, buffers: bytes });
  }

  /** The kernel changes a trait. */
  pySet(key: string, value: unknown): void {
    this.set(key, value);
  }

  /** The kernel sends a custom message. */
  pySend(content: any, buffers: Uint8Array[] = []): void {
    const views = buffers.map(
      (b) => new DataView(b.buffer, b.byteOffset, b.byteLength),
    );
    this.emit("msg:custom", content, views);
  }

  lastSent(kind: string): Sent | undefined {
    return [...this.sent].reverse().find((s) => s.content?.kind === kind);
  }
}

export interface RowSpec {
  run_id: string;
  display_name?: string | null;
  state?: string | null;
  storage_state?: string | null;
  experiment_name?: string | null;
  pipeline?: string | null;
  created_at?: number;
  finished_at?: number;
  duration?: number;
  error?: string | null;
  params?: Record<string, number | string | boolean | null>;
}

/** Arrow IPC stream bytes for `rows`, with the kernel's column types. */
export function ipcRows(rows: RowSpec[]): Uint8Array {
  const text = (k: keyof RowSpec) =>
    utf8(rows.map((r) => (r[k] ?? null) as string | null));
  const num = (k: keyof RowSpec) =>
    Float64Array.from(rows.map((r) => (r[k] as number | undefined) ?? Number.NaN));
  const cols: Record<string, Vector | Float64Array | string[]> = {
    run_id: utf8(rows.map((r) => r.run_id)),
    display_name: text("display_name"),
    state: rows.map((r) => r.state ?? "SUCCEEDED"),
    storage_state: rows.map((r) => r.storage_state ?? "AVAILABLE"),
    experiment_name: text("experiment_name"),
    pipeline: text("pipeline"),
    created_at: num("created_at"),
    finished_at: num("finished_at"),
    duration: num("duration"),
    error: text("error"),
  };
  const paramNames = [...new Set(rows.flatMap((r) => Object.keys(r.params ?? {})))];
  for (const name of paramNames) {
    const values = rows.map((r) => r.params?.[name] ?? null);
    const sample = values.find((v) => v !== null);
    cols[`param.${name}`] =
      typeof sample === "number"
        ? vectorFromArray(values as (number | null)[], new Float64())
        : typeof sample === "boolean"
          ? vectorFromArray(values as (boolean | null)[], new Bool())
          : utf8(values as (string | null)[]);
  }
  return tableToIPC(tableFromArrays(cols as any), "stream");
}

/** `n` synthetic runs; states cycle through a fixed list. */
export function manyRows(n: number): RowSpec[] {
  const states = ["RUNNING", "FAILED", "SUCCEEDED", "PENDING", "CANCELED"];
  const rows: RowSpec[] = new Array(n);
  const t0 = Date.UTC(2026, 0, 1);
  for (let i = 0; i < n; i++) {
    rows[i] = {
      run_id: `run-${i}`,
      display_name: `run number ${i}`,
      state: states[i % states.length],
      experiment_name: `exp-${i % 7}`,
      pipeline: "p1",
      created_at: t0 + i * 1000,
      duration: i % 5 === 0 ? Number.NaN : i * 10,
      params: { lr: (i % 10) / 100 },
    };
  }
  return rows;
}
