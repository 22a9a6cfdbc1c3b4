// Typed, defensive reads of the run table's traits (js/PROTOCOL.md), and a listener
// registry so render's cleanup can remove everything it added.
import type { AnyModel } from "@anywidget/types";

export interface ColumnSpec {
  key: string;
  label: string;
  kind: string;
  hideable: boolean;
}

export interface SortSpec {
  key: string;
  desc: boolean;
}

export type ArchivedView = "active" | "archived" | "all";

function strings(v: unknown): string[] {
  return Array.isArray(v)
    ? v.filter((x) => x !== null && x !== undefined).map(String)
    : [];
}

export function readSelected(model: AnyModel): string[] {
  return strings(model.get("selected"));
}

export function readStrings(model: AnyModel, key: string): string[] {
  return strings(model.get(key));
}

export function readString(model: AnyModel, key: string): string {
  const v = model.get(key);
  return typeof v === "string" ? v : "";
}

export function readNumber(model: AnyModel, key: string): number {
  const v = Number(model.get(key));
  return Number.isFinite(v) ? v : 0;
}

export function readSort(model: AnyModel): SortSpec {
  const v = model.get("sort") as Partial<SortSpec> | null | undefined;
  if (!v || typeof v !== "object" || typeof v.key !== "string")
    return { key: "", desc: false };
  return { key: v.key, desc: !!v.desc };
}

export function readArchived(model: AnyModel): ArchivedView {
  const v = model.get("archived");
  return v === "archived" || v === "all" ? v : "active";
}

export function readColumns(model: AnyModel): ColumnSpec[] {
  const v = model.get("columns");
  if (!Array.isArray(v)) return [];
  const out: ColumnSpec[] = [];
  for (const c of v) {
    if (!c || typeof c !== "object" || typeof c.key !== "string") continue;
    out.push({
      key: c.key,
      label: typeof c.label === "string" ? c.label : c.key,
      kind: typeof c.kind === "string" ? c.kind : "text",
      hideable: c.hideable !== false,
    });
  }
  return out;
}

/** Set a trait and push it to the kernel. */
export function save(model: AnyModel, key: string, value: unknown): void {
  model.set(key, value);
  model.save_changes();
}

/** Model listeners added by one view; `clear` removes exactly those. */
export class Listeners {
  private readonly added: [string, (...args: any[]) => void][] = [];

  constructor(private readonly model: AnyModel) {}

  on(event: string, fn: (...args: any[]) => void): void {
    this.model.on(event, fn);
    this.added.push([event, fn]);
  }

  clear(): void {
    for (const [event, fn] of this.added.splice(0)) this.model.off(event, fn);
  }
}
