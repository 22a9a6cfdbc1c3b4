// Tolerant readers for the server's wire JSON. The detail view gets raw run and task
// objects (snake_case, zero values left out) and must never throw on odd input, so
// every access goes through these instead of trusting the shape.

export type Json = Record<string, unknown>;

/** `v` when it is a plain object, else an empty one. */
export function obj(v: unknown): Json {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {};
}

/** `v` when it is an array, else an empty one. */
export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Strings as they are, finite numbers and booleans as text, anything else "". */
export function str(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (typeof v === "boolean") return String(v);
  return "";
}

/** A finite number (numbers or numeric strings, as int64 arrive), else null. */
export function num(v: unknown): number | null {
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  if (typeof v === "string" && v.trim() !== "") {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:?\d{2})?$/;

/**
 * Epoch milliseconds of an RFC 3339 time, NaN when unset or unreadable.
 *
 * The epoch itself ("1970-01-01T00:00:00Z") is KFP's "not set" (an unfinished run's
 * `finished_at`), so it reads as NaN too. A time without an offset is taken as UTC,
 * the same rule as the Python side (case 35); digits past milliseconds are dropped.
 */
export function parseTime(v: unknown): number {
  if (typeof v !== "string") return NaN;
  const m = RFC3339.exec(v.trim());
  if (!m) return NaN;
  const [, y, mo, d, hh, mi, ss, frac, zone] = m;
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, "0")) : 0;
  let t = Date.UTC(+y, +mo - 1, +d, +hh, +mi, +ss, ms);
  if (zone && zone !== "Z" && zone !== "z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return Number.isFinite(t) && t > 0 ? t : NaN;
}

/** Show a wire value as short text: JSON for lists and objects, "—" when empty. */
export function showValue(v: unknown): string {
  if (v === null || v === undefined || v === "") return "—";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  try {
    return JSON.stringify(v) ?? "—";
  } catch {
    return "—";
  }
}
