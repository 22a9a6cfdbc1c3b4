import { afterEach, describe, expect, it } from "vitest";
import { CSP, frameDocument, SANDBOX } from "../src/viewers/html";
import { cleanupAll, q, qa, show, spec } from "./viewers_fake";

afterEach(cleanupAll);

const HOSTILE = `</iframe><script>parent.document.body.innerHTML = "owned"</script>
<img src=x onerror="top.location='https://example.invalid'">
<script>fetch("/api/contents"); document.cookie; localStorage.setItem("k", "v")</script>`;

describe("HTML viewer", () => {
  it("renders only inside an iframe sandboxed to scripts alone", () => {
    const { el } = show(spec("html", { html: "<h1>Report</h1>" }));
    const frames = qa(el, "html-frame");
    expect(frames).toHaveLength(1);
    const frame = frames[0] as HTMLIFrameElement;
    expect(frame.tagName).toBe("IFRAME");
    expect(frame.getAttribute("sandbox")).toBe("allow-scripts");
    expect(SANDBOX).toBe("allow-scripts");
    expect(frame.getAttribute("referrerpolicy")).toBe("no-referrer");
    expect(frame.hasAttribute("src")).toBe(false);
    expect(frame.hasAttribute("allow")).toBe(false);
    // The report itself is nowhere in the page, only in the frame's srcdoc.
    expect(el.querySelector("h1")).toBeNull();
    expect(frame.getAttribute("srcdoc")).toContain("<h1>Report</h1>");
  });

  it("puts a network-blocking CSP before the artifact's markup", () => {
    const { el } = show(spec("html", { html: HOSTILE }));
    const srcdoc = q(el, "html-frame")!.getAttribute("srcdoc")!;
    const meta = `<meta http-equiv="Content-Security-Policy" content="${CSP}">`;
    expect(srcdoc.startsWith(meta)).toBe(true);
    expect(CSP).toContain("default-src 'none'");
    expect(CSP).toContain("img-src data:");
    expect(CSP).not.toMatch(/connect-src|https?:|'self'|\*/);
    expect(srcdoc.indexOf(meta)).toBeLessThan(srcdoc.indexOf("<script>"));
    expect(frameDocument("x")).toBe(
      `${meta}<meta name="referrer" content="no-referrer">x`,
    );
  });

  it("keeps hostile markup out of the page (it stays an attribute value)", () => {
    const { el } = show(spec("html", { html: HOSTILE }));
    expect(document.querySelectorAll("script")).toHaveLength(0);
    expect(el.querySelectorAll("img")).toHaveLength(0);
    expect(qa(el, "html-frame")).toHaveLength(1);
    expect(document.body.innerHTML).not.toContain("owned</");
    const frame = q(el, "html-frame") as HTMLIFrameElement;
    expect(frame.getAttribute("srcdoc")).toContain(HOSTILE);
  });

  it("gives the frame a fixed height in a resizable wrapper", () => {
    const { el } = show(spec("html", { html: "<p>x</p>" }));
    const wrap = q(el, "html-wrap")!;
    expect(wrap.style.height).toBe("420px");
    expect(wrap.classList.contains("kfp-html-wrap")).toBe(true);
  });

  it("renders an empty document and refuses a spec without html", () => {
    expect(q(show(spec("html", { html: "" })).el, "html-frame")).not.toBeNull();
    for (const html of [undefined, 42, { a: 1 }]) {
      const { el } = show(spec("html", { html }));
      expect(q(el, "viewer-html")).not.toBeNull();
      expect(q(el, "html-frame")).toBeNull();
      expect(q(el, "viewer-invalid")?.textContent).toContain('"html"');
    }
  });

  it("passes a large document through whole (the kernel applies the cap)", () => {
    const big = `<p>${"x".repeat(3_000_000)}</p>`;
    const { el } = show(spec("html", { html: big }));
    expect(q(el, "html-frame")!.getAttribute("srcdoc")!.length).toBeGreaterThan(
      3_000_000,
    );
  });

  it("drops the srcdoc on cleanup", () => {
    const { el, stop } = show(spec("html", { html: "<p>x</p>" }));
    const frame = q(el, "html-frame")!;
    stop();
    expect(frame.hasAttribute("srcdoc")).toBe(false);
  });
});
