// Sorting the loaded rows through an index permutation: stable, nulls last in both
// directions, numbers and times numerically, text by a natural collation.

export type SortValue = string | number | boolean | null | undefined;

const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

function isNull(v: SortValue): boolean {
  return (
    v === null ||
    v === undefined ||
    v === "" ||
    (typeof v === "number" && Number.isNaN(v))
  );
}

function rank(v: SortValue): number {
  if (typeof v === "boolean") return 0;
  if (typeof v === "number") return 1;
  return 2;
}

/** Compare two non-null values: booleans < numbers < strings across types. */
export function compareValues(a: SortValue, b: SortValue): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  return collator.compare(String(a), String(b));
}

/**
 * Return `rows` reordered by `key(row)`. Ties keep their input order, and rows whose
 * value is null, undefined, "" or NaN go last whether ascending or descending.
 */
export function sortRows(
  rows: ArrayLike<number>,
  key: (row: number) => SortValue,
  { desc = false }: { desc?: boolean } = {},
): number[] {
  const present: number[] = [];
  const values: SortValue[] = [];
  const missing: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    const v = key(row);
    if (isNull(v)) missing.push(row);
    else {
      present.push(row);
      values.push(v);
    }
  }
  const sign = desc ? -1 : 1;
  const order = present.map((_, i) => i);
  order.sort((i, j) => sign * compareValues(values[i], values[j]) || i - j);
  return order.map((i) => present[i]).concat(missing);
}

/** Faster path for a numeric column: NaN is null. */
export function sortRowsByNumber(
  rows: ArrayLike<number>,
  values: ArrayLike<number>,
  { desc = false }: { desc?: boolean } = {},
): number[] {
  const present: number[] = [];
  const missing: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (Number.isNaN(values[row])) missing.push(row);
    else present.push(row);
  }
  // Rows often arrive already in the wanted order (the kernel lists newest first):
  // one pass detects that and skips the sort.
  if (!inOrder(present, values, desc)) {
    // Array.prototype.sort is stable (ES2019), so ties keep input order.
    present.sort(
      desc ? (a, b) => values[b] - values[a] : (a, b) => values[a] - values[b],
    );
  }
  return present.concat(missing);
}

function inOrder(rows: number[], values: ArrayLike<number>, desc: boolean): boolean {
  for (let i = 1; i < rows.length; i++) {
    const d = values[rows[i]] - values[rows[i - 1]];
    if (desc ? d > 0 : d < 0) return false;
  }
  return true;
}
