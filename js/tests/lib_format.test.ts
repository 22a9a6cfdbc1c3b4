import { describe, expect, it } from "vitest";
import {
  formatCount,
  formatDuration,
  formatTime,
  isValidZone,
  localZone,
  zoneLabel,
} from "../src/lib/format";

const T = Date.UTC(2026, 11, 4, 16, 5, 9, 500); // 2026-12-04T16:05:09.500Z

describe("formatTime", () => {
  it("shows UTC wall time", () => {
    expect(formatTime(T, "UTC")).toBe("2026-12-04 16:05:09");
  });

  it("shows a named zone with its offset applied", () => {
    expect(formatTime(T, "Asia/Tokyo")).toBe("2026-12-05 01:05:09");
    expect(formatTime(T, "America/New_York")).toBe("2026-12-04 11:05:09");
  });

  it("applies daylight saving in summer", () => {
    const july = Date.UTC(2026, 6, 1, 12, 0, 0);
    expect(formatTime(july, "Europe/Berlin")).toBe("2026-07-01 14:00:00");
  });

  it("shows midnight as 00, not 24", () => {
    expect(formatTime(Date.UTC(2026, 0, 1, 0, 0, 0), "UTC")).toBe(
      "2026-01-01 00:00:00",
    );
  });

  it("uses the browser zone for ''", () => {
    const expected = formatTime(T, localZone());
    expect(formatTime(T, "")).toBe(expected);
  });

  it("is empty for unset times", () => {
    expect(formatTime(Number.NaN, "UTC")).toBe("");
    expect(formatTime(Infinity, "UTC")).toBe("");
  });

  it("falls back to UTC for an unknown zone", () => {
    expect(isValidZone("Mars/Olympus")).toBe(false);
    expect(formatTime(T, "Mars/Olympus")).toBe("2026-12-04 16:05:09");
  });
});

describe("zoneLabel", () => {
  it("names the zone; local says so", () => {
    expect(zoneLabel("UTC")).toBe("UTC");
    expect(zoneLabel("Europe/Paris")).toBe("Europe/Paris");
    expect(zoneLabel("")).toBe(`${localZone()} (local)`);
    expect(zoneLabel("Nope/Zone")).toContain("unknown");
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0 ms"],
    [850, "850 ms"],
    [999.6, "1000 ms"],
    [1000, "1 s"],
    [42_900, "42 s"],
    [185_000, "3 m 05 s"],
    [2 * 3600_000 + 3 * 60_000, "2 h 03 m"],
    [3 * 86400_000 + 4 * 3600_000, "3 d 04 h"],
    [-5000, "-5 s"],
  ])("%d ms → %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("is empty for unset", () => {
    expect(formatDuration(Number.NaN)).toBe("");
  });
});

describe("formatCount", () => {
  it("groups thousands", () => {
    expect(formatCount(86000)).toBe("86,000");
    expect(formatCount(Number.NaN)).toBe("?");
  });
});
