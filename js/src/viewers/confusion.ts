// Confusion matrix: a heat map table, true labels down the rows, predicted labels
// across the columns, counts in the cells. The shape is checked again here so a
// spec that slipped past the kernel shows a message, not a skewed grid.
import { h, isolated } from "../lib/dom";
import {
  formatInt,
  formatNumber,
  needArray,
  SpecError,
  viewerRoot,
  type Drawn,
  type Json,
} from "./common";

/** Classes drawn at most; a bigger matrix is a message (the DataFrame still has it). */
export const MAX_CLASSES = 100;

export interface Matrix {
  labels: string[];
  counts: number[][];
  max: number;
}

/** Validate `labels` and `matrix`: square, a row and column per label, counts ≥ 0. */
export function readMatrix(spec: Json): Matrix {
  const labels = needArray(spec, "labels").map((l, i) => label(l, i));
  const rows = needArray(spec, "matrix");
  const n = labels.length;
  if (!n) throw new SpecError("there are no labels");
  if (n > MAX_CLASSES) {
    throw new SpecError(
      `${formatInt(n)} classes is more than can be drawn (cap: ${MAX_CLASSES})`,
    );
  }
  if (rows.length !== n) {
    throw new SpecError(`${n} labels but ${rows.length} matrix rows`);
  }
  let max = 0;
  const counts = rows.map((row, r) => {
    if (!Array.isArray(row) || row.length !== n) {
      const got = Array.isArray(row) ? `${row.length} cells` : "not a list";
      throw new SpecError(`row ${r + 1} (${labels[r]}) has ${got}, expected ${n}`);
    }
    return row.map((v, c) => {
      if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
        throw new SpecError(`cell [${labels[r]}, ${labels[c]}] is not a count ≥ 0`);
      }
      max = Math.max(max, v);
      return v;
    });
  });
  return { labels, counts, max };
}

function label(v: unknown, i: number): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  throw new SpecError(`label ${i + 1} is not text`);
}

export function renderConfusion(spec: Json): Drawn {
  const m = readMatrix(spec);
  const table = h("table", { class: "kfp-cm", "data-testid": "cm-table" });
  table.append(headRows(m.labels), bodyRows(m));
  const off = hover(table);
  const wrap = h("div", { class: "kfp-cm-wrap" }, table);
  const el = viewerRoot("confusion_matrix", wrap, legend(m.max));
  return { el, cleanup: off };
}

function headRows(labels: string[]): HTMLElement {
  const axis = h(
    "th",
    {
      colspan: labels.length,
      scope: "colgroup",
      class: "kfp-cm-axis",
      "data-testid": "cm-x-axis",
    },
    "Predicted label",
  );
  const corner = h("th", { colspan: 2, rowspan: 2, class: "kfp-cm-corner" });
  const names = labels.map((name, c) =>
    h("th", { scope: "col", class: "kfp-cm-label", "data-col": c, title: name }, name),
  );
  return h("thead", null, h("tr", null, corner, axis), h("tr", null, ...names));
}

function bodyRows(m: Matrix): HTMLElement {
  const body = h("tbody");
  m.counts.forEach((row, r) => {
    const tr = h("tr");
    if (r === 0) {
      const axis = h(
        "th",
        { rowspan: m.labels.length, scope: "rowgroup", class: "kfp-cm-axis kfp-cm-y" },
        h("span", { "data-testid": "cm-y-axis" }, "True label"),
      );
      tr.append(axis);
    }
    const name = m.labels[r];
    tr.append(
      h(
        "th",
        { scope: "row", class: "kfp-cm-label", "data-row": r, title: name },
        name,
      ),
    );
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((v, c) => tr.append(cell(m, { r, c, v, total })));
    body.append(tr);
  });
  return body;
}

function cell(
  m: Matrix,
  at: { r: number; c: number; v: number; total: number },
): HTMLElement {
  const level = m.max > 0 ? at.v / m.max : 0;
  const percent = at.total > 0 ? formatNumber((100 * at.v) / at.total) : "";
  // Labels are isolated: an override inside one cannot reverse the words after it.
  const truth = isolated(m.labels[at.r]);
  const share = percent ? ` (${percent}% of true ${truth})` : "";
  const td = h(
    "td",
    {
      class: level > 0.55 ? "kfp-cm-cell kfp-cm-strong" : "kfp-cm-cell",
      "data-testid": "cm-cell",
      "data-row": at.r,
      "data-col": at.c,
      "data-level": level.toFixed(3),
      title: `True ${truth}, predicted ${isolated(m.labels[at.c])}: ${at.v}${share}`,
    },
    formatNumber(at.v),
  );
  td.style.setProperty("--kfp-cm-level", `${Math.round(level * 100)}%`);
  return td;
}

// Hovering a cell lights its row and column (and their labels) so a count can be
// read against both axes; leaving the table clears it.
function hover(table: HTMLElement): () => void {
  const lit: Element[] = [];
  const clear = (): void => {
    for (const el of lit.splice(0)) el.classList.remove("kfp-cm-lit", "kfp-cm-focus");
  };
  const over = (e: Event): void => {
    const target = (e.target as Element | null)?.closest?.("[data-row],[data-col]");
    if (!(target instanceof HTMLElement) || !table.contains(target)) return;
    clear();
    const { row, col } = target.dataset;
    const selectors = [];
    if (row !== undefined) selectors.push(`[data-row="${row}"]`);
    if (col !== undefined) selectors.push(`[data-col="${col}"]`);
    for (const el of Array.from(table.querySelectorAll(selectors.join(",")))) {
      el.classList.add("kfp-cm-lit");
      lit.push(el);
    }
    if (target.dataset.testid === "cm-cell") target.classList.add("kfp-cm-focus");
  };
  table.addEventListener("mouseover", over);
  table.addEventListener("mouseleave", clear);
  return () => {
    table.removeEventListener("mouseover", over);
    table.removeEventListener("mouseleave", clear);
  };
}

function legend(max: number): HTMLElement {
  return h(
    "div",
    { class: "kfp-cm-legend", "data-testid": "cm-legend" },
    h("span", null, "0"),
    h("span", { class: "kfp-cm-scale", "aria-hidden": "true" }),
    h("span", null, formatNumber(max)),
  );
}
