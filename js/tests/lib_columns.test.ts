import { describe, expect, it } from "vitest";
import { batchFromTable, ColumnStore, decodeIPC } from "../src/lib/columns";
import { ipcRows, manyRows, type RowSpec } from "./run_table_fake";

function batch(rows: RowSpec[]) {
  return batchFromTable(decodeIPC(ipcRows(rows)));
}

const A: RowSpec = {
  run_id: "a",
  display_name: "alpha",
  state: "RUNNING",
  created_at: 1000,
  params: { lr: 0.1 },
};
const B: RowSpec = {
  run_id: "b",
  display_name: "beta",
  state: "FAILED",
  created_at: 2000,
  duration: 50,
  error: "boom",
};

describe("Arrow round trip", () => {
  it("decodes text, dictionary, float and null cells", () => {
    const store = new ColumnStore();
    store.replace(batch([A, B]));
    expect(store.length).toBe(2);
    expect(store.get("display_name", 0)).toBe("alpha");
    expect(store.get("state", 1)).toBe("FAILED");
    expect(store.get("storage_state", 1)).toBe("AVAILABLE");
    expect(store.get("created_at", 1)).toBe(2000);
    expect(store.get("duration", 0)).toBeNull(); // NaN = unset
    expect(store.get("error", 0)).toBeNull();
    expect(store.get("error", 1)).toBe("boom");
    expect(store.get("param.lr", 0)).toBe(0.1);
    expect(store.get("param.lr", 1)).toBeNull();
    expect(store.columns.get("created_at")?.kind).toBe("number");
  });

  it("accepts a DataView over a larger buffer (how anywidget hands buffers)", () => {
    const bytes = ipcRows([A]);
    const padded = new Uint8Array(bytes.length + 16);
    padded.set(bytes, 8);
    const table = decodeIPC(new DataView(padded.buffer, 8, bytes.length));
    expect(table.numRows).toBe(1);
  });

  it("reads booleans and keeps markup as plain text", () => {
    const store = new ColumnStore();
    const name = "<img src=x onerror=alert(1)> 訓練 🚀";
    store.replace(
      batch([
        { run_id: "x", display_name: name, params: { flag: true } },
        { run_id: "y", params: { flag: false } },
      ]),
    );
    expect(store.get("display_name", 0)).toBe(name);
    expect(store.get("param.flag", 0)).toBe(true);
    expect(store.get("param.flag", 1)).toBe(false);
  });
});

describe("ColumnStore", () => {
  it("appends pages and indexes by run_id", () => {
    const store = new ColumnStore();
    store.replace(batch([A]));
    store.append(batch([B]));
    expect(store.length).toBe(2);
    expect(store.rowOf("b")).toBe(1);
    expect(store.idAt(1)).toBe("b");
    // B's page had no param.lr values for A: A keeps its own.
    expect(store.get("param.lr", 0)).toBe(0.1);
  });

  it("merges updates in place and adds unknown runs at the end", () => {
    const store = new ColumnStore();
    store.replace(batch([A, B]));
    const v = store.version;
    store.merge(
      batch([
        { ...A, state: "SUCCEEDED", duration: 9 },
        { run_id: "c", state: "PENDING" },
      ]),
    );
    expect(store.version).toBeGreaterThan(v);
    expect(store.length).toBe(3);
    expect(store.get("state", 0)).toBe("SUCCEEDED");
    expect(store.get("duration", 0)).toBe(9);
    expect(store.get("state", 1)).toBe("FAILED");
    expect(store.idAt(2)).toBe("c");
  });

  it("adds a parameter column first seen in a later page, null for earlier rows", () => {
    const store = new ColumnStore();
    store.replace(batch([A]));
    store.append(batch([{ run_id: "d", params: { epochs: 3 } }]));
    expect(store.get("param.epochs", 0)).toBeNull();
    expect(store.get("param.epochs", 1)).toBe(3);
  });

  it("keeps a parameter as text when pages disagree on its type", () => {
    const store = new ColumnStore();
    store.replace(batch([{ run_id: "n", params: { opt: 1 } }]));
    store.append(batch([{ run_id: "s", params: { opt: "adam" } }]));
    expect(store.get("param.opt", 0)).toBe("1");
    expect(store.get("param.opt", 1)).toBe("adam");
  });

  it("removes runs and keeps the order and index of the rest", () => {
    const store = new ColumnStore();
    store.replace(batch([A, B, { run_id: "c" }]));
    store.remove(["b", "unknown"]);
    expect(store.length).toBe(2);
    expect([store.idAt(0), store.idAt(1)]).toEqual(["a", "c"]);
    expect(store.rowOf("c")).toBe(1);
    expect(store.has("b")).toBe(false);
    expect(store.get("created_at", 0)).toBe(1000);
  });

  it("replace drops everything before", () => {
    const store = new ColumnStore();
    store.replace(batch([A, B]));
    store.replace(batch([{ run_id: "z" }]));
    expect(store.length).toBe(1);
    expect(store.has("a")).toBe(false);
    expect(store.columns.has("param.lr")).toBe(false);
  });

  it("decodes ASCII and non-ASCII names and nulls in one page", () => {
    const store = new ColumnStore();
    store.replace(
      batch([
        { run_id: "1", display_name: "plain" },
        { run_id: "2", display_name: null },
        { run_id: "3", display_name: "Ünïcødé 🚀" },
        { run_id: "4", display_name: "tail" },
      ]),
    );
    expect([0, 1, 2, 3].map((r) => store.get("display_name", r))).toEqual([
      "plain",
      null,
      "Ünïcødé 🚀",
      "tail",
    ]);
  });

  it("keeps the last of repeated run ids in a first page once indexed", () => {
    const store = new ColumnStore();
    store.replace(
      batch([
        { run_id: "a", state: "RUNNING" },
        { run_id: "b" },
        { run_id: "a", state: "FAILED" },
      ]),
    );
    expect(store.buildIndex()).toBe(true);
    expect(store.length).toBe(2);
    expect([store.idAt(0), store.idAt(1)]).toEqual(["b", "a"]);
    expect(store.get("state", store.rowOf("a")!)).toBe("FAILED");
    expect(store.buildIndex()).toBe(false);
  });

  it("keeps the last of repeated run ids in a later page", () => {
    const store = new ColumnStore();
    store.replace(batch([{ run_id: "z" }]));
    store.append(
      batch([
        { run_id: "a", state: "RUNNING" },
        { run_id: "a", state: "FAILED" },
      ]),
    );
    expect(store.length).toBe(2);
    expect(store.get("state", store.rowOf("a")!)).toBe("FAILED");
  });

  it("rejects a payload without run_id", () => {
    const store = new ColumnStore();
    expect(() => store.merge({ length: 1, columns: new Map() })).toThrow(/run_id/);
  });

  it("appends 100 pages of 1,000 rows", () => {
    const store = new ColumnStore();
    const rows = manyRows(100_000);
    for (let p = 0; p < 100; p++)
      store.append(batch(rows.slice(p * 1000, (p + 1) * 1000)));
    expect(store.length).toBe(100_000);
    expect(store.rowOf("run-99999")).toBe(99_999);
    expect(store.get("created_at", 99_999)).toBe(rows[99_999].created_at);
  });
});
