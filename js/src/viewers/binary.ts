// Content no viewer understands: its size, the sniffed type and a hex preview; and
// content above the viewer cap: a message naming size and cap. Both offer a download.
import { h } from "../lib/dom";
import {
  caps,
  downloadButton,
  formatBytes,
  num,
  str,
  viewerRoot,
  type Drawn,
  type Json,
  type ViewerContext,
} from "./common";

/** Characters of hex dump shown at most (the kernel sends 512 bytes' worth). */
export const MAX_HEX_CHARS = 64_000;

function sizeText(v: unknown): string {
  const n = num(v);
  return n === null
    ? "unknown size"
    : `${formatBytes(n)} (${n.toLocaleString("en-US")} bytes)`;
}

export function renderBinary(spec: Json, ctx: ViewerContext): Drawn {
  const sniffed = str(spec.sniffed) || "unknown type";
  const facts = h(
    "dl",
    { class: "kfp-viewer-facts" },
    h("dt", null, "Size"),
    h("dd", { "data-testid": "binary-size" }, sizeText(spec.size)),
    h("dt", null, "Type"),
    h("dd", { "data-testid": "binary-type" }, sniffed),
  );
  const hex = typeof spec.hex === "string" ? spec.hex.slice(0, MAX_HEX_CHARS) : "";
  const dump = hex
    ? h("pre", { class: "kfp-viewer-pre kfp-hex", "data-testid": "binary-hex" }, hex)
    : h("div", { class: "kfp-viewer-notice" }, "No preview bytes.");
  return { el: viewerRoot("binary", facts, dump, downloadButton(ctx)) };
}

export function renderTooLarge(spec: Json, ctx: ViewerContext): Drawn {
  const size = num(spec.size);
  const cap = num(spec.cap) ?? caps(spec).bytes;
  const sniffed = str(spec.sniffed);
  const what = sniffed ? `This ${sniffed} artifact` : "This artifact";
  const capText =
    cap === null
      ? "the viewer's cap"
      : `the viewer cap of ${formatBytes(cap)} (bytes=${cap})`;
  const sized = size === null ? "of unknown size" : formatBytes(size);
  const own = `${what} is ${sized}, above ${capText}. Download it to open it.`;
  const text = str(spec.message) || own;
  const message = h(
    "p",
    { class: "kfp-viewer-message", "data-testid": "too-large-message" },
    text,
  );
  return { el: viewerRoot("too_large", message, downloadButton(ctx)) };
}
