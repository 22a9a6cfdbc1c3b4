import { describe, expect, it } from "vitest";
import {
  compareValues,
  sortRows,
  sortRowsByNumber,
  type SortValue,
} from "../src/lib/sort";

const rows = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("sortRows", () => {
  it("sorts strings naturally, asc and desc", () => {
    const v = ["run-10", "run-2", "Run-1", "run-3"];
    expect(sortRows(rows(4), (r) => v[r]).map((r) => v[r])).toEqual([
      "Run-1",
      "run-2",
      "run-3",
      "run-10",
    ]);
    expect(sortRows(rows(4), (r) => v[r], { desc: true }).map((r) => v[r])).toEqual([
      "run-10",
      "run-3",
      "run-2",
      "Run-1",
    ]);
  });

  it("puts nulls, empty strings and NaN last in both directions", () => {
    const v: SortValue[] = [null, 3, Number.NaN, 1, undefined, 2, ""];
    const asc = sortRows(rows(7), (r) => v[r]);
    expect(asc.slice(0, 3).map((r) => v[r])).toEqual([1, 2, 3]);
    expect(asc.slice(3)).toEqual([0, 2, 4, 6]);
    const desc = sortRows(rows(7), (r) => v[r], { desc: true });
    expect(desc.slice(0, 3).map((r) => v[r])).toEqual([3, 2, 1]);
    expect(desc.slice(3)).toEqual([0, 2, 4, 6]);
  });

  it("is stable: ties keep input order in both directions", () => {
    const v = ["b", "a", "b", "a", "b"];
    expect(sortRows(rows(5), (r) => v[r])).toEqual([1, 3, 0, 2, 4]);
    expect(sortRows(rows(5), (r) => v[r], { desc: true })).toEqual([0, 2, 4, 1, 3]);
  });

  it("sorts numbers numerically, not as text", () => {
    const v = [10, 9, 100, -1];
    expect(sortRows(rows(4), (r) => v[r]).map((r) => v[r])).toEqual([-1, 9, 10, 100]);
  });

  it("orders mixed types booleans < numbers < strings", () => {
    expect(compareValues(true, 0)).toBeLessThan(0);
    expect(compareValues(5, "a")).toBeLessThan(0);
    expect(compareValues(false, true)).toBeLessThan(0);
  });

  it("sorts only the given subset", () => {
    const v = [5, 4, 3, 2, 1];
    expect(sortRows([0, 2, 4], (r) => v[r])).toEqual([4, 2, 0]);
  });
});

describe("sortRowsByNumber (times and durations)", () => {
  const t = Float64Array.from([
    Date.UTC(2026, 0, 3),
    Number.NaN,
    Date.UTC(2025, 11, 31),
    Date.UTC(2026, 0, 3),
    Date.UTC(2026, 0, 1),
  ]);

  it("sorts times ascending with unset last and ties stable", () => {
    expect(sortRowsByNumber(rows(5), t)).toEqual([2, 4, 0, 3, 1]);
  });

  it("sorts descending with unset still last and ties stable", () => {
    expect(sortRowsByNumber(rows(5), t, { desc: true })).toEqual([0, 3, 4, 2, 1]);
  });

  it("keeps already ordered input as it is, ties included", () => {
    const v = Float64Array.from([5, 5, 3, 1, 1]);
    expect(sortRowsByNumber(rows(5), v, { desc: true })).toEqual([0, 1, 2, 3, 4]);
    expect(sortRowsByNumber(rows(5), v)).toEqual([3, 4, 2, 0, 1]);
  });

  it("handles 100,000 rows", () => {
    const n = 100_000;
    const v = Float64Array.from({ length: n }, (_, i) => (i * 7919) % n);
    const out = sortRowsByNumber(rows(n), v, { desc: true });
    expect(out.length).toBe(n);
    let misordered = 0;
    for (let i = 1; i < n; i++) if (v[out[i - 1]] < v[out[i]]) misordered++;
    expect(misordered).toBe(0);
    expect(new Set(out).size).toBe(n);
  });
});
