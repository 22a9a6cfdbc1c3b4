import { afterEach, describe, expect, it } from "vitest";
import {
  auc,
  CURVE_COLOURS,
  GEOMETRY,
  MAX_CURVES,
  nearestPoint,
  readCurves,
  toPlot,
} from "../src/viewers/roc";
import { cleanupAll, q, qa, show, spec } from "./viewers_fake";

afterEach(cleanupAll);

const points = [
  { fpr: 0, tpr: 0, threshold: 1 },
  { fpr: 0.1, tpr: 0.6, threshold: 0.8 },
  { fpr: 0.3, tpr: 0.85, threshold: 0.5 },
  { fpr: 1, tpr: 1, threshold: 0 },
];

const curve = (label: string, pts = points) => ({ label, points: pts });

function coords(line: Element): [number, number][] {
  return (line.getAttribute("points") ?? "")
    .split(" ")
    .map((pair) => pair.split(",").map(Number) as [number, number]);
}

const plot = {
  left: GEOMETRY.left,
  right: GEOMETRY.width - GEOMETRY.right,
  top: GEOMETRY.top,
  bottom: GEOMETRY.height - GEOMETRY.bottom,
};

describe("ROC viewer", () => {
  it("draws the curve inside the plot, the diagonal and 0–1 ticks", () => {
    const { el } = show(spec("roc", { curves: [curve("model")] }));
    const lines = qa(el, "roc-curve");
    expect(lines).toHaveLength(1);
    const xy = coords(lines[0]);
    expect(xy).toHaveLength(4);
    for (const [x, y] of xy) {
      expect(x).toBeGreaterThanOrEqual(plot.left);
      expect(x).toBeLessThanOrEqual(plot.right);
      expect(y).toBeGreaterThanOrEqual(plot.top);
      expect(y).toBeLessThanOrEqual(plot.bottom);
    }
    // (0,0) is bottom-left and (1,1) top-right
    expect(xy[0]).toEqual([plot.left, plot.bottom]);
    expect(xy[3]).toEqual([plot.right, plot.top]);
    const diag = q(el, "roc-diagonal")!;
    expect(Number(diag.getAttribute("x1"))).toBe(plot.left);
    expect(Number(diag.getAttribute("y1"))).toBe(plot.bottom);
    expect(Number(diag.getAttribute("x2"))).toBe(plot.right);
    expect(Number(diag.getAttribute("y2"))).toBe(plot.top);
    const ticks = qa(el, "roc-xtick").map((t) => t.textContent);
    expect(ticks).toEqual(["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
    expect(qa(el, "roc-ytick")).toHaveLength(6);
    expect(el.textContent).toContain("False positive rate");
    expect(el.textContent).toContain("True positive rate");
    expect(q(el, "roc-legend")).toBeNull();
    expect(auc(points)).toBeCloseTo(0.8225, 10);
    expect(q(el, "roc-auc")?.textContent).toBe("AUC 0.8225");
  });

  it("overlays several curves in distinct colours with a legend", () => {
    const labels = ["run <a>", "run b", "run c"];
    const { el } = show(spec("roc", { curves: labels.map((l) => curve(l)) }));
    const lines = qa(el, "roc-curve");
    expect(lines).toHaveLength(3);
    const colours = new Set(lines.map((l) => l.getAttribute("stroke")));
    expect(colours.size).toBe(3);
    const items = qa(el, "roc-legend-item").map((i) => i.textContent);
    expect(items).toHaveLength(3);
    expect(items[0]).toContain("run <a>");
    expect(items[0]).toContain("AUC");
    expect(el.querySelector("a")).toBeNull();
  });

  it("draws at most ten curves, each colour different, and says how many were left out", () => {
    expect(new Set(CURVE_COLOURS).size).toBe(MAX_CURVES);
    const curves = Array.from({ length: 12 }, (_, i) => curve(`c${i}`));
    const { el } = show(spec("roc", { curves }));
    const lines = qa(el, "roc-curve");
    expect(lines).toHaveLength(MAX_CURVES);
    expect(new Set(lines.map((l) => l.getAttribute("stroke"))).size).toBe(MAX_CURVES);
    expect(el.textContent).toContain("Showing 10 of 12 curves");
  });

  it("shows the nearest point's threshold on hover and hides it on leave", () => {
    const { el } = show(spec("roc", { curves: [curve("model")] }));
    const svg = q(el, "roc-svg")!;
    // The SVG is drawn at twice its viewBox size, 100 px from the page's corner.
    svg.getBoundingClientRect = () =>
      ({
        left: 100,
        top: 100,
        width: GEOMETRY.width * 2,
        height: GEOMETRY.height * 2,
      }) as DOMRect;
    const at = toPlot(0.3, 0.85);
    svg.dispatchEvent(
      new MouseEvent("mousemove", {
        clientX: 100 + at.x * 2 + 3,
        clientY: 100 + at.y * 2 - 2,
      }),
    );
    const tip = q(el, "roc-tooltip")!;
    expect(tip.hidden).toBe(false);
    expect(tip.textContent).toContain("Threshold 0.5");
    expect(tip.textContent).toContain("FPR 0.3, TPR 0.85");
    const marker = svg.querySelector(".kfp-roc-marker")!;
    expect(Number(marker.getAttribute("cx"))).toBeCloseTo(at.x, 1);
    expect(marker.getAttribute("visibility")).toBe("visible");
    svg.dispatchEvent(new MouseEvent("mouseleave"));
    expect(tip.hidden).toBe(true);
  });

  it("names the curve in the tooltip when several are drawn", () => {
    const other = points.map((p) => ({ ...p, tpr: p.tpr / 2, threshold: 0.25 }));
    const curves = readCurves(spec("roc", { curves: [curve("a"), curve("b", other)] }));
    const at = toPlot(0.3, 0.425);
    const hit = nearestPoint(curves, at.x, at.y)!;
    expect(hit.curve).toBe(1);
    expect(hit.point.threshold).toBe(0.25);
    const { el } = show(spec("roc", { curves: [curve("a"), curve("b", other)] }));
    const svg = q(el, "roc-svg")!;
    svg.dispatchEvent(new MouseEvent("mousemove", { clientX: at.x, clientY: at.y }));
    expect(q(el, "roc-tooltip")?.textContent).toContain("b");
    expect(q(el, "roc-tooltip")?.textContent).toContain("Threshold 0.25");
  });

  it("sorts points by FPR and skips points outside [0, 1]", () => {
    const messy = [
      { fpr: 1, tpr: 1, threshold: 0 },
      { fpr: 0, tpr: 0, threshold: 1 },
      { fpr: 1.5, tpr: 0.5 },
      { fpr: "0.2", tpr: 0.5 },
      null,
    ];
    const { el } = show(spec("roc", { curves: [curve("m", messy as never)] }));
    const xy = coords(q(el, "roc-curve")!);
    expect(xy.map(([x]) => x)).toEqual([plot.left, plot.right]);
    expect(el.textContent).toContain(
      "3 points outside [0, 1] or not numeric were skipped",
    );
  });

  it("says so when there is no curve or a curve has no points", () => {
    expect(show(spec("roc", { curves: [] })).el.textContent).toContain("No ROC curve");
    const { el } = show(spec("roc", { curves: [curve("empty", [])] }));
    expect(el.textContent).toContain("Curve empty has no points");
    expect(q(el, "roc-diagonal")).not.toBeNull();
  });

  it("shows a message instead of throwing on malformed specs", () => {
    for (const curves of [undefined, {}, [{ label: "x" }], [{ points: "x" }]]) {
      const { el } = show(spec("roc", { curves }));
      expect(q(el, "viewer-roc")).not.toBeNull();
      expect(q(el, "viewer-invalid")?.textContent).toContain(
        "Cannot show this roc artifact",
      );
    }
  });

  it("thins very long curves for drawing but hovers over every point", () => {
    const n = 50_000;
    const long = Array.from({ length: n }, (_, i) => ({
      fpr: i / (n - 1),
      tpr: Math.sqrt(i / (n - 1)),
      threshold: 1 - i / (n - 1),
    }));
    const { el } = show(spec("roc", { curves: [curve("big", long)] }));
    const xy = coords(q(el, "roc-curve")!);
    expect(xy.length).toBeLessThanOrEqual(4001);
    expect(xy[xy.length - 1]).toEqual([plot.right, plot.top]);
    const hit = nearestPoint(
      readCurves(spec("roc", { curves: [curve("big", long)] })),
      ...xyOf(0.5),
    );
    expect(hit?.point.fpr).toBeCloseTo(0.5, 3);
  });
});

function xyOf(fpr: number): [number, number] {
  const at = toPlot(fpr, Math.sqrt(fpr));
  return [at.x, at.y];
}
