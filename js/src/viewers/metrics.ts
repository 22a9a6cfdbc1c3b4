// Scalar metrics: one name/value table per output (`groups`), numbers shortened to 6
// significant digits with the full value in the cell's title.
import { h } from "../lib/dom";
import {
  formatInt,
  formatNumber,
  needArray,
  notice,
  obj,
  SpecError,
  viewerRoot,
  type Drawn,
  type Json,
} from "./common";

/** Rows drawn per group; the rest are counted in a notice. */
export const MAX_METRIC_ROWS = 2000;

export function renderMetrics(spec: Json): Drawn {
  const groups = needArray(spec, "groups");
  const root = viewerRoot("metrics");
  let skipped = 0;
  for (const [i, raw] of groups.entries()) {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      throw new SpecError(`group ${i + 1} is not an object`);
    }
    const drawn = group(obj(raw));
    skipped += drawn.skipped;
    root.append(drawn.el);
  }
  if (!groups.length) root.append(notice("No metrics in this artifact."));
  if (skipped)
    root.append(notice(`${formatInt(skipped)} malformed metric rows skipped.`));
  return { el: root };
}

function group(g: Json): { el: HTMLElement; skipped: number } {
  const rows = Array.isArray(g.rows) ? g.rows : null;
  if (!rows) throw new SpecError(`group "${String(g.title ?? "")}" has no "rows" list`);
  const body = h("tbody");
  let skipped = 0;
  for (const row of rows.slice(0, MAX_METRIC_ROWS)) {
    if (!Array.isArray(row) || row.length < 2) {
      skipped += 1;
      continue;
    }
    body.append(metricRow(row[0], row[1]));
  }
  const el = h(
    "section",
    { class: "kfp-metrics-group", "data-testid": "metrics-group" },
    typeof g.title === "string" && g.title
      ? h("h4", { class: "kfp-viewer-h" }, g.title)
      : null,
  );
  if (body.childElementCount) {
    const head = h(
      "tr",
      null,
      h("th", { scope: "col" }, "Name"),
      h("th", { scope: "col" }, "Value"),
    );
    el.append(
      h(
        "table",
        { class: "kfp-viewer-table kfp-metrics" },
        h("thead", null, head),
        body,
      ),
    );
  } else {
    el.append(notice("No metrics in this output."));
  }
  if (rows.length > MAX_METRIC_ROWS) {
    const more = rows.length - MAX_METRIC_ROWS;
    el.append(
      notice(
        `${formatInt(more)} more metrics not shown (cap: ${MAX_METRIC_ROWS} rows).`,
      ),
    );
  }
  return { el, skipped };
}

function metricRow(name: unknown, value: unknown): HTMLElement {
  const cell = h("td", { class: "kfp-metric-value", "data-testid": "metric-value" });
  if (typeof value === "number") {
    cell.textContent = formatNumber(value);
    cell.title = String(value);
    cell.classList.add("kfp-num");
  } else {
    cell.textContent = showText(value);
  }
  return h(
    "tr",
    null,
    h("th", { scope: "row", class: "kfp-metric-name" }, showText(name)),
    cell,
  );
}

function showText(v: unknown): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return String(v);
  try {
    return JSON.stringify(v) ?? "—";
  } catch {
    return "—";
  }
}
