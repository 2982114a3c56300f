/**
 * Brute-force oracles written straight from the definitions (O(n²) pair counting for AUC, direct counting for the
 * rates), independent of the package's sort-and-scan engine. Used by the property tests. Labels first, as the package.
 */
export function pairAuc(y: readonly number[], s: readonly number[]): number | null {
  let num = 0;
  let pairs = 0;
  for (let i = 0; i < s.length; i++) {
    if (y[i] !== 1) continue;
    for (let j = 0; j < s.length; j++) {
      if (y[j] !== 0) continue;
      pairs++;
      if (s[i]! > s[j]!) num += 1;
      else if (s[i] === s[j]) num += 0.5;
    }
  }
  return pairs === 0 ? null : num / pairs;
}

export interface OracleGroup {
  group: number;
  n: number;
  nPos: number;
  auc: number | null;
  acc: number;
  sr: number;
  tpr: number | null;
  fpr: number | null;
}

export function oracleGroups(
  y: readonly number[],
  s: readonly number[],
  g: readonly number[],
  threshold = 0.5,
): OracleGroup[] {
  const ids = [...new Set(g)].sort((a, b) => a - b);
  return ids.map((id) => {
    const idx = g.flatMap((v, i) => (v === id ? [i] : []));
    const gs = idx.map((i) => s[i]!);
    const gy = idx.map((i) => y[i]!);
    const pred = gs.map((v) => (v >= threshold ? 1 : 0));
    const nPos = gy.filter((v) => v === 1).length;
    const nNeg = gy.length - nPos;
    const tp = gy.filter((v, k) => v === 1 && pred[k] === 1).length;
    const fp = gy.filter((v, k) => v === 0 && pred[k] === 1).length;
    return {
      group: id,
      n: idx.length,
      nPos,
      auc: pairAuc(gy, gs),
      acc: gy.filter((v, k) => v === pred[k]).length / gy.length,
      sr: pred.filter((v) => v === 1).length / gy.length,
      tpr: nPos === 0 ? null : tp / nPos,
      fpr: nNeg === 0 ? null : fp / nNeg,
    };
  });
}
