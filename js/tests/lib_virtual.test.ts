import { describe, expect, it } from "vitest";
import { spacerHeight, visibleRange } from "../src/lib/virtual";

const base = {
  scrollTop: 0,
  viewportHeight: 300,
  rowHeight: 30,
  rowCount: 1000,
  overscan: 5,
};

describe("visibleRange", () => {
  it("draws the first screen plus overscan below at the top", () => {
    expect(visibleRange(base)).toEqual([0, 15]);
  });

  it("adds overscan on both sides in the middle", () => {
    expect(visibleRange({ ...base, scrollTop: 3000 })).toEqual([95, 115]);
  });

  it("includes a partly visible row", () => {
    expect(visibleRange({ ...base, scrollTop: 3015, overscan: 0 })).toEqual([100, 111]);
  });

  it("clamps at the bottom and past it", () => {
    expect(visibleRange({ ...base, scrollTop: 29_700 })).toEqual([985, 1000]);
    expect(visibleRange({ ...base, scrollTop: 1e9 })).toEqual([985, 1000]);
  });

  it("clamps negative scroll (elastic overscroll)", () => {
    expect(visibleRange({ ...base, scrollTop: -200 })).toEqual([0, 15]);
  });

  it("is empty without rows or with a bad row height", () => {
    expect(visibleRange({ ...base, rowCount: 0 })).toEqual([0, 0]);
    expect(visibleRange({ ...base, rowHeight: 0 })).toEqual([0, 0]);
  });

  it("shows every row when they fit", () => {
    expect(visibleRange({ ...base, rowCount: 4 })).toEqual([0, 4]);
  });

  it("draws at least one row with a zero-height viewport", () => {
    expect(visibleRange({ ...base, viewportHeight: 0, overscan: 0 })).toEqual([0, 1]);
  });

  it("keeps the window small anywhere in 100,000 rows", () => {
    const input = { ...base, rowCount: 100_000, overscan: 12 };
    for (const scrollTop of [0, 1_234_567, 2_999_700 - 300, 5e6]) {
      const [start, end] = visibleRange({ ...input, scrollTop });
      expect(end - start).toBeLessThanOrEqual(11 + 24);
      expect(end).toBeLessThanOrEqual(100_000);
    }
    expect(visibleRange({ ...input, scrollTop: 1e12 })[1]).toBe(100_000);
    expect(spacerHeight(100_000, 30)).toBe(3_000_000);
  });
});
