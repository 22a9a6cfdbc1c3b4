// ROC curves in SVG: false positive rate across, true positive rate up, the chance
// diagonal, one line per curve (a legend when several are overlaid to compare runs)
// and the nearest point's threshold on hover.
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

const SVG = "http://www.w3.org/2000/svg";

/** Plot geometry in SVG user units (the viewBox); the plot square is inside. */
export const GEOMETRY = {
  width: 420,
  height: 360,
  left: 52,
  right: 16,
  top: 14,
  bottom: 46,
};

/** Curves drawn at most, each in its own colour. */
export const MAX_CURVES = 10;

/** Points per drawn line; longer curves are thinned for drawing (hover uses all). */
export const MAX_DRAWN_POINTS = 4000;

// Ten colours that stay apart from each other on light and dark backgrounds.
export const CURVE_COLOURS = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
];

export interface RocPoint {
  fpr: number;
  tpr: number;
  threshold: unknown;
}

export interface Curve {
  label: string;
  points: RocPoint[];
  skipped: number;
}

/** Read the curves; points outside [0, 1] or not numeric are skipped and counted. */
export function readCurves(spec: Json): Curve[] {
  return needArray(spec, "curves").map((raw, i) => {
    const c = obj(raw);
    if (!Array.isArray(c.points))
      throw new SpecError(`curve ${i + 1} has no "points" list`);
    const points: RocPoint[] = [];
    let skipped = 0;
    for (const p of c.points) {
      const point = readPoint(p);
      if (point) points.push(point);
      else skipped += 1;
    }
    points.sort((a, b) => a.fpr - b.fpr || a.tpr - b.tpr);
    const label = typeof c.label === "string" && c.label ? c.label : `curve ${i + 1}`;
    return { label, points, skipped };
  });
}

function readPoint(raw: unknown): RocPoint | null {
  const p = obj(raw);
  const { fpr, tpr } = p;
  const ok = (v: unknown): v is number =>
    typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= 1;
  return ok(fpr) && ok(tpr) ? { fpr, tpr, threshold: p.threshold } : null;
}

/** Area under the curve by the trapezoid rule over the points as given. */
export function auc(points: RocPoint[]): number {
  let area = 0;
  for (let i = 1; i < points.length; i += 1) {
    const a = points[i - 1];
    const b = points[i];
    area += ((b.fpr - a.fpr) * (a.tpr + b.tpr)) / 2;
  }
  return area;
}

/** Plot coordinates (SVG units) of a rate pair. */
export function toPlot(fpr: number, tpr: number): { x: number; y: number } {
  const g = GEOMETRY;
  const w = g.width - g.left - g.right;
  const ht = g.height - g.top - g.bottom;
  return { x: g.left + fpr * w, y: g.top + (1 - tpr) * ht };
}

/** The point nearest to (x, y) in plot units over every curve, or null. */
export function nearestPoint(
  curves: Curve[],
  x: number,
  y: number,
): { curve: number; point: RocPoint } | null {
  let best: { curve: number; point: RocPoint } | null = null;
  let bestD = Infinity;
  curves.forEach((c, ci) => {
    for (const point of c.points) {
      const at = toPlot(point.fpr, point.tpr);
      const d = (at.x - x) ** 2 + (at.y - y) ** 2;
      if (d < bestD) {
        bestD = d;
        best = { curve: ci, point };
      }
    }
  });
  return best;
}

