import { describe, expect, it } from "vitest";
import { isActive, isFinal, normalizeRules, stateBadge } from "../src/lib/states";
import { RULES } from "./lib_rules_fixture";

describe("stateBadge", () => {
  it("has an icon and text and a tone", () => {
    const b = stateBadge("FAILED");
    expect(b.querySelector(".kfp-badge-icon")?.textContent).not.toBe("");
    expect(b.querySelector(".kfp-badge-text")?.textContent).toBe("FAILED");
    expect(b.className).toContain("kfp-tone-error");
  });

  it("is neutral for unknown states and shows their text", () => {
    const b = stateBadge("<b>NEW</b>");
    expect(b.className).toContain("kfp-tone-neutral");
    expect(b.querySelector(".kfp-badge-text")?.textContent).toBe("<b>NEW</b>");
    expect(b.querySelector("b")).toBeNull();
  });

  it("shortens the unspecified state", () => {
    expect(stateBadge("RUNTIME_STATE_UNSPECIFIED").textContent).toContain(
      "UNSPECIFIED",
    );
  });
});

describe("rules", () => {
  it("classifies active and final states", () => {
    expect(isActive("RUNNING", RULES)).toBe(true);
    expect(isActive("SUCCEEDED", RULES)).toBe(false);
    expect(isActive("FUTURE", RULES)).toBe(false);
    expect(isFinal("CANCELED", RULES)).toBe(true);
  });

  it("normalizes junk without throwing", () => {
    const r = normalizeRules({ actions: { retry: ["FAILED"] }, final: "x" });
    expect(r.actions.retry).toEqual(["FAILED"]);
    expect(r.final).toEqual([]);
    expect(r.restore_needs).toBe("ARCHIVED");
    expect(normalizeRules(null).states).toEqual([]);
  });
});
