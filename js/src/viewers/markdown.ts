// Markdown → HTML with `marked`, then through DOMPurify before it touches the page:
// raw HTML in the Markdown is kept only where it is inert. Links may only point to
// http(s), mailto or an anchor and open in a new tab without an opener; images may
// come from http(s) or a data: image; forms, frames, styles and scripts are dropped.
import DOMPurify, { type Config, type DOMPurify as Purifier } from "dompurify";
import { Marked } from "marked";
import { h } from "../lib/dom";
import {
  caps,
  formatBytes,
  hasNotes,
  formatInt,
  needString,
  notice,
  num,
  viewerRoot,
  type Drawn,
  type Json,
} from "./common";

/** Characters rendered at most, whatever the kernel sent (marked is not free). */
export const MAX_MARKDOWN_CHARS = 2_000_000;

const SAFE_LINK = /^(?:https?:|mailto:|#)/i;
const SAFE_IMAGE = /^(?:https?:\/\/|data:image\/(?:png|jpeg|gif|webp);)/i;

const CONFIG: Config = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: [
    "style",
    "form",
    "input",
    "button",
    "textarea",
    "select",
    "option",
    "iframe",
    "frame",
    "object",
    "embed",
    "audio",
    "video",
    "source",
    "track",
    "link",
    "meta",
    "base",
  ],
  FORBID_ATTR: [
    "style",
    "srcset",
    "action",
    "formaction",
    "ping",
    "background",
    "poster",
  ],
  ALLOW_DATA_ATTR: false,
};

let purifier: Purifier | null = null;

// A private DOMPurify instance, so these hooks never change how anyone else's
// sanitizing behaves.
function sanitizer(): Purifier {
  if (purifier) return purifier;
  const p = DOMPurify(window);
  p.addHook("uponSanitizeAttribute", (node, data) => {
    const tag = node.nodeName.toLowerCase();
    const value = data.attrValue.trim();
    if (data.attrName === "href" && !SAFE_LINK.test(value)) data.keepAttr = false;
    if (data.attrName === "src" && (tag !== "img" || !SAFE_IMAGE.test(value))) {
      data.keepAttr = false;
    }
  });
  p.addHook("afterSanitizeAttributes", (node) => {
    if (node.nodeName.toLowerCase() !== "a") return;
    const link = node as Element;
    if (link.hasAttribute("href")) {
      link.setAttribute("target", "_blank");
      link.setAttribute("rel", "noopener noreferrer");
    } else {
      // Shown as plain text, so a neutralized link does not look clickable.
      link.setAttribute("class", "kfp-link-removed");
      link.setAttribute("title", "Link removed: only http(s) and mailto links open");
    }
  });
  purifier = p;
  return p;
}

const marked = new Marked({ gfm: true, async: false });

/** Markdown source → a sanitized fragment ready to insert. */
export function markdownToFragment(source: string): DocumentFragment {
  const html = marked.parse(source, { async: false });
  return sanitizer().sanitize(html, { ...CONFIG, RETURN_DOM_FRAGMENT: true });
}

export function renderMarkdown(spec: Json): Drawn {
  let source = needString(spec, "markdown");
  const cut = source.length > MAX_MARKDOWN_CHARS;
  if (cut) source = source.slice(0, MAX_MARKDOWN_CHARS);
  const body = h("div", { class: "kfp-markdown", "data-testid": "markdown-body" });
  body.append(markdownToFragment(source));
  const el = viewerRoot("markdown");
  if ((spec.truncated === true && !hasNotes(spec)) || cut) {
    el.append(truncation(spec, cut));
  }
  el.append(body);
  if (!source.trim()) el.append(notice("This Markdown artifact is empty."));
  return { el };
}

function truncation(spec: Json, cut: boolean): HTMLElement {
  const size = num(spec.size);
  const cap = caps(spec).bytes;
  const total = size === null ? "" : ` of ${formatBytes(size)}`;
  if (cut) {
    const chars = formatInt(MAX_MARKDOWN_CHARS);
    return notice(
      `Showing the first ${chars} characters${total} (cap: ${chars} characters).`,
      "viewer-truncated",
    );
  }
  const shown = cap === null ? "the first part" : `the first ${formatBytes(cap)}`;
  const named = cap === null ? "" : ` (cap: bytes=${cap})`;
  return notice(`Truncated: showing ${shown}${total}${named}.`, "viewer-truncated");
}
