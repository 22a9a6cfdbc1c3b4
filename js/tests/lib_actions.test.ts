import { describe, expect, it } from "vitest";
import { ACTIONS, confirmQuestion, enabledActions } from "../src/lib/actions";
import { EMPTY_RULES } from "../src/lib/states";
import { RULES, STATES } from "./lib_rules_fixture";

const TERMINABLE = new Set([
  "PENDING",
  "RUNNING",
  "PAUSED",
  "RUNTIME_STATE_UNSPECIFIED",
]);

function expected(action: string, state: string): boolean {
  if (action === "retry") return state === "FAILED";
  if (action === "terminate") return TERMINABLE.has(state);
  return action === "archive" || action === "delete";
}

describe("enabledActions: one run in every state", () => {
  for (const state of STATES) {
    for (const action of ACTIONS.filter((a) => a !== "restore")) {
      it(`${action} on ${state}`, () => {
        const e = enabledActions([state], ["AVAILABLE"], RULES)[action];
        expect(e.enabled).toBe(expected(action, state));
        expect(e.reason === "").toBe(e.enabled);
      });
    }
  }
});

describe("enabledActions: selections", () => {
  it("disables everything with nothing selected", () => {
    const all = enabledActions([], [], RULES);
    for (const action of ACTIONS) {
      expect(all[action].enabled).toBe(false);
      expect(all[action].reason).toMatch(/select/i);
    }
  });

  it("needs every run to qualify: one SUCCEEDED blocks retry of FAILED runs", () => {
    const e = enabledActions(
      ["FAILED", "FAILED", "SUCCEEDED"],
      ["AVAILABLE", "AVAILABLE", "AVAILABLE"],
      RULES,
    );
    expect(e.retry.enabled).toBe(false);
    expect(e.retry.reason).toContain("1 SUCCEEDED");
    expect(e.archive.enabled).toBe(true);
    expect(e.terminate.enabled).toBe(false);
    expect(e.terminate.reason).toContain("2 FAILED");
  });

  it("terminates a mix of active states but not CANCELING", () => {
    expect(
      enabledActions(
        ["PENDING", "RUNNING", "PAUSED"],
        ["AVAILABLE", "AVAILABLE", "AVAILABLE"],
        RULES,
      ).terminate.enabled,
    ).toBe(true);
    expect(
      enabledActions(["RUNNING", "CANCELING"], ["AVAILABLE", "AVAILABLE"], RULES)
        .terminate.enabled,
    ).toBe(false);
  });

  it("restores only archived runs, whatever their state", () => {
    expect(
      enabledActions(["FAILED", "SUCCEEDED"], ["ARCHIVED", "ARCHIVED"], RULES).restore
        .enabled,
    ).toBe(true);
    const mixed = enabledActions(
      ["FAILED", "SUCCEEDED"],
      ["ARCHIVED", "AVAILABLE"],
      RULES,
    ).restore;
    expect(mixed.enabled).toBe(false);
    expect(mixed.reason).toContain("1 AVAILABLE");
  });

  it("offers nothing for an unknown state or a run not loaded", () => {
    for (const state of ["SOMETHING_NEW", null]) {
      const e = enabledActions([state], ["AVAILABLE"], RULES);
      expect(e.archive.enabled).toBe(false);
      expect(e.delete.enabled).toBe(false);
      expect(e.terminate.enabled).toBe(false);
    }
  });

  it("offers nothing before the rules arrive", () => {
    const e = enabledActions(["FAILED"], ["AVAILABLE"], EMPTY_RULES);
    expect(e.retry.enabled).toBe(false);
    expect(e.retry.reason).toMatch(/rules/);
  });

  it("names the count in the confirmation question", () => {
    expect(confirmQuestion("terminate", 3)).toBe("Terminate 3 runs?");
    expect(confirmQuestion("delete", 1)).toBe("Delete 1 run?");
  });
});
