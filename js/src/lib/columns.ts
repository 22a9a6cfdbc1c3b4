// A columnar store of the loaded runs, decoded from Arrow IPC (PROTOCOL.md "Row
// payload") and indexed by run_id. Numbers and times live in Float64Arrays (NaN =
// unset), booleans as 1/0/NaN, text in plain arrays; rows keep their load order.
import { DataType, tableFromIPC, type Table, type Vector } from "apache-arrow";

export type ColumnKind = "number" | "bool" | "text";

interface NumColumn {
  kind: "number" | "bool";
  data: Float64Array;
}

interface TextColumn {
  kind: "text";
  data: (string | null)[];
}

export type Column = NumColumn | TextColumn;
export type CellValue = string | number | boolean | null;

/** Decode Arrow IPC stream bytes (a DataView, typed array or ArrayBuffer). */
export function decodeIPC(bytes: ArrayBuffer | ArrayBufferView): Table {
  const u8 =
    bytes instanceof ArrayBuffer
      ? new Uint8Array(bytes)
      : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return tableFromIPC(u8);
}

function kindOf(type: DataType): ColumnKind {
  if (DataType.isFloat(type) || DataType.isInt(type) || DataType.isDecimal(type)) {
    return "number";
  }
  if (DataType.isTimestamp(type) || DataType.isDate(type)) return "number";
  if (DataType.isBool(type)) return "bool";
  return "text";
}

function toNumber(v: unknown): number {
  if (v === null || v === undefined) return Number.NaN;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "boolean") return v ? 1 : 0;
  if (v instanceof Date) return v.getTime();
  const n = Number(v);
  return Number.isFinite(n) || Number.isNaN(n) ? n : Number.NaN;
}

function toText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return typeof v === "string" ? v : String(v);
}

/** One Arrow column as a store column. */
function readVector(vector: Vector, kind: ColumnKind): Column {
  if (kind === "text") {
    const fast = DataType.isDictionary(vector.type)
      ? readDictionary(vector)
      : DataType.isUtf8(vector.type)
        ? readUtf8(vector)
        : null;
    return { kind, data: fast ?? textArray(vector) };
  }
  const fast = DataType.isFloat(vector.type) ? readFloats(vector) : null;
  if (fast) return { kind, data: fast };
  const n = vector.length;
  const data = new Float64Array(n);
  let i = 0;
  for (const v of vector) data[i++] = toNumber(v);
  return { kind, data };
}

function textArray(vector: Vector): (string | null)[] {
  // Iterating decodes each chunk sequentially: far faster than get(i) per row.
  const data = vector.toArray() as unknown[];
  const out: (string | null)[] = new Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = toText(data[i]);
  return out;
}

type Chunk = Vector["data"][number];

const decoder = new TextDecoder();

/**
 * Utf8 text: when a chunk's bytes are all ASCII, decode the buffer once and slice
 * it by offsets (most run ids and names are). Null if a chunk is unusual.
 */
function readUtf8(vector: Vector): (string | null)[] | null {
  const out: (string | null)[] = new Array(vector.length);
  let k = 0;
  for (const chunk of vector.data) {
    const offsets = chunk.valueOffsets as unknown;
    const bytes = chunk.values as unknown;
    if (
      chunk.offset !== 0 ||
      !(offsets instanceof Int32Array) ||
      !(bytes instanceof Uint8Array)
    ) {
      return null;
    }
    if (chunk.nullCount === chunk.length) {
      out.fill(null, k, k + chunk.length);
      k += chunk.length;
      continue;
    }
    const used = bytes.subarray(0, offsets[chunk.length]);
    const text = decoder.decode(used);
    const ascii = text.length === used.length;
    for (let i = 0; i < chunk.length; i++) {
      const a = offsets[i];
      const b = offsets[i + 1];
      if (!valid(chunk, i)) out[k++] = null;
      else out[k++] = ascii ? text.slice(a, b) : decoder.decode(used.subarray(a, b));
    }
  }
  return out;
}

function valid(chunk: Chunk, i: number): boolean {
  const bitmap = chunk.nullBitmap;
  if (!chunk.nullCount || !bitmap || !bitmap.length) return true;
  return (bitmap[i >> 3] & (1 << (i & 7))) !== 0;
}

