import { afterEach, describe, expect, it } from "vitest";
import { MAX_STACK_DEPTH, MAX_STACK_ITEMS } from "../src/viewers/index";
import { cleanupAll, fakeBlobUrls, q, qa, show, spec } from "./viewers_fake";

afterEach(cleanupAll);

const matrix = spec("confusion_matrix", {
  title: "matrix",
  labels: ["a", "b"],
  matrix: [
    [1, 2],
    [3, 4],
  ],
});
const roc = spec("roc", {
  title: "roc",
  curves: [
    {
      label: "r",
      points: [
        { fpr: 0, tpr: 0, threshold: 1 },
        { fpr: 1, tpr: 1, threshold: 0 },
      ],
    },
  ],
});

describe("stack specs", () => {
  it("draws every inner spec with its own title, in a column by default", () => {
    const { el } = show(spec("stack", { title: "ui metadata", specs: [matrix, roc] }));
    const stack = q(el, "viewer-stack")!;
    expect(stack.classList.contains("kfp-stack-column")).toBe(true);
    expect(qa(el, "viewer-title").map((t) => t.textContent)).toEqual([
      "ui metadata",
      "matrix",
      "roc",
    ]);
    expect(qa(el, "cm-cell")).toHaveLength(4);
    expect(qa(el, "roc-curve")).toHaveLength(1);
    // The artifact's run/task/name line is shown once, not under every part.
    expect(qa(el, "viewer-source")).toHaveLength(1);
  });

  it("names each part's source when the parts come from different artifacts", () => {
    const other = {
      ...roc,
      artifact: { run_id: "run-2", task_id: "t", name: "<roc>" },
    };
    const { el } = show(spec("stack", { layout: "row", specs: [matrix, other] }));
    const lines = qa(el, "viewer-source").map((s) => s.textContent);
    expect(lines).toEqual([lines[0], "run run-2 · task t · artifact <roc>"]);
    expect(lines[0]).toContain("run run-1");
    expect(qa(el, "viewer-source")).toHaveLength(2);
  });

  it("lays a comparison out side by side", () => {
    const { el } = show(
      spec("stack", { layout: "row", specs: [matrix, matrix, matrix] }),
    );
    expect(q(el, "viewer-stack")!.classList.contains("kfp-stack-row")).toBe(true);
    expect(qa(el, "viewer-confusion_matrix")).toHaveLength(3);
  });

  it("keeps a malformed inner spec to itself", () => {
    const bad = spec("confusion_matrix", { labels: ["a"], matrix: [[1, 2]] });
    const { el } = show(spec("stack", { specs: [bad, roc, "junk"] }));
    expect(qa(el, "viewer-invalid")).toHaveLength(2);
    expect(qa(el, "roc-curve")).toHaveLength(1);
  });

  it("never hands the panel's image to inner specs", () => {
    const blobs = fakeBlobUrls();
    try {
      const img = spec("image", { mime: "image/png" });
      const { el } = show(spec("stack", { specs: [img] }), {
        image: new Uint8Array([1, 2]),
      });
      expect(q(el, "viewer-img")).toBeNull();
      expect(el.textContent).toContain("No image data");
      expect(blobs.created).toHaveLength(0);
    } finally {
      blobs.restore();
    }
  });

  it("cleans up inner viewers (image URLs revoked)", () => {
    const blobs = fakeBlobUrls();
    try {
      const img = spec("image", { mime: "image/png" });
      const { stop } = show(img, { image: new Uint8Array([1]) });
      stop();
      expect(blobs.revoked).toEqual(["blob:test/1"]);
    } finally {
      blobs.restore();
    }
  });

  it("refuses nesting deeper than the cap and caps the number of views", () => {
    let deep: Record<string, unknown> = roc;
    for (let i = 0; i < MAX_STACK_DEPTH + 1; i += 1)
      deep = spec("stack", { specs: [deep] });
    const { el } = show(deep);
    expect(q(el, "viewer-invalid")?.textContent).toContain(
      `deeper than ${MAX_STACK_DEPTH}`,
    );
    expect(qa(el, "roc-curve")).toHaveLength(0);

    const many = show(
      spec("stack", { specs: Array.from({ length: MAX_STACK_ITEMS + 3 }, () => roc) }),
    ).el;
    expect(qa(many, "viewer-roc")).toHaveLength(MAX_STACK_ITEMS);
    expect(many.textContent).toContain(
      `Showing ${MAX_STACK_ITEMS} of ${MAX_STACK_ITEMS + 3} views`,
    );
  });

  it("says an empty stack is empty and refuses one without specs", () => {
    expect(show(spec("stack", { specs: [] })).el.textContent).toContain(
      "Nothing to show",
    );
    const { el } = show(spec("stack", { specs: "x" }));
    expect(q(el, "viewer-invalid")?.textContent).toContain('"specs"');
  });
});

describe("notes", () => {
  it("shows the kernel's notes above the content, as text", () => {
    const { el } = show(
      spec("table", {
        columns: ["a"],
        rows: [[1]],
        total_rows: 2500,
        truncated: true,
        notes: [
          "showing the first 1 of 2,500 rows (cap: table_max_rows=1)",
          "<b>member</b> refused",
          5,
        ],
      }),
    );
    const items = qa(el, "viewer-notes")[0].querySelectorAll("li");
    expect(Array.from(items).map((li) => li.textContent)).toEqual([
      "showing the first 1 of 2,500 rows (cap: table_max_rows=1)",
      "<b>member</b> refused",
    ]);
    expect(el.querySelector("b")).toBeNull();
    // The kernel's note already says it: no second truncation line.
    expect(q(el, "table-truncated")).toBeNull();
    // First thing inside the viewer, above the table.
    expect(q(el, "viewer-table")!.firstElementChild).toBe(q(el, "viewer-notes"));
  });

  it("lets markdown and text notes replace the viewer's own truncation line", () => {
    const note = "showing the first 10 of 20 bytes (cap: markdown_max_bytes=10)";
    const md = show(
      spec("markdown", { markdown: "x", truncated: true, notes: [note] }),
    ).el;
    expect(q(md, "viewer-truncated")).toBeNull();
    expect(q(md, "viewer-notes")?.textContent).toBe(note);
    const text = show(spec("text", { text: "x", truncated: true, notes: [note] })).el;
    expect(q(text, "viewer-truncated")).toBeNull();
    const bare = show(
      spec("text", { text: "x", truncated: false, size: 5e6, caps: { bytes: 1e6 } }),
    ).el;
    expect(q(bare, "viewer-truncated")).toBeNull();
  });

  it("shows no notes list when there are none", () => {
    expect(
      q(show(spec("text", { text: "x", notes: [] })).el, "viewer-notes"),
    ).toBeNull();
    expect(
      q(show(spec("text", { text: "x", notes: "nope" })).el, "viewer-notes"),
    ).toBeNull();
  });
});
