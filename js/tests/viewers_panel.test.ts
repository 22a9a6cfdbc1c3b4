import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { REVOKE_AFTER_MS } from "../src/viewers/download";
import { renderArtifactViewer } from "../src/viewers/index";
import { fakeBlobUrls, flush, q, spec, ViewerModel } from "./viewers_fake";

let blobs: ReturnType<typeof fakeBlobUrls>;
let cleanups: (() => void)[] = [];
beforeEach(() => {
  blobs = fakeBlobUrls();
});
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
  blobs.restore();
  vi.restoreAllMocks();
  vi.useRealTimers();
});

function setup(traits: Record<string, unknown>) {
  const model = new ViewerModel({
    _panel: "artifact_viewer",
    error: "",
    time_zone: "",
    ...traits,
  });
  const el = document.createElement("div");
  document.body.appendChild(el);
  const baseline = model.listenerCount();
  const stop = renderArtifactViewer({ model, el });
  const cleanup = (): void => {
    stop();
    el.remove();
  };
  cleanups.push(cleanup);
  return { model, el, stop, baseline };
}

/** Record clicks on <a download> instead of letting jsdom navigate. */
function recordClicks(): { href: string; download: string }[] {
  const clicks: { href: string; download: string }[] = [];
  vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (
    this: HTMLAnchorElement,
  ) {
    clicks.push({ href: this.href, download: this.download });
  });
  return clicks;
}

const bytes = (text: string): DataView => {
  const u8 = new TextEncoder().encode(text);
  return new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
};

describe("artifact_viewer panel", () => {
  it("draws the spec trait and redraws when it changes", () => {
    const { model, el } = setup({
      spec: spec("text", { text: "first" }),
      image: new DataView(new ArrayBuffer(0)),
    });
    expect(q(el, "kfp-artifact-viewer")).not.toBeNull();
    expect(q(el, "viewer-pre")?.textContent).toBe("first");
    expect(q(el, "viewer-title")?.textContent).toBe("A text");
    model.push("spec", spec("metrics", { groups: [{ title: "g", rows: [["a", 1]] }] }));
    expect(q(el, "viewer-text")).toBeNull();
    expect(q(el, "metric-value")?.textContent).toBe("1");
  });

  it("shows an image from the image trait and revokes its URL on redraw and close", () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);
    const { model, el, stop } = setup({
      spec: spec("image", { mime: "image/png" }),
      image: new DataView(png.buffer),
    });
    expect(q(el, "viewer-img")?.getAttribute("src")).toBe("blob:test/1");
    model.push("image", new DataView(new Uint8Array([1, 2, 3]).buffer));
    expect(blobs.revoked).toEqual(["blob:test/1"]);
    expect(q(el, "viewer-img")?.getAttribute("src")).toBe("blob:test/2");
    stop();
    expect(blobs.revoked).toEqual(["blob:test/1", "blob:test/2"]);
  });

  it("shows the error trait in panel-error", () => {
    const { model, el } = setup({ spec: spec("text", { text: "x" }), error: "" });
    const banner = q(el, "panel-error")!;
    expect(banner.hidden).toBe(true);
    model.push("error", "server said <no>");
    expect(banner.hidden).toBe(false);
    expect(banner.textContent).toBe("server said <no>");
  });

  it("downloads: asks the kernel, saves the reply's bytes under its name and mime, revokes", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const clicks = recordClicks();
    const { model, el } = setup({
      spec: spec("binary", { size: 5, sniffed: "x", hex: "00" }),
    });
    const button = q(el, "viewer-download") as HTMLButtonElement;
    button.click();
    expect(model.sent).toHaveLength(1);
    expect(model.sent[0]).toMatchObject({ kind: "download" });
    expect(typeof model.sent[0].id).toBe("string");
    expect((q(el, "viewer-download") as HTMLButtonElement).disabled).toBe(true);
    button.click(); // a second click while one is in flight sends nothing
    expect(model.sent).toHaveLength(1);

    model.reply({ ok: true, name: "reports/out.bin", mime: "application/x-thing" }, [
      bytes("hello"),
    ]);
    await vi.advanceTimersByTimeAsync(0);
    expect(clicks).toEqual([{ href: "blob:test/1", download: "out.bin" }]);
    const blob = blobs.created[0].blob;
    expect(blob.type).toBe("application/x-thing");
    expect(await blob.text()).toBe("hello");
    expect(document.querySelectorAll("a[download]")).toHaveLength(0);
    expect((q(el, "viewer-download") as HTMLButtonElement).disabled).toBe(false);
    expect(blobs.revoked).toEqual([]);
    await vi.advanceTimersByTimeAsync(REVOKE_AFTER_MS);
    expect(blobs.revoked).toEqual(["blob:test/1"]);
    expect(q(el, "panel-error")!.hidden).toBe(true);
  });

  it("shows a failed download in panel-error and keeps the viewer", async () => {
    const clicks = recordClicks();
    const { model, el } = setup({ spec: spec("too_large", { size: 10, cap: 5 }) });
    (q(el, "viewer-download") as HTMLButtonElement).click();
    model.reply({ ok: false, error: "read_artifact failed for run run-1: 404" });
    await flush();
    const banner = q(el, "panel-error")!;
    expect(banner.hidden).toBe(false);
    expect(banner.textContent).toBe(
      "Download failed: read_artifact failed for run run-1: 404",
    );
    expect(clicks).toHaveLength(0);
    expect(q(el, "viewer-too_large")).not.toBeNull();
  });

  it("refuses a reply without bytes", async () => {
    recordClicks();
    const { model, el } = setup({ spec: spec("too_large", { size: 10, cap: 5 }) });
    (q(el, "viewer-download") as HTMLButtonElement).click();
    model.reply({ ok: true, name: "x", mime: "text/plain" });
    await flush();
    expect(q(el, "panel-error")?.textContent).toContain("the kernel sent no bytes");
    expect(blobs.created).toHaveLength(0);
  });

  it("survives a missing or malformed spec trait", () => {
    const { model, el } = setup({ spec: undefined });
    expect(q(el, "viewer-invalid")?.textContent).toContain("not an object");
    model.push("spec", { kind: "confusion_matrix", labels: ["a"], matrix: [[1, 2]] });
    expect(q(el, "viewer-invalid")?.textContent).toContain("row 1 (a) has 2 cells");
  });

  it("removes every listener on close and ignores a late download reply", async () => {
    const clicks = recordClicks();
    const { model, el, stop, baseline } = setup({
      spec: spec("binary", { size: 1, sniffed: "x", hex: "" }),
    });
    (q(el, "viewer-download") as HTMLButtonElement).click();
    stop();
    expect(model.listenerCount()).toBe(baseline);
    model.reply({ ok: true, name: "x", mime: "text/plain" }, [bytes("late")]);
    await flush();
    expect(clicks).toHaveLength(0);
    expect(el.childElementCount).toBe(0);
  });
});