/** Dictionary-encoded text (states): decode each dictionary once. Null if unusual. */
function readDictionary(vector: Vector): (string | null)[] | null {
  const out: (string | null)[] = new Array(vector.length);
  let k = 0;
  for (const chunk of vector.data) {
    if (chunk.offset !== 0 || !chunk.dictionary) return null;
    const words = (chunk.dictionary.toArray() as unknown[]).map(toText);
    const keys = chunk.values as ArrayLike<number>;
    for (let i = 0; i < chunk.length; i++) {
      out[k++] = valid(chunk, i) ? (words[Number(keys[i])] ?? null) : null;
    }
  }
  return out;
}

/** Float columns read straight from their buffers, nulls as NaN. Null if unusual. */
function readFloats(vector: Vector): Float64Array | null {
  const out = new Float64Array(vector.length);
  let k = 0;
  for (const chunk of vector.data) {
    const values = chunk.values as unknown;
    if (
      chunk.offset !== 0 ||
      !(values instanceof Float64Array || values instanceof Float32Array)
    ) {
      return null;
    }
    for (let i = 0; i < chunk.length; i++)
      out[k++] = valid(chunk, i) ? values[i] : Number.NaN;
  }
  return out;
}

function emptyColumn(kind: ColumnKind, n: number): Column {
  if (kind === "text") return { kind, data: new Array<string | null>(n).fill(null) };
  return { kind, data: new Float64Array(n).fill(Number.NaN) };
}

/** Decoded rows of one message, keyed by column name. */
export interface Batch {
  length: number;
  columns: Map<string, Column>;
}

/** Turn an Arrow table into a batch of columns. */
export function batchFromTable(table: Table): Batch {
  const columns = new Map<string, Column>();
  for (const field of table.schema.fields) {
    const vector = table.getChild(field.name);
    if (vector) columns.set(field.name, readVector(vector, kindOf(field.type)));
  }
  return { length: table.numRows, columns };
}

export class ColumnStore {
  length = 0;
  /** Bumped on every change, so views know when to re-sort and redraw. */
  version = 0;
  readonly columns = new Map<string, Column>();
  private readonly index = new Map<string, number>();
  /** False after a first page was adopted: the index is built on first use. */
  private indexed = true;

  /** Column names in first-seen order. */
  names(): string[] {
    return [...this.columns.keys()];
  }

  rowOf(runId: string): number | undefined {
    return this.ids().get(runId);
  }

  idAt(row: number): string {
    return this.text("run_id", row) ?? "";
  }

  has(runId: string): boolean {
    return this.ids().has(runId);
  }

  /**
   * Build the run_id index now (after a first page it is deferred so the first rows
   * paint sooner). Returns true when that changed the rows: a page that repeated a
   * run id keeps only the last of its rows.
   */
  buildIndex(): boolean {
    const before = this.version;
    this.ids();
    return this.version !== before;
  }

  private ids(): Map<string, number> {
    if (this.indexed) return this.index;
    this.indexed = true;
    const index = this.index;
    index.clear();
    for (let r = 0; r < this.length; r++) index.set(this.idAt(r), r);
    if (index.size === this.length) return index;
    const keep: number[] = [];
    for (let r = 0; r < this.length; r++)
      if (index.get(this.idAt(r)) === r) keep.push(r);
    this.keepRows(keep);
    return index;
  }

  private keepRows(keep: number[]): void {
    for (const [name, col] of this.columns) this.columns.set(name, pick(col, keep));
    this.length = keep.length;
    this.index.clear();
    for (let r = 0; r < this.length; r++) this.index.set(this.idAt(r), r);
    this.version++;
  }

  /** A cell as text, null when unset or the column is missing. */
  text(name: string, row: number): string | null {
    const col = this.columns.get(name);
    if (!col || col.kind !== "text") return col ? toText(this.get(name, row)) : null;
    return col.data[row] ?? null;
  }

  /** A cell as its natural value: number, boolean, string or null. */
  get(name: string, row: number): CellValue {
    const col = this.columns.get(name);
    if (!col || row < 0 || row >= this.length) return null;
    if (col.kind === "text") return col.data[row] ?? null;
    const v = col.data[row];
    if (Number.isNaN(v)) return null;
    return col.kind === "bool" ? v !== 0 : v;
  }

