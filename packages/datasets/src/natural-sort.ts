// Natural ordering of file names ("2.jpg" before "10.jpg"), as natsort.natsorted orders them by default: runs of digits
// compare as unsigned integers, other text compares by code point (case-sensitive).

function chunks(s: string): (string | bigint)[] {
  return s.split(/(\d+)/).map((part, i) => (i % 2 === 1 ? BigInt(part) : part));
}

/** Comparator for natural order; ties (e.g. "01" vs "1") fall back to plain code-point order. */
export function naturalCompare(a: string, b: string): number {
  const x = chunks(a);
  const y = chunks(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const p = x[i]!;
    const q = y[i]!;
    if (p === q) continue;
    if (typeof p === 'bigint' && typeof q === 'bigint') return p < q ? -1 : 1;
    // A number sorts before text (natsort puts numbers first when types differ at the same position).
    if (typeof p === 'bigint') return -1;
    if (typeof q === 'bigint') return 1;
    return p < q ? -1 : 1;
  }
  if (x.length !== y.length) return x.length - y.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A naturally sorted copy. */
export function naturalSort(names: readonly string[]): string[] {
  return [...names].sort(naturalCompare);
}
