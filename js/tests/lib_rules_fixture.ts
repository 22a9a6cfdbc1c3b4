// The `rules` trait exactly as kfp_nb._states.rules_payload() builds it.
import type { Rules } from "../src/lib/states";

export const STATES = [
  "PENDING",
  "RUNNING",
  "PAUSED",
  "CANCELING",
  "SUCCEEDED",
  "FAILED",
  "CANCELED",
  "SKIPPED",
  "RUNTIME_STATE_UNSPECIFIED",
];

export const RULES: Rules = {
  actions: {
    archive: [...STATES],
    delete: [...STATES],
    terminate: ["PAUSED", "PENDING", "RUNNING", "RUNTIME_STATE_UNSPECIFIED"],
    retry: ["FAILED"],
  },
  restore_needs: "ARCHIVED",
  final: ["CANCELED", "FAILED", "SKIPPED", "SUCCEEDED"],
  active: ["CANCELING", "PAUSED", "PENDING", "RUNNING"],
  states: [...STATES],
};
