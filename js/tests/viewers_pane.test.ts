import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ArtifactPane, artifactName } from "../src/viewers/pane";
import { fakeBlobUrls, flush, q, spec, ViewerModel } from "./viewers_fake";

let blobs: ReturnType<typeof fakeBlobUrls>;
const panes: ArtifactPane[] = [];
beforeEach(() => {
  blobs = fakeBlobUrls();
});
afterEach(() => {
  for (const p of panes.splice(0)) {
    p.dispose();
    p.root.remove();
  }
  blobs.restore();
  vi.restoreAllMocks();
});

const REF = { run_id: "run-1", task_id: "task-1", name: "art-1" };

function setup(signal?: AbortSignal) {
  const model = new ViewerModel({});
  const pane = new ArtifactPane(model, { timeZone: () => "UTC", signal });
  document.body.append(pane.root);
  panes.push(pane);
  return { model, pane };
}

describe("artifactName", () => {
  it("prefers the artifact id, then the name", () => {
    expect(artifactName({ artifact_id: "a-1", name: "model" })).toBe("a-1");
    expect(artifactName({ name: "model" })).toBe("model");
    expect(artifactName(null)).toBe("");
  });
});

describe("ArtifactPane", () => {
  it("asks the kernel with open_artifact and shows the reply's spec", async () => {
    const { model, pane } = setup();
    expect(pane.root.hidden).toBe(true);
    void pane.show(REF, "evaluate · metrics");
    expect(pane.root.hidden).toBe(false);
    expect(model.sent).toHaveLength(1);
    expect(model.sent[0]).toMatchObject({ kind: "open_artifact", ...REF });
    expect(pane.root.textContent).toContain("Loading artifact");
    model.reply({ ok: true, spec: spec("text", { text: "<b>body</b>" }) });
    await flush();
    expect(q(pane.root, "viewer-pre")?.textContent).toBe("<b>body</b>");
    expect(pane.root.querySelector(".kfp-pane-title")?.textContent).toBe(
      "evaluate · metrics",
    );
    expect(pane.shown).toEqual(REF);
  });

  it("shows an image from the reply's buffer", async () => {
    const { model, pane } = setup();
    void pane.show(REF);
    const png = new Uint8Array([0x89, 0x50]);
    model.reply({ ok: true, spec: spec("image", { mime: "image/png" }) }, [
      new DataView(png.buffer),
    ]);
    await flush();
    expect(q(pane.root, "viewer-img")?.getAttribute("src")).toBe("blob:test/1");
    pane.close();
    expect(blobs.revoked).toEqual(["blob:test/1"]);
  });

  it("closes with its button and with Escape", async () => {
    const { model, pane } = setup();
    void pane.show(REF);
    model.reply({ ok: true, spec: spec("text", { text: "x" }) });
    await flush();
    (q(pane.root, "artifact-close") as HTMLButtonElement).click();
    expect(pane.root.hidden).toBe(true);
    expect(q(pane.root, "viewer-text")).toBeNull();
    expect(pane.shown).toBeNull();

    void pane.show(REF);
    pane.root.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape" }));
    expect(pane.root.hidden).toBe(true);
  });

  it("shows the kernel's error in the pane, as text", async () => {
    const { model, pane } = setup();
    void pane.show(REF);
    model.reply({ ok: false, error: "task <x> has no output art-1" });
    await flush();
    const box = q(pane.root, "artifact-pane-error")!;
    expect(box.hidden).toBe(false);
    expect(box.textContent).toBe("Could not open art-1: task <x> has no output art-1");
    expect(pane.root.querySelector("x")).toBeNull();
  });

  it("lets a newer open win over an older reply", async () => {
    const { model, pane } = setup();
    void pane.show(REF);
    const first = model.sent[0];
    void pane.show({ ...REF, name: "art-2" });
    model.receive({
      kind: "open_artifact",
      id: first.id,
      ok: true,
      spec: spec("text", { text: "old" }),
    });
    model.reply({ ok: true, spec: spec("text", { text: "new" }) });
    await flush();
    expect(q(pane.root, "viewer-pre")?.textContent).toBe("new");
    expect(pane.shown?.name).toBe("art-2");
  });

  it("downloads the artifact it shows, naming it in the request", async () => {
    const clicks: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (
      this: HTMLAnchorElement,
    ) {
      clicks.push(this.download);
    });
    const { model, pane } = setup();
    void pane.show(REF);
    model.reply({
      ok: true,
      spec: spec("binary", { size: 3, sniffed: "x", hex: "00" }),
    });
    await flush();
    (q(pane.root, "viewer-download") as HTMLButtonElement).click();
    expect(model.sent[1]).toMatchObject({ kind: "download", ...REF });
    const data = new TextEncoder().encode("abc");
    model.reply({ ok: true, name: "w.bin", mime: "application/octet-stream" }, [
      new DataView(data.buffer),
    ]);
    await flush();
    expect(clicks).toEqual(["w.bin"]);
    expect(await blobs.created[0].blob.text()).toBe("abc");
    pane.dispose();
    expect(blobs.revoked).toContain("blob:test/1");
  });

  it("shows a failed download in the pane", async () => {
    const { model, pane } = setup();
    void pane.show(REF);
    model.reply({ ok: true, spec: spec("too_large", { size: 9, cap: 1 }) });
    await flush();
    (q(pane.root, "viewer-download") as HTMLButtonElement).click();
    model.reply({ ok: false, error: "over 200 MB" });
    await flush();
    expect(q(pane.root, "artifact-pane-error")?.textContent).toBe(
      "Download of art-1 failed: over 200 MB",
    );
    expect(q(pane.root, "viewer-too_large")).not.toBeNull();
  });

  it("closes itself when the host panel goes away", async () => {
    const ctl = new AbortController();
    const { model, pane } = setup(ctl.signal);
    void pane.show(REF);
    ctl.abort();
    model.reply({ ok: true, spec: spec("text", { text: "late" }) });
    await flush();
    expect(pane.root.hidden).toBe(true);
    expect(q(pane.root, "viewer-text")).toBeNull();
    expect(model.listenerCount()).toBe(0);
  });
});
