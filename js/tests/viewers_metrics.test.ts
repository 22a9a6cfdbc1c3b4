import { afterEach, describe, expect, it } from "vitest";
import { MAX_METRIC_ROWS } from "../src/viewers/metrics";
import { cleanupAll, q, qa, show, spec } from "./viewers_fake";

afterEach(cleanupAll);

describe("metrics viewer", () => {
  it("draws one name/value table per group with formatted numbers", () => {
    const { el } = show(
      spec("metrics", {
        groups: [
          {
            title: "train / metrics",
            rows: [
              ["accuracy", 0.912345678],
              ["epochs", 10],
            ],
          },
          {
            title: "eval / scores",
            rows: [
              ["f1", 0.5],
              ["note", "ok"],
              ["cfg", '{"a": 1}'],
            ],
          },
        ],
      }),
    );
    const groups = qa(el, "metrics-group");
    expect(groups).toHaveLength(2);
    expect(groups[0].querySelector("h4")?.textContent).toBe("train / metrics");
    const values = qa(el, "metric-value");
    expect(values.map((v) => v.textContent)).toEqual([
      "0.912346",
      "10",
      "0.5",
      "ok",
      '{"a": 1}',
    ]);
    expect(values[0].title).toBe("0.912345678");
    expect(groups[1].querySelectorAll("tbody th")[1].textContent).toBe("note");
  });

  it("shows names holding markup as text", () => {
    const { el } = show(
      spec("metrics", {
        groups: [{ title: "<h1>x</h1>", rows: [["<b>n</b>", "<i>v</i>"]] }],
      }),
    );
    expect(el.querySelector("h1, b, i")).toBeNull();
    expect(q(el, "metric-value")?.textContent).toBe("<i>v</i>");
  });

  it("says so when there are no metrics", () => {
    expect(
      q(show(spec("metrics", { groups: [] })).el, "viewer-notice")?.textContent,
    ).toContain("No metrics");
    const empty = show(spec("metrics", { groups: [{ title: "g", rows: [] }] })).el;
    expect(q(empty, "viewer-notice")?.textContent).toContain(
      "No metrics in this output",
    );
  });

  it("shows a message instead of throwing on malformed specs", () => {
    for (const groups of [undefined, "x", [1], [{ title: "g" }]]) {
      const { el } = show(spec("metrics", { groups }));
      expect(q(el, "viewer-metrics")).not.toBeNull();
      expect(q(el, "viewer-invalid")?.textContent).toContain(
        "Cannot show this metrics artifact",
      );
    }
  });

  it("skips malformed rows and counts them", () => {
    const { el } = show(
      spec("metrics", { groups: [{ title: "g", rows: [["a", 1], "bad", [2]] }] }),
    );
    expect(qa(el, "metric-value")).toHaveLength(1);
    expect(el.textContent).toContain("2 malformed metric rows skipped");
  });

  it("caps very long groups and names the cap", () => {
    const rows = Array.from({ length: MAX_METRIC_ROWS + 5 }, (_, i) => [`m${i}`, i]);
    const { el } = show(spec("metrics", { groups: [{ title: "g", rows }] }));
    expect(qa(el, "metric-value")).toHaveLength(MAX_METRIC_ROWS);
    expect(el.textContent).toContain(
      `5 more metrics not shown (cap: ${MAX_METRIC_ROWS} rows)`,
    );
  });
});
