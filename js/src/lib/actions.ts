// Which bulk actions the current selection allows, under the kernel's `rules`.
import type { Rules } from "./states";

export const ACTIONS = ["archive", "restore", "retry", "terminate", "delete"] as const;
export type Action = (typeof ACTIONS)[number];

export interface Enablement {
  enabled: boolean;
  /** Why the button is disabled ("" when enabled): shown as its tooltip. */
  reason: string;
}

export const ACTION_LABELS: Record<Action, string> = {
  archive: "Archive",
  restore: "Restore",
  retry: "Retry",
  terminate: "Terminate",
  delete: "Delete",
};

/** Actions that ask for confirmation first. */
export const CONFIRMED: ReadonlySet<Action> = new Set<Action>(["terminate", "delete"]);

/**
 * For each action: enabled only when it is valid for every selected run. `states`
 * and `storageStates` are parallel (one entry per selected run).
 */
export function enabledActions(
  states: readonly (string | null)[],
  storageStates: readonly (string | null)[],
  rules: Rules,
): Record<Action, Enablement> {
  const out = {} as Record<Action, Enablement>;
  for (const action of ACTIONS) {
    out[action] = states.length
      ? check(action, states, storageStates, rules)
      : { enabled: false, reason: "Select one or more runs first" };
  }
  return out;
}

function check(
  action: Action,
  states: readonly (string | null)[],
  storageStates: readonly (string | null)[],
  rules: Rules,
): Enablement {
  if (action === "restore") return checkRestore(storageStates, rules);
  const allowed = rules.actions[action];
  if (!allowed || !allowed.length) {
    return { enabled: false, reason: `The server rules offer no ${action} action` };
  }
  const bad = countBy(states.filter((s) => !s || !allowed.includes(s)));
  if (!bad.size) return { enabled: true, reason: "" };
  return {
    enabled: false,
    reason:
      `${ACTION_LABELS[action]} needs every selected run to be ${orList(allowed)}; ` +
      `selection has ${describe(bad)}`,
  };
}

function checkRestore(
  storageStates: readonly (string | null)[],
  rules: Rules,
): Enablement {
  const need = rules.restore_needs;
  const bad = countBy(storageStates.filter((s) => s !== need));
  if (!bad.size) return { enabled: true, reason: "" };
  return {
    enabled: false,
    reason:
      `Restore needs every selected run to be ${need}; ` +
      `selection has ${describe(bad)}`,
  };
}

function countBy(values: readonly (string | null)[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) {
    const key = v || "no state";
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function describe(counts: Map<string, number>): string {
  return [...counts].map(([state, n]) => `${n} ${state}`).join(", ");
}

function orList(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}

/** "Terminate 3 runs?" / "Delete 1 run?" */
export function confirmQuestion(action: Action, count: number): string {
  return `${ACTION_LABELS[action]} ${count} run${count === 1 ? "" : "s"}?`;
}
