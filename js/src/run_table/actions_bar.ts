// Action buttons, the in-panel confirmation dialog and the outcome summary.
import {
  ACTIONS,
  ACTION_LABELS,
  CONFIRMED,
  confirmQuestion,
  type Action,
  type Enablement,
} from "../lib/actions";
import { h } from "../lib/dom";

export interface Failure {
  run_id: string;
  error: string;
  name?: string;
}

export interface Summary {
  action: string;
  requested: number;
  succeeded: number;
  failed: Failure[];
}

export class ActionBar {
  readonly root: HTMLElement;
  readonly dialog: HTMLElement;
  readonly summary: HTMLElement;
  private readonly buttons = new Map<Action, HTMLButtonElement>();
  private closeDialog: (() => void) | null = null;

  constructor(
    private readonly onRun: (action: Action) => void,
    private readonly selectedCount: () => number,
  ) {
    this.root = h("div", {
      class: "kfp-actions",
      role: "toolbar",
      "aria-label": "Run actions",
    });
    for (const action of ACTIONS) {
      const button = h(
        "button",
        {
          type: "button",
          class: `kfp-button kfp-action-${action}`,
          "data-testid": `action-${action}`,
          disabled: true,
        },
        ACTION_LABELS[action],
      );
      button.addEventListener("click", () => this.click(action));
      this.buttons.set(action, button);
      this.root.appendChild(button);
    }
    this.dialog = h("div", { class: "kfp-dialog-host" });
    this.summary = h("div", {
      class: "kfp-summary",
      "data-testid": "action-summary",
      role: "status",
      hidden: true,
    });
  }

  /** Enable or disable each button; a disabled button's title says why. */
  setEnablement(
    enablement: Record<Action, Enablement>,
    count: number,
    busy: boolean,
  ): void {
    for (const [action, button] of this.buttons) {
      const e = enablement[action];
      button.disabled = busy || !e.enabled;
      const runs = `${count} selected run${count === 1 ? "" : "s"}`;
      const label = `${ACTION_LABELS[action]} ${runs}`;
      button.title = busy ? "An action is in progress" : e.enabled ? label : e.reason;
    }
  }

  /** Is the confirmation dialog showing? */
  get confirming(): boolean {
    return this.closeDialog !== null;
  }

  cancelDialog(): void {
    this.closeDialog?.();
  }

  private click(action: Action): void {
    const button = this.buttons.get(action);
    if (!button || button.disabled) return;
    if (CONFIRMED.has(action)) this.confirm(action, this.selectedCount());
    else this.onRun(action);
  }

  private confirm(action: Action, count: number): void {
    this.cancelDialog();
    const ok = h(
      "button",
      { type: "button", class: "kfp-button kfp-danger", "data-testid": "confirm-ok" },
      ACTION_LABELS[action],
    );
    const cancel = h(
      "button",
      { type: "button", class: "kfp-button", "data-testid": "confirm-cancel" },
      "Cancel",
    );
    const titleId = `kfp-confirm-${Math.random().toString(36).slice(2)}`;
    const warning =
      action === "delete"
        ? "Deleting removes the runs from the server. This cannot be undone."
        : "Terminating stops the runs; they end CANCELED or FAILED.";
    const box = h(
      "div",
      {
        class: "kfp-dialog",
        role: "alertdialog",
        "aria-modal": "true",
        "aria-labelledby": titleId,
        "data-testid": "confirm-dialog",
      },
      h(
        "p",
        { class: "kfp-dialog-title", id: titleId },
        confirmQuestion(action, count),
      ),
      h("p", { class: "kfp-dialog-text" }, warning),
      h("div", { class: "kfp-dialog-buttons" }, cancel, ok),
    );
    const close = (): void => {
      box.remove();
      this.closeDialog = null;
      this.buttons.get(action)?.focus();
    };
    this.closeDialog = close;
    ok.addEventListener("click", () => {
      close();
      this.onRun(action);
    });
    cancel.addEventListener("click", close);
    box.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.stopPropagation();
        close();
      }
    });
    this.dialog.replaceChildren(box);
    // The safe choice has focus, so Enter does not destroy anything by accident.
    cancel.focus();
  }

  showSummary(s: Summary): void {
    const label = ACTION_LABELS[s.action as Action] ?? s.action;
    const head =
      `${label}: ${s.succeeded} of ${s.requested} succeeded` +
      (s.failed.length ? `, ${s.failed.length} failed (still selected)` : "");
    const list = h("ul", { class: "kfp-summary-failures" });
    for (const f of s.failed) {
      list.appendChild(
        h(
          "li",
          { "data-run-id": f.run_id },
          h(
            "span",
            { class: "kfp-summary-run" },
            f.name ? `${f.name} (${f.run_id})` : f.run_id,
          ),
          ": ",
          h("span", { class: "kfp-summary-error" }, f.error || "failed"),
        ),
      );
    }
    const dismiss = h(
      "button",
      {
        type: "button",
        class: "kfp-icon-button",
        "aria-label": "Dismiss summary",
        title: "Dismiss",
      },
      "×",
    );
    dismiss.addEventListener("click", () => (this.summary.hidden = true));
    const tone = s.failed.length ? "kfp-summary-failed" : "kfp-summary-ok";
    this.summary.className = `kfp-summary ${tone}`;
    this.summary.replaceChildren(
      h("span", { class: "kfp-summary-head" }, head),
      dismiss,
    );
    if (s.failed.length) this.summary.appendChild(list);
    this.summary.hidden = false;
  }
}
