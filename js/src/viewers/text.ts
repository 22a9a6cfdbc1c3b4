// Text and JSON (pretty-printed by the kernel) in a <pre>, with the cap named when
// the kernel cut it.
import { h } from "../lib/dom";
import {
  caps,
  formatBytes,
  formatInt,
  needString,
  notice,
  num,
  viewerRoot,
  type Drawn,
  type Json,
} from "./common";

/** Characters put in the page at most, whatever the kernel sent. */
export const MAX_TEXT_CHARS = 2_000_000;

export function renderText(spec: Json): Drawn {
  let text = needString(spec, "text");
  const cut = text.length > MAX_TEXT_CHARS;
  if (cut) text = text.slice(0, MAX_TEXT_CHARS);
  const language = spec.language === "json" ? "json" : "text";
  const pre = h(
    "pre",
    { class: `kfp-viewer-pre kfp-lang-${language}`, "data-testid": "viewer-pre" },
    text,
  );
  const el = viewerRoot("text");
  const note = truncation(spec, cut);
  if (note) el.append(note);
  el.append(text ? pre : notice("This artifact is empty."));
  return { el };
}

function truncation(spec: Json, cut: boolean): HTMLElement | null {
  const size = num(spec.size);
  const cap = caps(spec).bytes;
  const over = size !== null && cap !== null && size > cap;
  if (!cut && spec.truncated !== true && !over) return null;
  const total = size === null ? "" : ` of ${formatBytes(size)}`;
  if (cut) {
    const chars = formatInt(MAX_TEXT_CHARS);
    return notice(`Showing the first ${chars} characters${total} (cap: ${chars} characters).`, "viewer-truncated");
  }
  const shown = cap === null ? "the first part" : `the first ${formatBytes(cap)}`;
  const named = cap === null ? "" : ` (cap: bytes=${cap})`;
  return notice(`Truncated: showing ${shown}${total}${named}.`, "viewer-truncated");
}
