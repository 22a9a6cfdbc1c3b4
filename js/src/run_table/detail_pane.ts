// The run detail inside the table panel: asks the kernel with `run_detail` and draws
// the reply with the run view's renderer.
import type { AnyModel } from "@anywidget/types";
import { h } from "../lib/dom";
import { request, type Message } from "../lib/rpc";
import type { Rules } from "../lib/states";
import { renderRunDetail } from "../run_view/detail";
import { obj, str } from "../run_view/wire";
import { ArtifactPane, artifactName } from "../viewers/pane";

export interface DetailContext {
  timeZone(): string;
  rules(): Rules;
  onError(err: unknown): void;
  signal: AbortSignal;
}

export class DetailPane {
  readonly root: HTMLElement;
  private readonly content: HTMLElement;
  private readonly title: HTMLElement;
  private runId = "";
  private last: Message | null = null;
  private undraw: (() => void) | null = null;
  private collapsed = new Set<string>();
  private readonly artifacts: ArtifactPane;

  constructor(
    private readonly model: AnyModel,
    private readonly ctx: DetailContext,
  ) {
    const close = h(
      "button",
      {
        type: "button",
        class: "kfp-icon-button",
        "data-testid": "detail-close",
        "aria-label": "Close run details",
        title: "Close (Esc)",
      },
      "×",
    );
    close.addEventListener("click", () => this.close());
    this.artifacts = new ArtifactPane(model, {
      timeZone: () => ctx.timeZone(),
      signal: ctx.signal,
    });
    this.title = h("span", { class: "kfp-pane-title" });
    this.content = h("div", { class: "kfp-pane-content" });
    this.root = h(
      "section",
      {
        class: "kfp-detail-pane",
        "data-testid": "run-detail-pane",
        "aria-label": "Run details",
        hidden: true,
        tabindex: -1,
      },
      h("div", { class: "kfp-pane-head" }, this.title, close),
      this.content,
    );
    this.root.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.stopPropagation();
        this.close();
      }
    });
  }

  get open(): boolean {
    return !this.root.hidden;
  }

  get shownRunId(): string {
    return this.open ? this.runId : "";
  }

  /** Show `runId`, asking the kernel for its detail. */
  async show(runId: string, name: string): Promise<void> {
    this.clear();
    if (runId !== this.runId) this.artifacts.close();
    this.runId = runId;
    this.collapsed = new Set();
    this.title.textContent = name || runId;
    this.content.replaceChildren(h("p", { class: "kfp-muted" }, "Loading run…"));
    this.root.hidden = false;
    this.root.focus();
    try {
      const { msg } = await request(
        this.model,
        { kind: "run_detail", run_id: runId },
        undefined,
        { timeoutMs: 60_000, signal: this.ctx.signal },
      );
      if (this.runId === runId && this.open) this.draw(msg);
    } catch (err) {
      if (this.runId !== runId || this.ctx.signal.aborted) return;
      this.content.replaceChildren(
        h(
          "p",
          { class: "kfp-error-text" },
          `Could not load run ${runId}: ${String((err as Error)?.message ?? err)}`,
        ),
      );
      this.ctx.onError(err);
    }
  }

  /** A pushed `run_detail` (no id): redraw if it is the run shown. */
  push(msg: Message): void {
    const run = msg.run as { run_id?: unknown } | undefined;
    if (this.open && run && run.run_id === this.runId) this.draw(msg);
  }

  /** Redraw the last detail (time zone or rules changed). */
  redraw(): void {
    if (this.open && this.last) this.draw(this.last);
  }

  close(): void {
    this.clear();
    this.artifacts.close();
    this.root.hidden = true;
    this.runId = "";
  }

  private clear(): void {
    this.undraw?.();
    this.undraw = null;
    this.last = null;
  }

  private draw(msg: Message): void {
    this.clear();
    this.last = msg;
    const host = h("div", { class: "kfp-pane-detail" });
    this.content.replaceChildren(host, this.artifacts.root);
    this.undraw = renderRunDetail(
      host,
      { run: msg.run, tasks: Array.isArray(msg.tasks) ? msg.tasks : [] },
      {
        timeZone: this.ctx.timeZone(),
        rules: this.ctx.rules(),
        collapsed: this.collapsed,
        onOpenArtifact: (taskId, artifact) => {
          const name = artifactName(artifact);
          const label = str(obj(artifact).name) || name;
          const ref = { run_id: this.runId, task_id: taskId, name };
          void this.artifacts.show(ref, label);
        },
      },
    );
  }
}
