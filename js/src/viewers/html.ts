// HTML artifacts run only inside a sandboxed iframe: scripts may run, but in an
// opaque origin (no allow-same-origin), unable to navigate the page, open windows,
// submit forms or show dialogs; a CSP placed before the artifact's own markup blocks
// every network request, so it cannot reach the notebook server either.
import { h } from "../lib/dom";
import { needString, viewerRoot, type Drawn, type Json } from "./common";

/** The iframe's sandbox: scripts and nothing else. */
export const SANDBOX = "allow-scripts";

/** No fetch, XHR, WebSocket, frame, font or remote image; inline style/script only. */
export const CSP = [
  "default-src 'none'",
  "img-src data:",
  "style-src 'unsafe-inline'",
  "script-src 'unsafe-inline'",
].join("; ");

/** Initial frame height in CSS pixels; the wrapper has a resize handle. */
export const FRAME_HEIGHT = 420;

/** The srcdoc: the CSP meta comes first so it governs everything that follows. */
export function frameDocument(html: string): string {
  const meta = `<meta http-equiv="Content-Security-Policy" content="${CSP}">`;
  return `${meta}<meta name="referrer" content="no-referrer">${html}`;
}

// Limitation: a script in the frame can still navigate the frame itself (a GET whose
// answer it cannot read) — no CSP directive that browsers ship restricts navigation.
export function renderHtml(spec: Json): Drawn {
  const html = needString(spec, "html");
  const frame = h("iframe", {
    class: "kfp-html-frame",
    "data-testid": "html-frame",
    sandbox: SANDBOX,
    referrerpolicy: "no-referrer",
    title: typeof spec.title === "string" && spec.title ? spec.title : "HTML artifact",
  });
  frame.setAttribute("srcdoc", frameDocument(html));
  const wrap = h("div", { class: "kfp-html-wrap", "data-testid": "html-wrap" }, frame);
  wrap.style.height = `${FRAME_HEIGHT}px`;
  return {
    el: viewerRoot("html", wrap),
    cleanup: () => frame.removeAttribute("srcdoc"),
  };
}
