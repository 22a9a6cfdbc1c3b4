// Shared pieces of the viewer tests: spec builders, a DOM host, and a stand-in for
// the anywidget model that records what the panel sends and can answer with buffers.
import { renderViewSpec, type ViewOptions } from "../src/viewers/index";
import { FakeModel } from "./run_view_helpers";

export const ARTIFACT = {
  run_id: "run-1",
  task_id: "task-1",
  name: "metrics",
  type: "system.Metrics",
  uri: "minio://bucket/run-1/metrics",
};

/** A spec of `kind` with the common fields filled in. */
export function spec(
  kind: string,
  fields: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    kind,
    title: `A ${kind}`,
    artifact: ARTIFACT,
    size: 100,
    caps: { bytes: 1_000_000, rows: 1000 },
    ...fields,
  };
}

export const q = (el: ParentNode, id: string): HTMLElement | null =>
  el.querySelector(`[data-testid="${id}"]`);
export const qa = (el: ParentNode, id: string): HTMLElement[] =>
  Array.from(el.querySelectorAll<HTMLElement>(`[data-testid="${id}"]`));

const hosts: { el: HTMLElement; stop: () => void }[] = [];

/** Render `s` into a fresh connected host; `cleanupAll` removes every host. */
export function show(
  s: unknown,
  opts: ViewOptions = {},
): { el: HTMLElement; stop: () => void } {
  const el = document.createElement("div");
  document.body.appendChild(el);
  const stop = renderViewSpec(el, s, opts);
  const entry = { el, stop };
  hosts.push(entry);
  return entry;
}

export function cleanupAll(): void {
  for (const { el, stop } of hosts.splice(0)) {
    stop();
    el.remove();
  }
}


/** A model double: traits in a map, listeners by event, sent messages recorded. */
/** The shared model double, plus answering the panel's last request. */
export class ViewerModel extends FakeModel {
  /** Answer the last request the panel sent. */
  reply(fields: Record<string, unknown>, buffers: DataView[] = []): void {
    const last = this.sent[this.sent.length - 1];
    this.receive({ kind: last.kind, id: last.id, ...fields }, buffers);
  }
}

export const flush = (): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, 0));

/** Replace URL.createObjectURL/revokeObjectURL with recorders (jsdom has neither). */
export function fakeBlobUrls(): {
  created: { url: string; blob: Blob }[];
  revoked: string[];
  restore: () => void;
} {
  const created: { url: string; blob: Blob }[] = [];
  const revoked: string[] = [];
  const saved = { create: URL.createObjectURL, revoke: URL.revokeObjectURL };
  URL.createObjectURL = (blob: Blob): string => {
    const url = `blob:test/${created.length + 1}`;
    created.push({ url, blob });
    return url;
  };
  URL.revokeObjectURL = (url: string): void => {
    revoked.push(url);
  };
  const restore = (): void => {
    URL.createObjectURL = saved.create;
    URL.revokeObjectURL = saved.revoke;
  };
  return { created, revoked, restore };
}
