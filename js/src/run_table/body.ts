// The virtualized table: a sticky header and a fixed-height row window over a spacer
// as tall as every row. Row elements are pooled and reused while scrolling.
import type { ColumnStore } from "../lib/columns";
import { h, isolated } from "../lib/dom";
import { formatDuration, formatTime } from "../lib/format";
import { setBadge, stateBadge } from "../lib/states";
import { spacerHeight, visibleRange } from "../lib/virtual";
import { gridTemplate, isNameColumn, totalWidth, type ColumnDef } from "./layout";
import type { SortSpec } from "./traits";

export const ROW_HEIGHT = 30;
export const OVERSCAN = 12;
/** Used when the browser reports no layout yet (hidden output, jsdom). */
const FALLBACK_VIEWPORT = 480;

export interface Outcome {
  status: "pending" | "ok" | "failed";
  error?: string;
}

/** What the body needs to draw a frame. */
export interface BodyData {
  store: ColumnStore;
  order: number[];
  columns: ColumnDef[];
  selected: ReadonlySet<string>;
  outcomes: ReadonlyMap<string, Outcome>;
  sort: SortSpec;
  timeZone: string;
  now: number;
}

interface RowEl {
  el: HTMLElement;
  box: HTMLInputElement;
  marker: HTMLElement;
  cells: HTMLElement[];
  key: string;
}

export class VirtualBody {
  readonly scroll: HTMLElement;
  readonly header: HTMLElement;
  readonly selectAll: HTMLInputElement;
  private readonly spacer: HTMLElement;
  private readonly empty: HTMLElement;
  private pool: RowEl[] = [];
  private data: BodyData | null = null;
  private columnsKey = "";
  private frame = 0;
  private range: [number, number] = [0, 0];

  constructor() {
    this.selectAll = h("input", {
      type: "checkbox",
      "data-testid": "select-all",
      "aria-label": "Select all shown runs",
    });
    this.header = h("div", { class: "kfp-thead", role: "row" });
    this.spacer = h("div", { class: "kfp-spacer", role: "rowgroup" });
    this.empty = h("div", { class: "kfp-empty", role: "note" });
    this.scroll = h(
      "div",
      {
        class: "kfp-scroll",
        "data-testid": "table-scroll",
        role: "grid",
        tabindex: -1,
      },
      this.header,
      this.spacer,
      this.empty,
    );
    this.scroll.addEventListener("scroll", this.onScroll, { passive: true });
  }

  /** Store indices of the rows currently drawn, first to last. */
  drawnRange(): [number, number] {
    return this.range;
  }

  /** Redraw with new data (sync), rebuilding cells only when columns change. */
  update(data: BodyData, emptyText: string): void {
    this.data = data;
    const key = data.columns.map((c) => `${c.key}:${c.kind}:${c.width}`).join("|");
    if (key !== this.columnsKey) {
      this.columnsKey = key;
      this.rebuildColumns(data.columns);
    }
    this.drawHeader(data);
    this.spacer.style.height = `${spacerHeight(data.order.length, ROW_HEIGHT)}px`;
    this.empty.textContent = data.order.length ? "" : emptyText;
    this.empty.hidden = data.order.length > 0;
    this.drawRows(true);
  }

  /** Scroll so `index` (position in the display order) is visible. */
  reveal(index: number): void {
    const top = index * ROW_HEIGHT;
    const view = this.viewport() - ROW_HEIGHT - this.header.offsetHeight;
    if (top < this.scroll.scrollTop) this.scroll.scrollTop = top;
    else if (top > this.scroll.scrollTop + view) this.scroll.scrollTop = top - view;
    this.drawRows(false);
  }

  rowElement(runId: string): HTMLElement | undefined {
    return this.pool.find((r) => r.key.startsWith(`${runId}\u0000`))?.el;
  }

  dispose(): void {
    this.scroll.removeEventListener("scroll", this.onScroll);
    if (this.frame) cancelFrame(this.frame);
    this.frame = 0;
  }

  private onScroll = (): void => {
    if (this.frame) return;
    this.frame = requestFrame(() => {
      this.frame = 0;
      this.drawRows(false);
    });
  };

  private viewport(): number {
    return this.scroll.clientHeight || FALLBACK_VIEWPORT;
  }

  private rebuildColumns(columns: ColumnDef[]): void {
    const grid = gridTemplate(columns);
    const width = `${totalWidth(columns)}px`;
    this.scroll.style.setProperty("--kfp-grid", grid);
    this.scroll.style.setProperty("--kfp-width", width);
    for (const row of this.pool) row.el.remove();
    this.pool = [];
    this.range = [0, 0];
  }

  private drawHeader(data: BodyData): void {
    const cells: HTMLElement[] = [
      h(
        "div",
        { class: "kfp-th kfp-cell-select", role: "columnheader" },
        this.selectAll,
      ),
    ];
    for (const col of data.columns) {
      const active = data.sort.key === col.key;
      const arrow = active ? (data.sort.desc ? " ▼" : " ▲") : "";
      cells.push(
        h(
          "div",
          {
            class: `kfp-th${active ? " kfp-sorted" : ""}`,
            role: "columnheader",
            "aria-sort": active
              ? data.sort.desc
                ? "descending"
                : "ascending"
              : "none",
          },
          h(
            "button",
            {
              type: "button",
              class: "kfp-th-button",
              "data-testid": `col-${col.key}`,
              "data-key": col.key,
              title: `Sort by ${isolated(col.label)}`,
            },
            col.label,
            h("span", { class: "kfp-sort-arrow", "aria-hidden": "true" }, arrow),
          ),
        ),
      );
    }
    // Rebuilding the header must not drop keyboard focus from the sort button.
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.key;
    const hadFocus =
      focused !== undefined && this.header.contains(document.activeElement);
    this.header.replaceChildren(...cells);
    if (!hadFocus) return;
    for (const b of this.header.querySelectorAll<HTMLElement>("[data-key]")) {
      if (b.dataset.key === focused) b.focus();
    }
  }

