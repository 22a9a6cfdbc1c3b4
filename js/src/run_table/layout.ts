// Which columns the table shows, in what order and how wide.
import type { ColumnStore } from "../lib/columns";
import type { ColumnSpec } from "./traits";

export interface ColumnDef extends ColumnSpec {
  width: number;
}

/** Shown when the `columns` trait is still empty. */
export const DEFAULT_COLUMNS: ColumnSpec[] = [
  { key: "display_name", label: "Name", kind: "text", hideable: false },
  { key: "state", label: "State", kind: "state", hideable: false },
  { key: "experiment_name", label: "Experiment", kind: "text", hideable: true },
  { key: "created_at", label: "Created", kind: "time", hideable: true },
  { key: "duration", label: "Duration", kind: "duration", hideable: true },
  { key: "pipeline", label: "Pipeline", kind: "text", hideable: true },
];

const NAME_KEYS = new Set(["display_name", "name"]);

const WIDTHS: Record<string, number> = {
  state: 150,
  time: 160,
  duration: 96,
  number: 100,
  bool: 72,
  json: 170,
  text: 160,
};

export const SELECT_WIDTH = 56;

export function isNameColumn(key: string): boolean {
  return NAME_KEYS.has(key);
}

/**
 * Every known column: the trait's list (or the defaults), then `param.*` columns
 * the rows carry that the trait does not name.
 */
export function allColumns(specs: ColumnSpec[], store: ColumnStore): ColumnDef[] {
  const base = specs.length ? specs : DEFAULT_COLUMNS;
  const seen = new Set(base.map((c) => c.key));
  const extra: ColumnSpec[] = [];
  for (const name of store.names()) {
    if (!name.startsWith("param.") || seen.has(name)) continue;
    const col = store.columns.get(name);
    const kind =
      col?.kind === "number" ? "number" : col?.kind === "bool" ? "bool" : "text";
    extra.push({ key: name, label: name, kind, hideable: true });
  }
  return [...base, ...extra].map((c) => ({ ...c, width: widthOf(c) }));
}

function widthOf(c: ColumnSpec): number {
  if (isNameColumn(c.key)) return 260;
  return WIDTHS[c.kind] ?? 140;
}

/** The columns not hidden (non-hideable columns are always shown). */
export function visibleColumns(
  all: ColumnDef[],
  hidden: readonly string[],
): ColumnDef[] {
  const h = new Set(hidden);
  return all.filter((c) => !c.hideable || !h.has(c.key));
}

/** CSS grid template for the select column plus `cols`. */
export function gridTemplate(cols: ColumnDef[]): string {
  return [`${SELECT_WIDTH}px`, ...cols.map((c) => `${c.width}px`)].join(" ");
}

export function totalWidth(cols: ColumnDef[]): number {
  return cols.reduce((sum, c) => sum + c.width, SELECT_WIDTH);
}
