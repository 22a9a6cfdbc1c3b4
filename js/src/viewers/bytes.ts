// Binary traits and message buffers arrive as DataView (anywidget), ArrayBuffer or
// a typed array depending on the path, sometimes from another realm (so no
// instanceof); viewers want a Uint8Array over the same bytes.

export type DataViewLike = DataView | ArrayBuffer | ArrayBufferView | null | undefined;

/** A Uint8Array over `v`'s bytes (no copy); empty for anything else. */
export function toBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (ArrayBuffer.isView(v))
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (Object.prototype.toString.call(v) === "[object ArrayBuffer]") {
    return new Uint8Array(v as ArrayBuffer);
  }
  return new Uint8Array(0);
}
