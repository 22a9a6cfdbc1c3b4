// Run states: the rules table sent by the kernel (PROTOCOL.md `rules`) and badges.
import { h } from "./dom";

/** The `rules` trait: which run states allow which action. */
export interface Rules {
  actions: Record<string, string[]>;
  restore_needs: string;
  final: string[];
  active: string[];
  states: string[];
}

/** Rules used until the kernel's trait arrives: nothing is actionable. */
export const EMPTY_RULES: Rules = {
  actions: {},
  restore_needs: "ARCHIVED",
  final: [],
  active: [],
  states: [],
};

/** Read a possibly partial rules object without throwing. */
export function normalizeRules(raw: unknown): Rules {
  const r = (raw && typeof raw === "object" ? raw : {}) as Partial<Rules>;
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
  const actions: Record<string, string[]> = {};
  if (r.actions && typeof r.actions === "object") {
    for (const [k, v] of Object.entries(r.actions)) actions[k] = list(v);
  }
  return {
    actions,
    restore_needs: typeof r.restore_needs === "string" ? r.restore_needs : "ARCHIVED",
    final: list(r.final),
    active: list(r.active),
    states: list(r.states),
  };
}

/** True when a run in `state` may still change (worth polling). */
export function isActive(state: string | null | undefined, rules: Rules): boolean {
  return !!state && rules.active.includes(state);
}

/** True when a run in `state` will not change by itself. */
export function isFinal(state: string | null | undefined, rules: Rules): boolean {
  return !!state && rules.final.includes(state);
}

interface Look {
  tone: string;
  icon: string;
}

// Icons are text glyphs so the badge needs no assets; the text label carries the
// meaning for colour-blind users and screen readers.
const LOOKS: Record<string, Look> = {
  PENDING: { tone: "pending", icon: "◷" },
  RUNNING: { tone: "running", icon: "▶" },
  PAUSED: { tone: "pending", icon: "‖" },
  CANCELING: { tone: "warn", icon: "■" },
  SUCCEEDED: { tone: "ok", icon: "✔" },
  CACHED: { tone: "ok", icon: "⟳" },
  FAILED: { tone: "error", icon: "✖" },
  CANCELED: { tone: "warn", icon: "⊘" },
  SKIPPED: { tone: "neutral", icon: "↷" },
  RUNTIME_STATE_UNSPECIFIED: { tone: "neutral", icon: "?" },
};

/** Short label for a state ("RUNTIME_STATE_UNSPECIFIED" → "UNSPECIFIED"). */
export function stateLabel(state: string | null | undefined): string {
  if (!state) return "—";
  return state === "RUNTIME_STATE_UNSPECIFIED" ? "UNSPECIFIED" : state;
}

/** Tone class suffix for a state; unknown states are neutral. */
export function stateTone(state: string | null | undefined): string {
  return (state && LOOKS[state]?.tone) || "neutral";
}

/** A coloured badge with an icon and the state's text. */
export function stateBadge(state: string | null | undefined): HTMLElement {
  const look = (state && LOOKS[state]) || { tone: "neutral", icon: "•" };
  return h(
    "span",
    {
      class: `kfp-badge kfp-tone-${look.tone}`,
      "data-state": state ?? "",
      title: state ?? "no state",
    },
    h("span", { class: "kfp-badge-icon", "aria-hidden": "true" }, look.icon),
    h("span", { class: "kfp-badge-text" }, stateLabel(state)),
  );
}

/** Update an existing badge in place (for reused virtual rows). */
export function setBadge(badge: HTMLElement, state: string | null | undefined): void {
  const look = (state && LOOKS[state]) || { tone: "neutral", icon: "•" };
  if (badge.dataset.state === (state ?? "")) return;
  badge.className = `kfp-badge kfp-tone-${look.tone}`;
  badge.dataset.state = state ?? "";
  badge.title = state ?? "no state";
  (badge.firstChild as HTMLElement).textContent = look.icon;
  (badge.lastChild as HTMLElement).textContent = stateLabel(state);
}
