// Artifact viewers (PROTOCOL.md "Artifact viewers"). The kernel turns an artifact
// into a view spec; `renderViewSpec` draws one anywhere (the viewer panel, the run
// view's artifact pane) and `renderArtifactViewer` is the `artifact_viewer` panel.
// Every string from a spec goes in as text; a malformed spec shows a message.
import type { AnyModel, RenderProps } from "@anywidget/types";
import { h } from "../lib/dom";
import { request } from "../lib/rpc";
import { renderBinary, renderTooLarge } from "./binary";
import { toBytes } from "./bytes";
import {
  arr,
  guarded,
  invalid,
  needArray,
  notice,
  obj,
  SpecError,
  str,
  viewerRoot,
  type Drawn,
  type Json,
  type ViewerContext,
} from "./common";
import { renderConfusion } from "./confusion";
import { saveBytes } from "./download";
import { renderHtml } from "./html";
import { renderImage } from "./image";
import { renderMarkdown } from "./markdown";
import { renderMetrics } from "./metrics";
import { renderRoc } from "./roc";
import { renderTable } from "./table";
import { renderText } from "./text";
import "./viewers.css";

export { saveBytes } from "./download";
export { toBytes } from "./bytes";

export interface ViewOptions {
  timeZone?: string;
  image?: Uint8Array;
  onDownload?: () => void;
}

type Viewer = (spec: Json, ctx: ViewerContext, depth: number) => Drawn;

const VIEWERS: Record<string, Viewer> = {
  metrics: renderMetrics,
  confusion_matrix: renderConfusion,
  roc: renderRoc,
  html: renderHtml,
  markdown: renderMarkdown,
  table: renderTable,
  image: renderImage,
  text: renderText,
  binary: renderBinary,
  too_large: renderTooLarge,
  error: renderError,
  stack: renderStack,
};

/** Nesting of `stack` specs drawn at most (a comparison of v1 outputs is 2 deep). */
export const MAX_STACK_DEPTH = 4;

/** Specs in one `stack` drawn at most. */
export const MAX_STACK_ITEMS = 50;

function renderError(spec: Json): Drawn {
  const message = str(spec.message) || "The artifact could not be read.";
  const banner = h("div", { class: "kfp-viewer-error", role: "alert" }, message);
  return { el: viewerRoot("error", banner) };
}

// Several specs of one artifact (v1 UI metadata, matrix + ROC) or of a comparison:
// each drawn with its own title; nested specs never carry image bytes.
function renderStack(spec: Json, ctx: ViewerContext, depth: number): Drawn {
  const specs = needArray(spec, "specs");
  if (depth >= MAX_STACK_DEPTH) {
    throw new SpecError(`specs nested deeper than ${MAX_STACK_DEPTH} levels`);
  }
  const row = spec.layout === "row";
  const root = viewerRoot("stack");
  root.classList.add(row ? "kfp-stack-row" : "kfp-stack-column");
  const inner: ViewerContext = { ...ctx, image: new Uint8Array(0) };
  const drawn = specs
    .slice(0, MAX_STACK_ITEMS)
    .map((s) => drawSpec(s, inner, depth + 1, sourceKey(spec)));
  for (const d of drawn) root.append(d.el);
  if (specs.length > MAX_STACK_ITEMS) {
    const cap = `cap: ${MAX_STACK_ITEMS} views`;
    root.append(
      notice(`Showing ${MAX_STACK_ITEMS} of ${specs.length} views (${cap}).`),
    );
  }
  if (!specs.length) root.append(notice("Nothing to show in this artifact."));
  return { el: root, cleanup: () => cleanupAll(drawn) };
}

function cleanupAll(drawn: Drawn[]): void {
  for (const d of drawn) d.cleanup?.();
}

/** Draw `spec` into `container` (replacing its content); returns the cleanup. */
export function renderViewSpec(
  container: HTMLElement,
  spec: unknown,
  opts: ViewOptions = {},
): () => void {
  const o = obj(opts) as ViewOptions;
  const ctx: ViewerContext = {
    timeZone: typeof o.timeZone === "string" ? o.timeZone : "",
    image: toBytes(o.image),
    onDownload: typeof o.onDownload === "function" ? o.onDownload : undefined,
  };
  const drawn = drawSpec(spec, ctx, 0);
  container.replaceChildren(drawn.el);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    try {
      drawn.cleanup?.();
    } finally {
      drawn.el.remove();
    }
  };
}

// One spec with its header and notes; the viewer's own exceptions become a message.
// `shown`: the source line of the enclosing stack, not repeated under each part.
function drawSpec(spec: unknown, ctx: ViewerContext, depth: number, shown = ""): Drawn {
  const s = obj(spec);
  const kind = str(s.kind);
  const viewer = Object.prototype.hasOwnProperty.call(VIEWERS, kind)
    ? VIEWERS[kind]
    : null;
  const body: Drawn = viewer
    ? guarded(kind, () => viewer(s, ctx, depth))
    : { el: unknownKind(spec, kind) };
  const el = h(
    "div",
    {
      class: depth ? "kfp-viewer-frame kfp-viewer-nested" : "kfp-nb kfp-viewer-frame",
      "data-testid": "artifact-view",
      "data-kind": kind,
    },
    header(s, shown),
    body.el,
  );
  // Inside the viewer's root, first: the notes belong to what it shows.
  const said = notes(s);
  if (said) body.el.prepend(said);
  return { el, cleanup: body.cleanup };
}