export function renderRoc(spec: Json): Drawn {
  const all = readCurves(spec);
  const curves = all.slice(0, MAX_CURVES);
  const svg = svgEl("svg", {
    viewBox: `0 0 ${GEOMETRY.width} ${GEOMETRY.height}`,
    class: "kfp-roc-svg",
    role: "img",
    "aria-label": "ROC curve: true positive rate against false positive rate",
    "data-testid": "roc-svg",
  });
  svg.append(axes(), diagonal());
  curves.forEach((c, i) => svg.append(line(c, i)));
  const marker = svgEl("circle", {
    r: 4,
    class: "kfp-roc-marker",
    visibility: "hidden",
  });
  svg.append(marker);
  const tooltip = h("div", {
    class: "kfp-roc-tooltip",
    "data-testid": "roc-tooltip",
    hidden: true,
  });
  const plot = h("div", { class: "kfp-roc-plot" }, svg, tooltip);
  const off = hover(svg, curves, { marker, tooltip });
  const el = viewerRoot("roc", plot);
  if (curves.length > 1) el.append(legend(curves));
  else if (curves.length === 1)
    el.append(notice(`AUC ${formatNumber(auc(curves[0].points))}`, "roc-auc"));
  for (const text of notes(all)) el.append(notice(text));
  return { el, cleanup: off };
}

function notes(all: Curve[]): string[] {
  const out: string[] = [];
  if (!all.length) out.push("No ROC curve in this artifact.");
  if (all.length > MAX_CURVES) {
    out.push(
      `Showing ${MAX_CURVES} of ${all.length} curves (cap: ${MAX_CURVES} curves).`,
    );
  }
  const skipped = all.reduce((n, c) => n + c.skipped, 0);
  if (skipped)
    out.push(
      `${formatInt(skipped)} points outside [0, 1] or not numeric were skipped.`,
    );
  for (const c of all)
    if (!c.points.length) out.push(`Curve ${c.label} has no points.`);
  return out;
}

