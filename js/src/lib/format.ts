// Times, durations and counts as shown in the panels. Every time is shown in one
// labelled zone: "" means the browser's own zone.

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The browser's resolved IANA zone (e.g. "Europe/Berlin"), "UTC" if unknown. */
export function localZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/** The zone actually used for `timeZone` ("" → browser local). */
export function resolveZone(timeZone: string): string {
  return timeZone ? timeZone : localZone();
}

/** True when `timeZone` is a zone this browser knows. */
export function isValidZone(timeZone: string): boolean {
  if (!timeZone) return true;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** Label for the zone selector and header: "UTC", "Europe/Berlin (local)". */
export function zoneLabel(timeZone: string): string {
  if (!timeZone) return `${localZone()} (local)`;
  return isValidZone(timeZone) ? timeZone : `${timeZone} (unknown, showing UTC)`;
}

function formatter(timeZone: string): Intl.DateTimeFormat {
  const zone = isValidZone(timeZone) ? resolveZone(timeZone) : "UTC";
  let fmt = formatters.get(zone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat("en-CA", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(zone, fmt);
  }
  return fmt;
}

/** "2026-12-04 16:34:05" in `timeZone`; "" for NaN/unset. */
export function formatTime(ms: number, timeZone: string): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "";
  const parts: Record<string, string> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(ms))) {
    parts[part.type] = part.value;
  }
  const hour = parts.hour === "24" ? "00" : parts.hour;
  const date = `${parts.year}-${parts.month}-${parts.day}`;
  return `${date} ${hour}:${parts.minute}:${parts.second}`;
}

/** Compact duration: "850 ms", "42 s", "3 m 05 s", "2 h 03 m", "3 d 04 h"; "" unset. */
export function formatDuration(ms: number): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "";
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${pad(s % 60)} s`;
  const hr = Math.floor(m / 60);
  if (hr < 24) return `${hr} h ${pad(m % 60)} m`;
  return `${Math.floor(hr / 24)} d ${pad(hr % 24)} h`;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** 86000 → "86,000". */
export function formatCount(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "?";
}
