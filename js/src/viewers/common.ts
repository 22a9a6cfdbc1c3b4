// Pieces shared by the artifact viewers: the spec type, tolerant readers, number and
// size formatting, notices, and the wrapper that turns a viewer's exception into a
// message instead of a broken panel.
import { h } from "../lib/dom";
import { arr, num, obj, str, type Json } from "../run_view/wire";

export { arr, num, obj, str, type Json };

/** A view spec as the kernel builds it (PROTOCOL.md "Artifact viewers"). */
export type ViewSpec = Json;

/** What a viewer gets besides its spec. */
export interface ViewerContext {
  timeZone: string;
  /** Buffer 0 of the spec (image bytes); empty when none. */
  image: Uint8Array;
  /** Fetch the full artifact; absent where downloading is not possible. */
  onDownload?: () => void;
}

/** A drawn viewer and what must be undone when it goes away. */
export interface Drawn {
  el: HTMLElement;
  cleanup?: () => void;
}

/** A spec field that is not what the protocol says: the message names the field. */
export class SpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SpecError";
  }
}

/** The root every viewer returns: `data-testid="viewer-<kind>"`. */
export function viewerRoot(kind: string, ...children: (Node | null)[]): HTMLElement {
  const el = h("div", {
    class: `kfp-viewer kfp-viewer-${kind.replace(/[^a-z_]/g, "")}`,
    "data-testid": `viewer-${kind}`,
  });
  for (const child of children) if (child) el.append(child);
  return el;
}

/** Run `draw`; on any exception show the message inside the viewer's root instead. */
export function guarded(kind: string, draw: () => Drawn): Drawn {
  try {
    return draw();
  } catch (err) {
    return { el: viewerRoot(kind, invalid(kind, err)) };
  }
}

/** The "cannot show this" message of a viewer whose spec is malformed. */
export function invalid(kind: string, err: unknown): HTMLElement {
  const why = err instanceof Error ? err.message : String(err);
  return h(
    "div",
    { class: "kfp-viewer-invalid", role: "alert", "data-testid": "viewer-invalid" },
    `Cannot show this ${kind.replace(/_/g, " ")} artifact: ${why}`,
  );
}

/** An informational line (caps, truncation, skipped entries). */
export function notice(text: string, testid = "viewer-notice"): HTMLElement {
  return h("div", { class: "kfp-viewer-notice", "data-testid": testid }, text);
}

/** `spec[key]` as an array, or a SpecError naming the field. */
export function needArray(spec: Json, key: string): unknown[] {
  const v = spec[key];
  if (!Array.isArray(v)) throw new SpecError(`"${key}" is ${describe(v)}, not a list`);
  return v;
}

/** `spec[key]` as a string, or a SpecError naming the field. */
export function needString(spec: Json, key: string): string {
  const v = spec[key];
  if (typeof v !== "string")
    throw new SpecError(`"${key}" is ${describe(v)}, not text`);
  return v;
}

function describe(v: unknown): string {
  if (v === undefined) return "missing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  return `a ${typeof v}`;
}

/**
 * A number with at most 6 significant digits: 0.912345678 → "0.912346",
 * 1234567 → "1.23457e+6", 42 → "42". Non-finite values by name.
 */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "-∞";
  const abs = Math.abs(v);
  if (Number.isInteger(v) && abs < 1e6) return String(v);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-4)) {
    const [mant, exp] = v.toExponential(5).split("e");
    return `${trimZeros(mant)}e${exp}`;
  }
  return trimZeros(v.toPrecision(6));
}

function trimZeros(text: string): string {
  return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}

/** 1536 → "1.5 KB", 5242880 → "5 MB" (powers of 1024). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return "unknown size";
  if (n < 1024) return `${n} bytes`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${trimZeros(value.toFixed(1))} ${units[unit]}`;
}

/** 52000 → "52,000". */
export function formatInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "?";
}

/** The spec's caps: `{bytes, rows}`, null where not given. */
export function caps(spec: Json): { bytes: number | null; rows: number | null } {
  const c = obj(spec.caps);
  return { bytes: num(c.bytes), rows: num(c.rows) };
}

/** A Download button; disabled (with the reason) when there is no way to download. */
export function downloadButton(ctx: ViewerContext, label = "Download"): HTMLElement {
  const button = h(
    "button",
    { type: "button", class: "kfp-button", "data-testid": "viewer-download" },
    label,
  );
  const onDownload = ctx.onDownload;
  if (typeof onDownload === "function") {
    button.addEventListener("click", () => onDownload());
  } else {
    button.disabled = true;
    button.title = "Downloading is not available here";
  }
  return button;
}

/**
 * True when the kernel sent `notes`: they already say what was cut and under which
 * option, so a viewer's own truncation line would repeat them.
 */
export function hasNotes(spec: Json): boolean {
  return arr(spec.notes).some((n) => typeof n === "string" && n !== "");
}