function unknownKind(spec: unknown, kind: string): HTMLElement {
  const why =
    spec === null || typeof spec !== "object" || Array.isArray(spec)
      ? "the view spec is not an object"
      : `unknown view kind ${JSON.stringify(kind)}`;
  return viewerRoot("unknown", invalid("artifact", why));
}

/** The kernel's `notes` (what it skipped or cut), shown above the content. */
function notes(spec: Json): HTMLElement | null {
  const items = arr(spec.notes).filter(
    (n): n is string => typeof n === "string" && n !== "",
  );
  if (!items.length) return null;
  return h(
    "ul",
    { class: "kfp-viewer-notes", "data-testid": "viewer-notes" },
    ...items.map((text) => h("li", null, text)),
  );
}

// The spec's title and where the artifact comes from, as text: names can hold
// markup (case 38) and must show it literally.
/** "run R · task T · artifact N · type X" and the URI of a spec's artifact. */
function sourceOf(spec: Json): { line: string; uri: string } {
  const a = obj(spec.artifact);
  const parts: [string, string][] = [
    ["run", str(a.run_id)],
    ["task", str(a.task_id)],
    ["artifact", str(a.name)],
    ["type", str(a.type)],
  ];
  const line = parts
    .filter(([, v]) => v)
    .map(([k, v]) => `${k} ${v}`)
    .join(" · ");
  return { line, uri: str(a.uri) };
}

/** A key that is equal for two specs of the same artifact. */
function sourceKey(spec: Json): string {
  return JSON.stringify(sourceOf(spec));
}

function header(spec: Json, shown: string): HTMLElement {
  const a = obj(spec.artifact);
  const title = str(spec.title) || str(a.name) || "Artifact";
  const head = h(
    "div",
    { class: "kfp-viewer-head" },
    h("div", { class: "kfp-viewer-title", "data-testid": "viewer-title" }, title),
  );
  if (sourceKey(spec) === shown) return head;
  const { line, uri } = sourceOf(spec);
  if (line) {
    const testid = "viewer-source";
    head.append(h("div", { class: "kfp-viewer-source", "data-testid": testid }, line));
  }
  if (uri) head.append(h("div", { class: "kfp-viewer-uri", title: uri }, uri));
  return head;
}

/** The `artifact_viewer` panel: traits `spec` and `image`, `download` requests. */
export function renderArtifactViewer({
  model,
  el,
}: Pick<RenderProps, "model" | "el">): () => void {
  const panel = new ViewerPanel(model, el);
  return () => panel.close();
}

/** Download requests may carry up to 200 MB: give the kernel time to read them. */
export const DOWNLOAD_TIMEOUT_MS = 300_000;

class ViewerPanel {
  private readonly root = h("div", {
    class: "kfp-nb kfp-artifact-viewer",
    "data-testid": "kfp-artifact-viewer",
  });
  private readonly banner = h("div", {
    class: "kfp-panel-error",
    role: "alert",
    "data-testid": "panel-error",
    hidden: true,
  });
  private readonly host = h("div", { class: "kfp-artifact-viewer-body" });
  private readonly offs: (() => void)[] = [];
  private readonly revokes: (() => void)[] = [];
  private readonly abort = new AbortController();
  private undraw: (() => void) | null = null;
  private downloadError = "";
  private downloading = false;

  constructor(
    private readonly model: AnyModel,
    el: HTMLElement,
  ) {
    this.root.append(this.banner, this.host);
    el.replaceChildren(this.root);
    for (const event of ["change:spec", "change:image", "change:time_zone"]) {
      this.on(event, () => this.draw());
    }
    this.on("change:error", () => this.showError());
    this.draw();
    this.showError();
  }

  private on(event: string, fn: () => void): void {
    this.model.on(event, fn);
    this.offs.push(() => this.model.off(event, fn));
  }

  private draw(): void {
    this.undraw?.();
    this.undraw = renderViewSpec(this.host, this.model.get("spec"), {
      timeZone: str(this.model.get("time_zone")),
      image: toBytes(this.model.get("image")),
      onDownload: () => void this.download(),
    });
  }

  /** Ask the kernel for the whole artifact and hand it to the browser as a file. */
  async download(): Promise<void> {
    if (this.downloading) return;
    this.downloading = true;
    this.setButtons(true);
    try {
      const { msg, buffers } = await request(
        this.model,
        { kind: "download" },
        undefined,
        {
          timeoutMs: DOWNLOAD_TIMEOUT_MS,
          signal: this.abort.signal,
        },
      );
      if (!buffers.length) throw new Error("the kernel sent no bytes");
      this.revokes.push(saveBytes(buffers[0], str(msg.name), str(msg.mime)));
      this.downloadError = "";
    } catch (err) {
      if (this.abort.signal.aborted) return;
      const why = err instanceof Error ? err.message : String(err);
      this.downloadError = `Download failed: ${why}`;
    } finally {
      this.downloading = false;
      this.setButtons(false);
      this.showError();
    }
  }

  private setButtons(busy: boolean): void {
    const buttons = this.host.querySelectorAll<HTMLButtonElement>(
      '[data-testid="viewer-download"]',
    );
    for (const b of Array.from(buttons)) {
      b.disabled = busy;
      b.textContent = busy ? "Downloading…" : "Download";
    }
  }

  private showError(): void {
    const messages = [str(this.model.get("error")), this.downloadError].filter(Boolean);
    this.banner.textContent = messages.join("\n");
    this.banner.hidden = messages.length === 0;
  }

  close(): void {
    this.abort.abort();
    for (const off of this.offs.splice(0)) off();
    for (const revoke of this.revokes.splice(0)) revoke();
    this.undraw?.();
    this.undraw = null;
    this.root.remove();
  }
}