  private drawRows(force: boolean): void {
    const data = this.data;
    if (!data) return;
    const viewport = Math.max(0, this.viewport() - this.header.offsetHeight);
    const range = visibleRange({
      scrollTop: this.scroll.scrollTop,
      viewportHeight: viewport,
      rowHeight: ROW_HEIGHT,
      rowCount: data.order.length,
      overscan: OVERSCAN,
    });
    if (!force && range[0] === this.range[0] && range[1] === this.range[1]) return;
    this.range = range;
    const [start, end] = range;
    this.resizePool(end - start, data.columns);
    for (let i = start; i < end; i++) this.fill(this.pool[i - start], i, data);
  }

  private resizePool(size: number, columns: ColumnDef[]): void {
    while (this.pool.length < size) {
      const row = makeRow(columns);
      this.spacer.appendChild(row.el);
      this.pool.push(row);
    }
    while (this.pool.length > size) this.pool.pop()?.el.remove();
  }

  private fill(row: RowEl, index: number, data: BodyData): void {
    const r = data.order[index];
    const id = data.store.idAt(r);
    const selected = data.selected.has(id);
    const outcome = data.outcomes.get(id);
    row.el.style.transform = `translateY(${index * ROW_HEIGHT}px)`;
    row.el.dataset.index = String(index);
    row.el.setAttribute("aria-rowindex", String(index + 2));
    const key = `${id}\u0000${data.store.version}\u0000${data.timeZone}`;
    if (row.key !== key) {
      row.key = key;
      row.el.dataset.runId = id;
      data.columns.forEach((col, c) => fillCell(row.cells[c], col, r, data));
      row.box.setAttribute(
        "aria-label",
        `Select run ${isolated(data.store.text("display_name", r) ?? id)}`,
      );
    }
    row.box.checked = selected;
    row.el.classList.toggle("kfp-selected", selected);
    row.el.setAttribute("aria-selected", String(selected));
    drawOutcome(row, outcome);
  }
}

function makeRow(columns: ColumnDef[]): RowEl {
  const box = h("input", {
    type: "checkbox",
    "data-testid": "row-select",
    tabindex: -1,
  });
  const marker = h("span", { class: "kfp-outcome", "data-testid": "row-outcome" });
  const cells = columns.map((col) => makeCell(col));
  const el = h(
    "div",
    { class: "kfp-row", role: "row", "data-testid": "run-row", tabindex: 0 },
    h("div", { class: "kfp-td kfp-cell-select", role: "gridcell" }, box, marker),
    ...cells,
  );
  return { el, box, marker, cells, key: "" };
}

function makeCell(col: ColumnDef): HTMLElement {
  const cell = h("div", { class: `kfp-td kfp-kind-${col.kind}`, role: "gridcell" });
  if (isNameColumn(col.key)) {
    cell.appendChild(
      h("a", { href: "#", class: "kfp-link", "data-testid": "run-link" }),
    );
  } else if (col.kind === "state") {
    cell.appendChild(stateBadge(null));
  }
  return cell;
}

function fillCell(cell: HTMLElement, col: ColumnDef, r: number, data: BodyData): void {
  const { store } = data;
  if (col.kind === "state") {
    const state = store.text(col.key, r);
    setBadge(cell.firstChild as HTMLElement, state);
    // A failed run's error is one hover away, as text.
    cell.title = store.text("error", r) ?? state ?? "";
    return;
  }
  const text = cellText(col, r, data);
  const target = isNameColumn(col.key) ? (cell.firstChild as HTMLElement) : cell;
  target.textContent = text;
  cell.title = text;
}

function cellText(col: ColumnDef, r: number, data: BodyData): string {
  const { store } = data;
  const v = store.get(col.key, r);
  if (isNameColumn(col.key)) return String(v ?? store.idAt(r));
  if (col.kind === "time")
    return typeof v === "number" ? formatTime(v, data.timeZone) : "";
  if (col.kind === "duration") return durationText(v, r, data);
  if (v === null) return "";
  if (typeof v === "number")
    return Number.isInteger(v) ? String(v) : String(+v.toPrecision(6));
  return String(v);
}

/** A running run has no duration yet: show the time since it was created. */
function durationText(v: unknown, r: number, data: BodyData): string {
  if (typeof v === "number") return formatDuration(v);
  const created = data.store.get("created_at", r);
  const finished = data.store.get("finished_at", r);
  if (typeof created !== "number" || finished !== null) return "";
  return `${formatDuration(Math.max(0, data.now - created))}…`;
}

function drawOutcome(row: RowEl, outcome: Outcome | undefined): void {
  const status = outcome?.status ?? "";
  if (row.el.dataset.outcome === status && row.marker.title === (outcome?.error ?? ""))
    return;
  row.el.dataset.outcome = status;
  row.marker.className = `kfp-outcome${status ? ` kfp-outcome-${status}` : ""}`;
  row.marker.textContent =
    status === "pending" ? "…" : status === "ok" ? "✔" : status ? "✖" : "";
  row.marker.title = outcome?.error ?? (status === "ok" ? "done" : status);
}

function requestFrame(fn: () => void): number {
  if (typeof requestAnimationFrame === "function") return requestAnimationFrame(fn);
  return setTimeout(fn, 16) as unknown as number;
}

function cancelFrame(id: number): void {
  if (typeof cancelAnimationFrame === "function") cancelAnimationFrame(id);
  else clearTimeout(id);
}