  /** Drop everything and load `batch`. */
  replace(batch: Batch): void {
    this.columns.clear();
    this.index.clear();
    this.indexed = true;
    this.length = 0;
    this.append(batch);
  }

  /** Add rows; a run_id already present is updated in place instead. */
  append(batch: Batch): void {
    this.merge(batch);
  }

  /** Update rows by run_id (only the columns the batch carries); add unknown ones. */
  merge(batch: Batch): void {
    const ids = batch.columns.get("run_id");
    if (!ids || ids.kind !== "text") {
      throw new Error("row payload has no run_id column (see js/PROTOCOL.md)");
    }
    if (this.length === 0) return this.adopt(batch);
    const index = this.ids();
    const targets = new Int32Array(batch.length);
    let added = 0;
    for (let i = 0; i < batch.length; i++) {
      const id = ids.data[i] ?? "";
      const row = index.get(id);
      if (row === undefined) {
        targets[i] = this.length + added;
        index.set(id, this.length + added);
        added++;
      } else targets[i] = row;
    }
    this.grow(this.length + added, batch);
    for (const [name, src] of batch.columns)
      this.write(name, src, targets, batch.length);
    this.version++;
  }

  /** Remove rows by run_id; the remaining rows keep their relative order. */
  remove(runIds: readonly string[]): void {
    const index = this.ids();
    const drop = new Set<number>();
    for (const id of runIds) {
      const row = index.get(id);
      if (row !== undefined) drop.add(row);
    }
    if (!drop.size) return;
    const keep: number[] = [];
    for (let r = 0; r < this.length; r++) if (!drop.has(r)) keep.push(r);
    this.keepRows(keep);
  }

  /** First load: take the batch's columns as they are (no copy, index later). */
  private adopt(batch: Batch): void {
    this.columns.clear();
    this.index.clear();
    for (const [name, col] of batch.columns) this.columns.set(name, col);
    this.length = batch.length;
    this.indexed = false;
    this.version++;
  }

  private grow(length: number, batch: Batch): void {
    for (const [name, col] of this.columns) this.columns.set(name, resize(col, length));
    for (const [name, src] of batch.columns) {
      if (!this.columns.has(name))
        this.columns.set(name, emptyColumn(src.kind, length));
    }
    this.length = length;
  }

  private write(name: string, src: Column, targets: Int32Array, n: number): void {
    let dst = this.columns.get(name) as Column;
    if (dst.kind !== src.kind) {
      // A column changed type between pages (e.g. a param that is a number in one
      // run and text in another): keep everything as text.
      dst = asText(dst, this.length);
      this.columns.set(name, dst);
    }
    if (dst.kind === "text") {
      const data = dst.data;
      const from =
        src.kind === "text" ? src.data : Array.from(src.data, numText(src.kind));
      for (let i = 0; i < n; i++) data[targets[i]] = from[i];
    } else {
      const from = src.data as Float64Array;
      for (let i = 0; i < n; i++) dst.data[targets[i]] = from[i];
    }
  }
}

function numText(kind: ColumnKind): (v: number) => string | null {
  return (v) =>
    Number.isNaN(v) ? null : kind === "bool" ? String(v !== 0) : String(v);
}

function asText(col: Column, n: number): Column {
  if (col.kind === "text") return col;
  const data = Array.from(col.data.subarray(0, n), numText(col.kind));
  return { kind: "text", data };
}

function resize(col: Column, length: number): Column {
  if (col.kind === "text") {
    while (col.data.length < length) col.data.push(null);
    return col;
  }
  if (col.data.length >= length) return col;
  // Grow by doubling so appending many pages stays linear.
  const next = new Float64Array(Math.max(length, col.data.length * 2)).fill(Number.NaN);
  next.set(col.data);
  return { kind: col.kind, data: next };
}

function pick(col: Column, keep: number[]): Column {
  if (col.kind === "text") return { kind: "text", data: keep.map((r) => col.data[r]) };
  const data = new Float64Array(Math.max(keep.length, 1)).fill(Number.NaN);
  keep.forEach((r, i) => (data[i] = col.data[r]));
  return { kind: col.kind, data };
}
