// The window of rows a virtualized body must draw.

export interface WindowInput {
  scrollTop: number;
  viewportHeight: number;
  rowHeight: number;
  rowCount: number;
  /** Extra rows drawn above and below the viewport. */
  overscan: number;
}

/** Rows [start, end) to draw; empty ([0, 0)) when there is nothing to show. */
export function visibleRange(input: WindowInput): [number, number] {
  const { rowHeight, rowCount } = input;
  if (rowCount <= 0 || !(rowHeight > 0)) return [0, 0];
  const overscan = Math.max(0, Math.floor(input.overscan || 0));
  const height = Math.max(0, input.viewportHeight || 0);
  const maxTop = Math.max(0, rowCount * rowHeight - height);
  const top = Math.min(Math.max(0, input.scrollTop || 0), maxTop);

  const first = Math.floor(top / rowHeight);
  const last = Math.ceil((top + height) / rowHeight);
  const start = Math.max(0, first - overscan);
  const end = Math.min(rowCount, Math.max(last, first + 1) + overscan);
  return [start, end];
}

/** Total scrollable height in pixels, capped so browsers can still lay it out. */
export function spacerHeight(rowCount: number, rowHeight: number): number {
  return Math.max(0, rowCount) * rowHeight;
}