function svgEl(tag: string, attrs: Record<string, string | number>): SVGElement {
  const el = document.createElementNS(SVG, tag) as SVGElement;
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

function svgText(text: string, attrs: Record<string, string | number>): SVGElement {
  const el = svgEl("text", attrs);
  el.textContent = text;
  return el;
}

function axes(): SVGElement {
  const g = svgEl("g", { class: "kfp-roc-axes", "data-testid": "roc-axes" });
  const origin = toPlot(0, 0);
  const corner = toPlot(1, 1);
  const frame = {
    x: origin.x,
    y: corner.y,
    width: corner.x - origin.x,
    height: origin.y - corner.y,
  };
  g.append(svgEl("rect", { ...frame, class: "kfp-roc-frame" }));
  for (let i = 0; i <= 5; i += 1) {
    const v = i / 5;
    const label = v.toFixed(1);
    const x = toPlot(v, 0).x;
    const y = toPlot(0, v).y;
    g.append(
      svgEl("line", {
        x1: x,
        x2: x,
        y1: corner.y,
        y2: origin.y,
        class: "kfp-roc-grid",
      }),
    );
    g.append(
      svgEl("line", {
        x1: origin.x,
        x2: corner.x,
        y1: y,
        y2: y,
        class: "kfp-roc-grid",
      }),
    );
    g.append(
      svgText(label, {
        x,
        y: origin.y + 16,
        "text-anchor": "middle",
        "data-testid": "roc-xtick",
      }),
    );
    g.append(
      svgText(label, {
        x: origin.x - 6,
        y: y + 4,
        "text-anchor": "end",
        "data-testid": "roc-ytick",
      }),
    );
  }
  const midX = (origin.x + corner.x) / 2;
  const midY = (origin.y + corner.y) / 2;
  g.append(
    svgText("False positive rate", {
      x: midX,
      y: origin.y + 36,
      "text-anchor": "middle",
    }),
  );
  g.append(
    svgText("True positive rate", {
      x: 14,
      y: midY,
      "text-anchor": "middle",
      transform: `rotate(-90 14 ${midY})`,
    }),
  );
  return g;
}

function diagonal(): SVGElement {
  const a = toPlot(0, 0);
  const b = toPlot(1, 1);
  return svgEl("line", {
    x1: a.x,
    y1: a.y,
    x2: b.x,
    y2: b.y,
    class: "kfp-roc-diagonal",
    "data-testid": "roc-diagonal",
  });
}

function line(c: Curve, i: number): SVGElement {
  const step = Math.ceil(c.points.length / MAX_DRAWN_POINTS);
  const drawn = c.points.filter((_, k) => k % step === 0 || k === c.points.length - 1);
  const coords = drawn.map((p) => {
    const at = toPlot(p.fpr, p.tpr);
    return `${at.x.toFixed(2)},${at.y.toFixed(2)}`;
  });
  const el = svgEl("polyline", {
    points: coords.join(" "),
    class: "kfp-roc-curve",
    stroke: CURVE_COLOURS[i % CURVE_COLOURS.length],
    "data-testid": "roc-curve",
    "data-label": c.label,
  });
  const title = svgEl("title", {});
  title.textContent = c.label;
  el.append(title);
  return el;
}

function legend(curves: Curve[]): HTMLElement {
  const list = h("ul", { class: "kfp-roc-legend", "data-testid": "roc-legend" });
  curves.forEach((c, i) => {
    const swatch = h("span", { class: "kfp-roc-swatch", "aria-hidden": "true" });
    swatch.style.background = CURVE_COLOURS[i % CURVE_COLOURS.length];
    const area = c.points.length ? ` (AUC ${formatNumber(auc(c.points))})` : "";
    list.append(
      h("li", { "data-testid": "roc-legend-item" }, swatch, `${c.label}${area}`),
    );
  });
  return list;
}

interface HoverParts {
  marker: SVGElement;
  tooltip: HTMLElement;
}

// Mouse position → SVG units through the element's box (the viewBox scales
// uniformly); the nearest point of any curve gets a marker and a tooltip.
function hover(svg: SVGElement, curves: Curve[], parts: HoverParts): () => void {
  const move = (e: MouseEvent): void => {
    const box = svg.getBoundingClientRect();
    const scale = box.width > 0 ? GEOMETRY.width / box.width : 1;
    const x = (e.clientX - box.left) * scale;
    const y = (e.clientY - box.top) * scale;
    const hit = nearestPoint(curves, x, y);
    if (!hit) return leave();
    show(hit, curves, parts);
  };
  const leave = (): void => {
    parts.marker.setAttribute("visibility", "hidden");
    parts.tooltip.hidden = true;
  };
  svg.addEventListener("mousemove", move);
  svg.addEventListener("mouseleave", leave);
  return () => {
    svg.removeEventListener("mousemove", move);
    svg.removeEventListener("mouseleave", leave);
  };
}

function show(
  hit: { curve: number; point: RocPoint },
  curves: Curve[],
  parts: HoverParts,
): void {
  const at = toPlot(hit.point.fpr, hit.point.tpr);
  parts.marker.setAttribute("cx", at.x.toFixed(2));
  parts.marker.setAttribute("cy", at.y.toFixed(2));
  parts.marker.setAttribute("fill", CURVE_COLOURS[hit.curve % CURVE_COLOURS.length]);
  parts.marker.setAttribute("visibility", "visible");
  const lines = [
    curves.length > 1 ? curves[hit.curve].label : "",
    `Threshold ${threshold(hit.point.threshold)}`,
    `FPR ${formatNumber(hit.point.fpr)}, TPR ${formatNumber(hit.point.tpr)}`,
  ].filter(Boolean);
  parts.tooltip.replaceChildren(...lines.map((t) => h("div", null, t)));
  // Position in percent of the plot so it follows the SVG's scaling.
  parts.tooltip.style.left = `${((100 * at.x) / GEOMETRY.width).toFixed(2)}%`;
  parts.tooltip.style.top = `${((100 * at.y) / GEOMETRY.height).toFixed(2)}%`;
  parts.tooltip.hidden = false;
}

function threshold(v: unknown): string {
  if (typeof v === "number") return formatNumber(v);
  if (typeof v === "string" && v) return v;
  return "—";
}
