import { afterEach, describe, expect, it, vi } from "vitest";
import { MAX_TEXT_CHARS } from "../src/viewers/text";
import { cleanupAll, q, show, spec } from "./viewers_fake";

afterEach(cleanupAll);

describe("text viewer", () => {
  it("shows the text in a <pre>, literally", () => {
    const text = '{\n  "a": "<script>x</script>"\n}';
    const { el } = show(spec("text", { text, language: "json" }));
    const pre = q(el, "viewer-pre")!;
    expect(pre.tagName).toBe("PRE");
    expect(pre.textContent).toBe(text);
    expect(pre.classList.contains("kfp-lang-json")).toBe(true);
    expect(el.querySelector("script")).toBeNull();
    expect(q(el, "viewer-truncated")).toBeNull();
  });

  it("names the cap when the kernel cut the text", () => {
    const { el } = show(
      spec("text", { text: "abc", size: 3_145_728, caps: { bytes: 1_048_576 } }),
    );
    expect(q(el, "viewer-truncated")?.textContent).toBe(
      "Truncated: showing the first 1 MB of 3 MB (cap: bytes=1048576).",
    );
    const flagged = show(
      spec("text", { text: "abc", truncated: true, size: null, caps: {} }),
    ).el;
    expect(q(flagged, "viewer-truncated")?.textContent).toBe(
      "Truncated: showing the first part.",
    );
  });

  it("cuts text past its own cap", () => {
    const { el } = show(spec("text", { text: "x".repeat(MAX_TEXT_CHARS + 1) }));
    expect(q(el, "viewer-pre")?.textContent?.length).toBe(MAX_TEXT_CHARS);
    expect(q(el, "viewer-truncated")?.textContent).toContain("2,000,000 characters");
  });

  it("says an empty artifact is empty; refuses text that is not text", () => {
    expect(show(spec("text", { text: "" })).el.textContent).toContain(
      "This artifact is empty",
    );
    const { el } = show(spec("text", { text: null }));
    expect(q(el, "viewer-text")).not.toBeNull();
    expect(q(el, "viewer-invalid")?.textContent).toContain('"text" is null');
  });
});

describe("binary viewer", () => {
  const hex = "00000000  89 50 4e 47 0d 0a 1a 0a  |.PNG....|";

  it("shows size, sniffed type, hex dump and a working download button", () => {
    const onDownload = vi.fn();
    const { el } = show(
      spec("binary", { size: 2048, sniffed: "application/zip", hex }),
      { onDownload },
    );
    expect(q(el, "binary-size")?.textContent).toBe("2 KB (2,048 bytes)");
    expect(q(el, "binary-type")?.textContent).toBe("application/zip");
    expect(q(el, "binary-hex")?.textContent).toBe(hex);
    const button = q(el, "viewer-download") as HTMLButtonElement;
    expect(button.disabled).toBe(false);
    button.click();
    expect(onDownload).toHaveBeenCalledTimes(1);
  });

  it("disables the download where nobody can answer it", () => {
    const { el } = show(spec("binary", { size: 1, sniffed: "x", hex }));
    const button = q(el, "viewer-download") as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    expect(button.title).toContain("not available");
  });

  it("copes with empty and malformed fields", () => {
    const { el } = show(spec("binary", { size: "big", sniffed: 3, hex: 7 }));
    expect(q(el, "binary-size")?.textContent).toBe("unknown size");
    expect(q(el, "binary-type")?.textContent).toBe("3");
    expect(el.textContent).toContain("No preview bytes");
    const long = show(
      spec("binary", { size: 1, sniffed: "x", hex: "0".repeat(200_000) }),
    ).el;
    expect(q(long, "binary-hex")?.textContent?.length).toBe(64_000);
  });
});

describe("too_large viewer", () => {
  it("names size and cap and offers the download", () => {
    const onDownload = vi.fn();
    const s = spec("too_large", {
      size: 12 * 1024 * 1024,
      cap: 5 * 1024 * 1024,
      sniffed: "text/html",
    });
    const { el } = show(s, { onDownload });
    expect(q(el, "too-large-message")?.textContent).toBe(
      "This text/html artifact is 12 MB, above the viewer cap of 5 MB (bytes=5242880). Download it to open it.",
    );
    (q(el, "viewer-download") as HTMLButtonElement).click();
    expect(onDownload).toHaveBeenCalledTimes(1);
  });

  it("prefers the kernel's message, which names the option to raise", () => {
    const message =
      "artifact 'r' is 9,000 bytes, over the cap of 10 bytes (cap: html_max_bytes=10)";
    const { el } = show(
      spec("too_large", { size: 9000, cap: 10, sniffed: "html", message }),
    );
    expect(q(el, "too-large-message")?.textContent).toBe(message);
  });

  it("falls back to caps.bytes and to unknown sizes", () => {
    const { el } = show(spec("too_large", { size: null, caps: { bytes: 1024 } }));
    expect(q(el, "too-large-message")?.textContent).toBe(
      "This artifact is of unknown size, above the viewer cap of 1 KB (bytes=1024). Download it to open it.",
    );
  });
});
