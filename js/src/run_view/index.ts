// The run view panel (`_panel == "run_view"`): one run's detail, full size. It asks
// the kernel with a `run_detail` request on render, redraws on the kernel's
// unsolicited `run_detail` pushes while it polls an active run, and shows server and
// network errors in a banner inside the panel (PROTOCOL.md "Run view").
import type { AnyModel, RenderProps } from "@anywidget/types";
import { h } from "../lib/dom";
import { formatTime } from "../lib/format";
import { dispatch, request, type Message } from "../lib/rpc";
import { normalizeRules } from "../lib/states";
import { ArtifactPane, artifactName } from "../viewers/pane";
import { renderRunDetail, type RunDetail } from "./detail";
import { obj, parseTime, str } from "./wire";

export { renderRunDetail } from "./detail";

/** Render the panel into `el`; the returned function detaches every listener. */
export function renderRunView({ model, el }: Pick<RenderProps, "model" | "el">): () => void {
  const view = new RunView(model, el);
  view.load();
  return () => view.close();
}

class RunView {
  private readonly root = h("div", { class: "kfp-nb kfp-run-view", "data-testid": "kfp-run-view" });
  private readonly banner = h("div", {
    class: "kfp-panel-error",
    role: "alert",
    "data-testid": "panel-error",
    hidden: true,
  });
  private readonly updated = h("span", { "data-testid": "updated-at" });
  private readonly polling = h("input", { type: "checkbox", "data-testid": "polling-toggle" });
  private readonly body = h("div", { class: "kfp-run-view-body" });
  private readonly artifacts: ArtifactPane;
  private readonly collapsed = new Set<string>();
  private readonly offs: (() => void)[] = [];
  private detail: RunDetail | null = null;
  private dropDetail: (() => void) | null = null;
  private requestError = "";
  private inflight: AbortController | null = null;
  private closed = false;

  constructor(
    private readonly model: AnyModel,
    el: HTMLElement,
  ) {
    const refresh = h("button", { type: "button", class: "kfp-button" }, "Refresh");
    refresh.addEventListener("click", () => this.load());
    this.polling.addEventListener("change", () => {
      this.model.set("polling", this.polling.checked);
      this.model.save_changes();
    });
    const bar = h(
      "div",
      { class: "kfp-run-view-bar" },
      h("label", null, this.polling, " Live updates"),
      this.updated,
      refresh,
    );
    this.artifacts = new ArtifactPane(model, { timeZone: () => this.zone() });
    this.root.append(bar, this.banner, this.body, this.artifacts.root);
    el.replaceChildren(this.root);
    this.body.textContent = "Loading run…";
    this.listen();
    this.syncTraits();
    this.showError();
  }

  private listen(): void {
    const on = (event: string, fn: () => void): void => {
      this.model.on(event, fn);
      this.offs.push(() => this.model.off(event, fn));
    };
    on("change:error", () => this.showError());
    on("change:updated_at", () => this.syncTraits());
    on("change:polling", () => this.syncTraits());
    on("change:time_zone", () => this.draw());
    on("change:rules", () => this.draw());
    on("change:run_id", () => {
      this.artifacts.close();
      this.detail = null;
      this.collapsed.clear();
      this.load();
    });
    this.offs.push(
      dispatch(this.model, { run_detail: (msg) => this.accept(msg) }, (err) => this.fail(err)),
    );
  }

  /** Ask the kernel for the run; a newer request supersedes an older one. */
  load(): void {
    this.inflight?.abort();
    const runId = this.runId();
    if (!runId) {
      this.body.textContent = "No run to show: the run_id trait is empty.";
      return;
    }
    const ctl = new AbortController();
    this.inflight = ctl;
    request(this.model, { kind: "run_detail", run_id: runId }, undefined, { signal: ctl.signal })
      .then(({ msg }) => this.accept(msg))
      .catch((err: unknown) => {
        if (!ctl.signal.aborted) this.fail(err);
      })
      .finally(() => {
        if (this.inflight === ctl) this.inflight = null;
      });
  }

  private accept(msg: Message): void {
    if (this.closed) return;
    const shown = str(obj(msg.run).run_id);
    // A push for a run this view no longer shows (run_id changed meanwhile).
    if (shown && this.runId() && shown !== this.runId()) return;
    this.detail = { run: msg.run, tasks: msg.tasks };
    this.requestError = "";
    this.draw();
    this.showError();
  }

  private fail(err: unknown): void {
    if (this.closed) return;
    this.requestError = err instanceof Error ? err.message : String(err);
    this.showError();
    if (!this.detail) this.body.textContent = "The run could not be loaded.";
  }

  private draw(): void {
    if (this.closed || !this.detail) return;
    this.dropDetail?.();
    this.dropDetail = renderRunDetail(this.body, this.detail, {
      timeZone: this.zone(),
      rules: normalizeRules(this.model.get("rules")),
      collapsed: this.collapsed,
      onOpenArtifact: (taskId, artifact) => this.openArtifact(taskId, artifact),
    });
    this.syncTraits();
  }

  /** A task output opened from the artifacts table: shown in the pane below. */
  private openArtifact(taskId: string, artifact: unknown): void {
    const name = artifactName(artifact);
    const label = str(obj(artifact).name) || name;
    void this.artifacts.show({ run_id: this.runId(), task_id: taskId, name }, label);
  }

  private showError(): void {
    const messages = [str(this.model.get("error")), this.requestError].filter(Boolean);
    this.banner.textContent = messages.join("\n");
    this.banner.hidden = messages.length === 0;
  }

  private syncTraits(): void {
    this.polling.checked = Boolean(this.model.get("polling"));
    const at = formatTime(parseTime(this.model.get("updated_at")), this.zone());
    this.updated.textContent = at ? `Updated ${at}` : "Not updated yet";
  }

  private runId(): string {
    return str(this.model.get("run_id"));
  }

  private zone(): string {
    return str(this.model.get("time_zone"));
  }

  close(): void {
    this.closed = true;
    this.inflight?.abort();
    for (const off of this.offs.splice(0)) off();
    this.dropDetail?.();
    this.artifacts.dispose();
    this.root.remove();
  }
}
