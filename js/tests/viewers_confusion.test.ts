import { afterEach, describe, expect, it } from "vitest";
import { MAX_CLASSES } from "../src/viewers/confusion";
import { cleanupAll, q, qa, show, spec } from "./viewers_fake";

afterEach(cleanupAll);

const good = () =>
  spec("confusion_matrix", {
    labels: ["cat", "dog", "<b>bird</b>"],
    matrix: [
      [50, 2, 0],
      [3, 40, 7],
      [0, 1, 30],
    ],
  });

function hover(target: Element): void {
  target.dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
}

describe("confusion matrix viewer", () => {
  it("draws one cell per count with labelled axes", () => {
    const { el } = show(good());
    const cells = qa(el, "cm-cell");
    expect(cells).toHaveLength(9);
    expect(cells.map((c) => c.textContent)).toEqual([
      "50",
      "2",
      "0",
      "3",
      "40",
      "7",
      "0",
      "1",
      "30",
    ]);
    expect(q(el, "cm-y-axis")?.textContent).toBe("True label");
    expect(q(el, "cm-x-axis")?.textContent).toBe("Predicted label");
    const colLabels = Array.from(el.querySelectorAll("thead th.kfp-cm-label")).map(
      (t) => t.textContent,
    );
    expect(colLabels).toEqual(["cat", "dog", "<b>bird</b>"]);
    const rowLabels = Array.from(el.querySelectorAll("tbody th.kfp-cm-label")).map(
      (t) => t.textContent,
    );
    expect(rowLabels).toEqual(["cat", "dog", "<b>bird</b>"]);
    expect(el.querySelector("b")).toBeNull();
  });

  it("scales the colour with the count and says what each cell is", () => {
    const { el } = show(good());
    const cell = (r: number, c: number) =>
      el.querySelector<HTMLElement>(
        `[data-testid="cm-cell"][data-row="${r}"][data-col="${c}"]`,
      )!;
    expect(cell(0, 0).dataset.level).toBe("1.000");
    expect(cell(0, 2).dataset.level).toBe("0.000");
    expect(cell(1, 2).dataset.level).toBe((7 / 50).toFixed(3));
    expect(cell(0, 0).classList.contains("kfp-cm-strong")).toBe(true);
    // Labels are isolated so a right-to-left override in one cannot reverse the rest.
    expect(cell(1, 2).title).toBe(
      "True \u2068dog\u2069, predicted \u2068<b>bird</b>\u2069: 7 (14% of true \u2068dog\u2069)",
    );
  });

  it("highlights the hovered cell's row and column and clears on leave", () => {
    const { el } = show(good());
    const target = el.querySelector(
      '[data-testid="cm-cell"][data-row="1"][data-col="2"]',
    )!;
    hover(target);
    const lit = qa(el, "cm-cell").filter((c) => c.classList.contains("kfp-cm-lit"));
    const coords = lit.map((c) => `${c.dataset.row},${c.dataset.col}`).sort();
    expect(coords).toEqual(["0,2", "1,0", "1,1", "1,2", "2,2"]);
    expect(target.classList.contains("kfp-cm-focus")).toBe(true);
    const labels = Array.from(el.querySelectorAll(".kfp-cm-label.kfp-cm-lit")).map(
      (t) => t.textContent,
    );
    expect(labels.sort()).toEqual(["<b>bird</b>", "dog"]);

    hover(el.querySelector('[data-testid="cm-cell"][data-row="0"][data-col="0"]')!);
    expect(target.classList.contains("kfp-cm-lit")).toBe(false);
    q(el, "cm-table")!.dispatchEvent(new MouseEvent("mouseleave"));
    expect(el.querySelectorAll(".kfp-cm-lit")).toHaveLength(0);
  });

  it("rejects shapes that do not match the labels, with the reason", () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ labels: ["a", "b"], matrix: [[1, 2]] }, /2 labels but 1 matrix rows/],
      [
        { labels: ["a", "b"], matrix: [[1, 2], [3]] },
        /row 2 \(b\) has 1 cells, expected 2/,
      ],
      [{ labels: ["a", "b"], matrix: [[1, 2], "x"] }, /row 2 \(b\) has not a list/],
      [{ labels: ["a"], matrix: [[-1]] }, /not a count/],
      [{ labels: ["a"], matrix: [["3"]] }, /not a count/],
      [{ labels: [{}], matrix: [[1]] }, /label 1 is not text/],
      [{ labels: "a", matrix: [[1]] }, /"labels" is a string, not a list/],
      [{ labels: ["a"] }, /"matrix" is missing/],
    ];
    for (const [fields, why] of cases) {
      const { el } = show(spec("confusion_matrix", fields));
      expect(q(el, "viewer-confusion_matrix")).not.toBeNull();
      expect(q(el, "viewer-invalid")?.textContent).toMatch(why);
      expect(qa(el, "cm-cell")).toHaveLength(0);
    }
  });

  it("says an empty matrix has no labels", () => {
    const { el } = show(spec("confusion_matrix", { labels: [], matrix: [] }));
    expect(q(el, "viewer-invalid")?.textContent).toContain("there are no labels");
  });

  it("refuses to draw more classes than the cap and names it", () => {
    const n = MAX_CLASSES + 1;
    const labels = Array.from({ length: n }, (_, i) => `c${i}`);
    const matrix = labels.map(() => labels.map(() => 1));
    const { el } = show(spec("confusion_matrix", { labels, matrix }));
    expect(q(el, "viewer-invalid")?.textContent).toContain(`${n} classes`);
    expect(q(el, "viewer-invalid")?.textContent).toContain(`cap: ${MAX_CLASSES}`);
  });

  it("draws an all-zero matrix without dividing by zero", () => {
    const { el } = show(
      spec("confusion_matrix", {
        labels: ["a", "b"],
        matrix: [
          [0, 0],
          [0, 0],
        ],
      }),
    );
    expect(qa(el, "cm-cell").map((c) => c.dataset.level)).toEqual([
      "0.000",
      "0.000",
      "0.000",
      "0.000",
    ]);
  });
});
