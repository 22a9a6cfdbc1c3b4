// The rows on screen: the loaded rows filtered by text and state, then sorted.
import type { ColumnStore } from "../lib/columns";
import { sortRows, sortRowsByNumber } from "../lib/sort";
import type { SortSpec } from "./traits";

/** Columns the text filter searches besides every `param.*` column. */
const SEARCHED = ["display_name", "run_id", "experiment_name", "pipeline"];

export interface OrderInput {
  text: string;
  states: readonly string[];
  sort: SortSpec;
}

/** Caches the lowercased search text of each row until the store changes. */
export class Haystack {
  private version = -1;
  private rows: string[] = [];

  of(store: ColumnStore, row: number): string {
    if (this.version !== store.version) {
      this.rows = [];
      this.version = store.version;
    }
    let text = this.rows[row];
    if (text === undefined) {
      text = build(store, row);
      this.rows[row] = text;
    }
    return text;
  }
}

function build(store: ColumnStore, row: number): string {
  const parts: string[] = [];
  for (const name of store.names()) {
    if (!SEARCHED.includes(name) && !name.startsWith("param.")) continue;
    const v = store.get(name, row);
    if (v !== null) parts.push(String(v));
  }
  return parts.join("\u0000").toLowerCase();
}

/** Rows (store indices) matching the filters, in display order. */
export function computeOrder(
  store: ColumnStore,
  input: OrderInput,
  hay: Haystack,
): number[] {
  const needle = input.text.trim().toLowerCase();
  const states = new Set(input.states);
  const rows: number[] = [];
  for (let r = 0; r < store.length; r++) {
    if (states.size && !states.has(store.text("state", r) ?? "")) continue;
    if (needle && !hay.of(store, r).includes(needle)) continue;
    rows.push(r);
  }
  return sortBy(store, rows, input.sort);
}

function sortBy(store: ColumnStore, rows: number[], sort: SortSpec): number[] {
  const col = sort.key ? store.columns.get(sort.key) : undefined;
  if (!col) return rows;
  if (col.kind !== "text") return sortRowsByNumber(rows, col.data, { desc: sort.desc });
  return sortRows(rows, (r) => col.data[r], { desc: sort.desc });
}

/** How many loaded rows are in each state (before any filter). */
export function stateCounts(store: ColumnStore): Map<string, number> {
  const counts = new Map<string, number>();
  const col = store.columns.get("state");
  if (!col || col.kind !== "text") {
    if (store.length) counts.set("", store.length);
    return counts;
  }
  for (let r = 0; r < store.length; r++) {
    const s = col.data[r] ?? "";
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  return counts;
}
