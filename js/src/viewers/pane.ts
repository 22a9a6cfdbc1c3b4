// The artifact pane of the run view and the run table's detail: a task output opened
// from the artifacts table is asked for with `open_artifact`, drawn with the same
// viewers as the viewer panel, and closed with its button or Escape. Its download
// names the artifact, as the pane is not a panel of its own (PROTOCOL.md).
import type { AnyModel } from "@anywidget/types";
import { h } from "../lib/dom";
import { request, type Reply } from "../lib/rpc";
import { toBytes } from "./bytes";
import { obj, str } from "./common";
import { saveBytes } from "./download";
import { DOWNLOAD_TIMEOUT_MS, renderViewSpec } from "./index";

export interface PaneOptions {
  /** The zone the host panel shows times in. */
  timeZone: () => string;
  /** Aborted when the host panel goes away. */
  signal?: AbortSignal;
}

/** What `open_artifact` and `download` name: run, task and artifact. */
export interface ArtifactRef {
  run_id: string;
  task_id: string;
  name: string;
}

/**
 * The `name` to ask for a task output by: its artifact id when the server gave one
 * (unique), else its name.
 */
export function artifactName(raw: unknown): string {
  const a = obj(raw);
  return str(a.artifact_id) || str(a.name);
}

/** Opening an artifact waits as long as reading a large file may take. */
export const OPEN_TIMEOUT_MS = 120_000;

export class ArtifactPane {
  readonly root: HTMLElement;
  private readonly title = h("span", { class: "kfp-pane-title" });
  private readonly message = h("div", {
    class: "kfp-viewer-invalid",
    role: "alert",
    "data-testid": "artifact-pane-error",
    hidden: true,
  });
  private readonly body = h("div", { class: "kfp-artifact-pane-body" });
  private readonly revokes: (() => void)[] = [];
  private ref: ArtifactRef | null = null;
  private inflight: AbortController | null = null;
  private undraw: (() => void) | null = null;
  private downloading = false;

  constructor(
    private readonly model: AnyModel,
    private readonly opts: PaneOptions,
  ) {
    const close = h(
      "button",
      {
        type: "button",
        class: "kfp-icon-button",
        "data-testid": "artifact-close",
        "aria-label": "Close artifact",
        title: "Close (Esc)",
      },
      "×",
    );
    close.addEventListener("click", () => this.close());
    this.root = h(
      "section",
      {
        class: "kfp-nb kfp-artifact-pane",
        "data-testid": "artifact-pane",
        "aria-label": "Artifact",
        hidden: true,
        tabindex: -1,
      },
      h("div", { class: "kfp-artifact-pane-head" }, this.title, close),
      this.message,
      this.body,
    );
    this.root.addEventListener("keydown", (e) => {
      if (e.key !== "Escape") return;
      e.stopPropagation();
      this.close();
    });
    opts.signal?.addEventListener("abort", () => this.dispose());
  }

  get open(): boolean {
    return !this.root.hidden;
  }

  /** The artifact shown (or being loaded), null when closed. */
  get shown(): ArtifactRef | null {
    return this.open ? this.ref : null;
  }

  /** Ask the kernel for the artifact's view spec and show it; a newer call wins. */
  async show(ref: ArtifactRef, label = ""): Promise<void> {
    this.reset();
    this.ref = { ...ref };
    this.title.textContent = label || ref.name;
    this.body.replaceChildren(h("p", { class: "kfp-muted" }, "Loading artifact…"));
    this.root.hidden = false;
    this.root.focus({ preventScroll: true });
    this.root.scrollIntoView?.({ block: "nearest" });
    const ctl = new AbortController();
    this.inflight = ctl;
    try {
      const reply = await request(
        this.model,
        { kind: "open_artifact", ...ref },
        undefined,
        { timeoutMs: OPEN_TIMEOUT_MS, signal: ctl.signal },
      );
      if (this.inflight === ctl) this.draw(reply);
    } catch (err) {
      if (ctl.signal.aborted || this.inflight !== ctl) return;
      this.body.replaceChildren();
      this.fail(`Could not open ${ref.name}`, err);
    } finally {
      if (this.inflight === ctl) this.inflight = null;
    }
  }

  private draw({ msg, buffers }: Reply): void {
    this.undraw = renderViewSpec(this.body, msg.spec, {
      timeZone: this.opts.timeZone(),
      image: toBytes(buffers[0]),
      onDownload: () => void this.download(),
    });
  }

  /** Fetch the whole artifact shown and hand it to the browser as a file. */
  async download(): Promise<void> {
    const ref = this.ref;
    if (!ref || this.downloading) return;
    this.downloading = true;
    this.setButtons(true);
    try {
      const { msg, buffers } = await request(
        this.model,
        { kind: "download", ...ref },
        undefined,
        { timeoutMs: DOWNLOAD_TIMEOUT_MS, signal: this.opts.signal },
      );
      if (!buffers.length) throw new Error("the kernel sent no bytes");
      this.revokes.push(saveBytes(buffers[0], str(msg.name), str(msg.mime)));
      this.message.hidden = true;
    } catch (err) {
      if (!this.opts.signal?.aborted) this.fail(`Download of ${ref.name} failed`, err);
    } finally {
      this.downloading = false;
      this.setButtons(false);
    }
  }

  private setButtons(busy: boolean): void {
    const selector = '[data-testid="viewer-download"]';
    for (const b of Array.from(
      this.body.querySelectorAll<HTMLButtonElement>(selector),
    )) {
      b.disabled = busy;
      b.textContent = busy ? "Downloading…" : "Download";
    }
  }

  private fail(what: string, err: unknown): void {
    const why = err instanceof Error ? err.message : String(err);
    this.message.textContent = `${what}: ${why}`;
    this.message.hidden = false;
  }

  private reset(): void {
    this.inflight?.abort();
    this.inflight = null;
    this.undraw?.();
    this.undraw = null;
    this.message.hidden = true;
    this.message.textContent = "";
  }

  /** Hide the pane and drop what it showed. */
  close(): void {
    this.reset();
    this.body.replaceChildren();
    this.root.hidden = true;
    this.ref = null;
  }

  /** Close and revoke every download URL (the host panel is going away). */
  dispose(): void {
    this.close();
    for (const revoke of this.revokes.splice(0)) revoke();
  }
}
