// CSV/TSV tables: the rows the kernel sent (the first `caps.rows`), sortable by any
// column with a header click and shown a page at a time. Cells are text only.
import { h, isolated } from "../lib/dom";
import {
  caps,
  formatInt,
  hasNotes,
  needArray,
  notice,
  num,
  viewerRoot,
  type Drawn,
  type Json,
} from "./common";

export const PAGE_SIZE = 50;

type Cell = string | number | boolean | null;

interface Sort {
  col: number;
  desc: boolean;
}

/** Cells as text-or-number: objects become JSON text, missing cells null. */
export function readRows(
  raw: unknown[],
  width: number,
): { rows: Cell[][]; skipped: number } {
  const rows: Cell[][] = [];
  let skipped = 0;
  for (const row of raw) {
    if (!Array.isArray(row)) {
      skipped += 1;
      continue;
    }
    const cells: Cell[] = [];
    for (let i = 0; i < width; i += 1) cells.push(cell(row[i]));
    rows.push(cells);
  }
  return { rows, skipped };
}

function cell(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") return Number.isFinite(v) ? v : String(v);
  try {
    return JSON.stringify(v) ?? null;
  } catch {
    return null;
  }
}

/** Numbers (and numeric text) by value, then text; empty cells last either way. */
export function compareCells(a: Cell, b: Cell): number {
  const aEmpty = a === null || a === "";
  const bEmpty = b === null || b === "";
  if (aEmpty || bEmpty) return aEmpty === bEmpty ? 0 : aEmpty ? 1 : -1;
  const an = num(a);
  const bn = num(b);
  if (an !== null && bn !== null) return an - bn;
  if (an !== null) return -1;
  if (bn !== null) return 1;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

function sorted(rows: Cell[][], sort: Sort | null): Cell[][] {
  if (!sort) return rows;
  const { col, desc } = sort;
  return rows
    .map((row, i) => ({ row, i }))
    .sort((x, y) => {
      const c = compareCells(x.row[col], y.row[col]);
      const empty = x.row[col] === null || y.row[col] === null;
      // Empty cells stay at the end in both directions; ties keep file order.
      return (desc && !empty ? -c : c) || x.i - y.i;
    })
    .map(({ row }) => row);
}

export function renderTable(spec: Json): Drawn {
  const columns = needArray(spec, "columns").map((c) => (c === null ? "" : String(c)));
  const raw = needArray(spec, "rows");
  let width = columns.length;
  for (const r of raw) if (Array.isArray(r)) width = Math.max(width, r.length);
  while (columns.length < width) columns.push(`column ${columns.length + 1}`);
  const { rows, skipped } = readRows(raw, width);
  const view = new TableView(columns, rows);
  const el = viewerRoot("table");
  const note = truncation(spec, rows.length);
  if (note) el.append(note);
  if (skipped) el.append(notice(`${formatInt(skipped)} malformed rows skipped.`));
  if (!columns.length && !rows.length) el.append(notice("This table is empty."));
  else el.append(view.el);
  return { el };
}

function truncation(spec: Json, loaded: number): HTMLElement | null {
  const total = num(spec.total_rows);
  if (hasNotes(spec)) return null;
  if (spec.truncated !== true && (total === null || total <= loaded)) return null;
  const cap = caps(spec).rows;
  const of = total === null ? "" : ` of ${formatInt(total)}`;
  const named = cap === null ? "" : ` (cap: rows=${cap})`;
  return notice(
    `Showing the first ${formatInt(loaded)}${of} rows${named}.`,
    "table-truncated",
  );
}

class TableView {
  readonly el: HTMLElement;
  private readonly head = h("thead");
  private readonly body = h("tbody");
  private readonly status = h("span", {
    class: "kfp-table-status",
    "data-testid": "table-page",
  });
  private readonly prev = button("‹ Prev", "table-prev");
  private readonly next = button("Next ›", "table-next");
  private sort: Sort | null = null;
  private page = 0;
  private order: Cell[][];

  constructor(
    private readonly columns: string[],
    private readonly rows: Cell[][],
  ) {
    this.order = rows;
    this.prev.addEventListener("click", () => this.go(this.page - 1));
    this.next.addEventListener("click", () => this.go(this.page + 1));
    const pager = h(
      "div",
      { class: "kfp-table-pager" },
      this.prev,
      this.status,
      this.next,
    );
    const table = h(
      "table",
      { class: "kfp-viewer-table kfp-data-table" },
      this.head,
      this.body,
    );
    this.el = h(
      "div",
      { class: "kfp-table-view" },
      h("div", { class: "kfp-table-scroll" }, table),
      pager,
    );
    this.drawHead();
    this.drawPage();
  }

  private get pages(): number {
    return Math.max(1, Math.ceil(this.rows.length / PAGE_SIZE));
  }

  private go(page: number): void {
    this.page = Math.min(Math.max(0, page), this.pages - 1);
    this.drawPage();
  }

  private toggle(col: number): void {
    const desc = this.sort?.col === col ? !this.sort.desc : false;
    this.sort = { col, desc };
    this.order = sorted(this.rows, this.sort);
    this.page = 0;
    this.drawHead();
    this.drawPage();
  }

  private drawHead(): void {
    const cells = this.columns.map((name, col) => {
      const on = this.sort?.col === col;
      const arrow = on ? (this.sort?.desc ? " ▼" : " ▲") : "";
      const th = h(
        "th",
        {
          scope: "col",
          tabindex: 0,
          class: "kfp-sortable",
          "data-testid": "table-header",
          "data-col": col,
          "aria-sort": on ? (this.sort?.desc ? "descending" : "ascending") : "none",
          title: `Sort by ${isolated(name)}`,
        },
        name,
        arrow,
      );
      th.addEventListener("click", () => this.toggle(col));
      th.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          this.toggle(col);
        }
      });
      return th;
    });
    this.head.replaceChildren(h("tr", null, ...cells));
  }

  private drawPage(): void {
    const start = this.page * PAGE_SIZE;
    const slice = this.order.slice(start, start + PAGE_SIZE);
    this.body.replaceChildren(
      ...slice.map((row) =>
        h("tr", { "data-testid": "table-row" }, ...row.map((c) => td(c))),
      ),
    );
    const end = start + slice.length;
    const total = formatInt(this.rows.length);
    const page = `page ${this.page + 1} of ${this.pages}`;
    const span = `${formatInt(start + 1)}–${formatInt(end)}`;
    this.status.textContent = this.rows.length
      ? `Rows ${span} of ${total} · ${page}`
      : "No rows";
    this.prev.disabled = this.page === 0;
    this.next.disabled = this.page >= this.pages - 1;
  }
}

function td(c: Cell): HTMLElement {
  const isNum = typeof c === "number";
  return h("td", { class: isNum ? "kfp-num" : null }, c === null ? "" : String(c));
}

function button(label: string, testid: string): HTMLButtonElement {
  return h(
    "button",
    { type: "button", class: "kfp-button", "data-testid": testid },
    label,
  );
}
