// Text and JSON (pretty-printed by the kernel) in a <pre>, with the cap named when
// the kernel cut it.
import { h } from "../lib/dom";
import {
  caps,
  formatBytes,
  formatInt,
  hasNotes,
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
  if (cut) return cutNotice(size);
  // Older specs have no `truncated`: then a file over the cap was cut.
  const over = size !== null && cap !== null && size > cap;
  const flagged = typeof spec.truncated === "boolean" ? spec.truncated : over;
  if (!flagged || hasNotes(spec)) return null;
  const total = size === null ? "" : ` of ${formatBytes(size)}`;
  const shown = cap === null ? "the first part" : `the first ${formatBytes(cap)}`;
  const named = cap === null ? "" : ` (cap: bytes=${cap})`;
  return notice(`Truncated: showing ${shown}${total}${named}.`, "viewer-truncated");
}

function cutNotice(size: number | null): HTMLElement {
  const chars = formatInt(MAX_TEXT_CHARS);
  const total = size === null ? "" : ` of ${formatBytes(size)}`;
  const cap = `(cap: ${chars} characters)`;
  return notice(
    `Showing the first ${chars} characters${total} ${cap}.`,
    "viewer-truncated",
  );
}
