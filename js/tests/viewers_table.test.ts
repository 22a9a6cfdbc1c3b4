import { afterEach, describe, expect, it } from "vitest";
import { compareCells, PAGE_SIZE } from "../src/viewers/table";
import { cleanupAll, q, qa, show, spec } from "./viewers_fake";

afterEach(cleanupAll);

const cellsOf = (el: HTMLElement, col: number): string[] =>
  qa(el, "table-row").map((r) => r.children[col]?.textContent ?? "");

function click(el: Element): void {
  el.dispatchEvent(new MouseEvent("click", { bubbles: true }));
}

function numbered(n: number) {
  return spec("table", {
    columns: ["id", "name"],
    rows: Array.from({ length: n }, (_, i) => [i + 1, `row ${i + 1}`]),
    total_rows: n,
    truncated: false,
  });
}

describe("table viewer", () => {
  it("shows headers and cells as text", () => {
    const { el } = show(
      spec("table", {
        columns: ["<b>col</b>", "n"],
        rows: [
          ["<img src=x onerror=alert(1)>", 1.5],
          [null, { a: 1 }],
        ],
        total_rows: 2,
      }),
    );
    expect(qa(el, "table-header").map((h) => h.textContent)).toEqual([
      "<b>col</b>",
      "n",
    ]);
    expect(cellsOf(el, 0)).toEqual(["<img src=x onerror=alert(1)>", ""]);
    expect(cellsOf(el, 1)).toEqual(["1.5", '{"a":1}']);
    expect(el.querySelector("img, b")).toBeNull();
    expect(q(el, "table-truncated")).toBeNull();
  });

  it("sorts by a column on header click, numbers by value, then descending", () => {
    const { el } = show(
      spec("table", {
        columns: ["v", "label"],
        rows: [
          ["10", "ten"],
          [9, "nine"],
          [null, "none"],
          ["abc", "text"],
          [100, "hundred"],
        ],
        total_rows: 5,
      }),
    );
    const header = qa(el, "table-header")[0];
    click(header);
    expect(cellsOf(el, 1)).toEqual(["nine", "ten", "hundred", "text", "none"]);
    expect(qa(el, "table-header")[0].getAttribute("aria-sort")).toBe("ascending");
    click(qa(el, "table-header")[0]);
    expect(cellsOf(el, 1)).toEqual(["text", "hundred", "ten", "nine", "none"]);
    expect(qa(el, "table-header")[0].getAttribute("aria-sort")).toBe("descending");
    click(qa(el, "table-header")[1]);
    expect(cellsOf(el, 1)).toEqual(["hundred", "nine", "none", "ten", "text"]);
  });

  it("sorts from the keyboard too", () => {
    const { el } = show(
      spec("table", { columns: ["v"], rows: [[2], [1]], total_rows: 2 }),
    );
    qa(el, "table-header")[0].dispatchEvent(
      new KeyboardEvent("keydown", { key: "Enter" }),
    );
    expect(cellsOf(el, 0)).toEqual(["1", "2"]);
  });

  it("pages through rows with prev and next", () => {
    const { el } = show(numbered(120));
    expect(qa(el, "table-row")).toHaveLength(PAGE_SIZE);
    expect(q(el, "table-page")?.textContent).toBe("Rows 1–50 of 120 · page 1 of 3");
    const prev = q(el, "table-prev") as HTMLButtonElement;
    const next = q(el, "table-next") as HTMLButtonElement;
    expect(prev.disabled).toBe(true);
    click(next);
    click(next);
    expect(cellsOf(el, 0)[0]).toBe("101");
    expect(qa(el, "table-row")).toHaveLength(20);
    expect(q(el, "table-page")?.textContent).toBe("Rows 101–120 of 120 · page 3 of 3");
    expect(next.disabled).toBe(true);
    click(prev);
    expect(cellsOf(el, 0)[0]).toBe("51");
  });

  it("goes back to the first page when the sort changes", () => {
    const { el } = show(numbered(120));
    click(q(el, "table-next")!);
    click(qa(el, "table-header")[0]);
    click(qa(el, "table-header")[0]);
    expect(cellsOf(el, 0)[0]).toBe("120");
    expect(q(el, "table-page")?.textContent).toContain("page 1 of 3");
  });

  it("names the cap when only the first rows were sent", () => {
    const s = numbered(1000);
    Object.assign(s, {
      total_rows: 52_000,
      truncated: true,
      caps: { bytes: 1e6, rows: 1000 },
    });
    const { el } = show(s);
    expect(q(el, "table-truncated")?.textContent).toBe(
      "Showing the first 1,000 of 52,000 rows (cap: rows=1000).",
    );
    expect(q(el, "table-page")?.textContent).toBe("Rows 1–50 of 1,000 · page 1 of 20");
  });

  it("handles an empty table and rows of uneven width", () => {
    const empty = show(spec("table", { columns: ["a"], rows: [], total_rows: 0 })).el;
    expect(q(empty, "table-page")?.textContent).toBe("No rows");
    expect(qa(empty, "table-row")).toHaveLength(0);
    const none = show(spec("table", { columns: [], rows: [], total_rows: 0 })).el;
    expect(none.textContent).toContain("This table is empty");
    const uneven = show(
      spec("table", { columns: ["a"], rows: [[1, 2, 3], [4], "bad"] }),
    ).el;
    expect(qa(uneven, "table-header").map((h) => h.textContent)).toEqual([
      "a",
      "column 2",
      "column 3",
    ]);
    expect(cellsOf(uneven, 2)).toEqual(["3", ""]);
    expect(uneven.textContent).toContain("1 malformed rows skipped");
  });

  it("shows a message instead of throwing on malformed specs", () => {
    for (const fields of [
      { columns: "a", rows: [] },
      { columns: ["a"] },
      { rows: [[1]] },
    ]) {
      const { el } = show(spec("table", fields));
      expect(q(el, "viewer-table")).not.toBeNull();
      expect(q(el, "viewer-invalid")?.textContent).toContain(
        "Cannot show this table artifact",
      );
    }
  });

  it("compares empty cells last and numeric text by value", () => {
    expect(compareCells("9", "10")).toBeLessThan(0);
    expect(compareCells(null, 1)).toBeGreaterThan(0);
    expect(compareCells("", "a")).toBeGreaterThan(0);
    expect(compareCells("b", "a")).toBeGreaterThan(0);
    expect(compareCells(1, "a")).toBeLessThan(0);
  });

  it("keeps a large table responsive: one page of elements", () => {
    const { el } = show(numbered(100_000));
    expect(el.querySelectorAll("tbody tr")).toHaveLength(PAGE_SIZE);
    click(qa(el, "table-header")[0]);
    click(qa(el, "table-header")[0]);
    expect(cellsOf(el, 0)[0]).toBe("100000");
  });
});
