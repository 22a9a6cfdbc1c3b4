// Save bytes the kernel sent as a file: a Blob URL clicked through a temporary
// <a download>, revoked once the browser has had time to start the download.
import type { DataViewLike } from "./bytes";
import { toBytes } from "./bytes";

/** How long a download's Blob URL stays valid after the click. */
export const REVOKE_AFTER_MS = 30_000;

/** Start a download of `data`; the returned function revokes the URL at once. */
export function saveBytes(data: DataViewLike, name: string, mime: string): () => void {
  const bytes = toBytes(data);
  const type = typeof mime === "string" && mime ? mime : "application/octet-stream";
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = fileName(name);
  a.rel = "noopener";
  a.style.display = "none";
  document.body.append(a);
  try {
    a.click();
  } finally {
    a.remove();
  }
  let done = false;
  const revoke = (): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    URL.revokeObjectURL(url);
  };
  const timer = setTimeout(revoke, REVOKE_AFTER_MS);
  return revoke;
}

/** The last path segment without characters file systems refuse; else "artifact". */
export function fileName(name: unknown): string {
  const base = typeof name === "string" ? (name.split(/[\\/]/).pop() ?? "") : "";
  const clean = base.replace(/[\u0000-\u001f<>:"|?*]/g, "_").trim();
  return clean && clean !== "." && clean !== ".." ? clean : "artifact";
}
