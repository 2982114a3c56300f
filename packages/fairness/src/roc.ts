/** ROC curve (scikit-learn's roc_curve) and the trapezoid rule (sklearn.metrics.auc), FairCLIP's route to AUC. */
import { FairnessInputError } from './errors.ts';
import { toSamples } from './input.ts';
import { radixSortScores } from './sort.ts';
import type { LabelsInput, ScoresInput } from './types.ts';

export interface RocCurve {
  /** False-positive rates, non-decreasing, from 0 to 1. */
  readonly fpr: Float64Array;
  /** True-positive rates, non-decreasing, from 0 to 1. */
  readonly tpr: Float64Array;
  /** Decreasing thresholds: point k counts the samples with score >= thresholds[k]; the first is +Infinity. */
  readonly thresholds: Float64Array;
}

export interface RocCurveOptions {
  /** Drop points that lie on a straight segment (sklearn's default, true); the area is unchanged. */
  readonly dropIntermediate?: boolean;
}

/**
 * scikit-learn's roc_curve(y_true, y_score) for binary labels (labels first, as in sklearn): one point per distinct score (tied scores form one diagonal segment),
 * preceded by (0, 0) at threshold +Infinity (scikit-learn >= 1.3). Throws FairnessInputError SINGLE_CLASS when the
 * labels hold only one class (scikit-learn returns NaN rates with a warning there).
 */
export function rocCurve(labels: LabelsInput, scores: ScoresInput, options: RocCurveOptions = {}): RocCurve {
  const { labels: y, scores: s } = toSamples(labels, scores);
  const n = s.length;
  const index = new Uint32Array(n);
  for (let i = 0; i < n; i++) index[i] = i;
  const { rank, payload } = radixSortScores(s, index);
  let nPos = 0;
  for (let i = 0; i < n; i++) nPos += y[i] as number;
  if (nPos === 0 || nPos === n) {
    throw new FairnessInputError(
      'SINGLE_CLASS',
      `rocCurve: labels hold only ${nPos === 0 ? 'negatives' : 'positives'}; a ROC curve needs both classes`,
    );
  }
  // Walk from the highest score down; one point per block of tied scores.
  const tps: number[] = [];
  const fps: number[] = [];
  const thr: number[] = [];
  let tp = 0;
  let fp = 0;
  let k = n - 1;
  while (k >= 0) {
    const r = rank[k] as number;
    let j = k;
    while (j >= 0 && rank[j] === r) {
      if (y[payload[j] as number]) tp++;
      else fp++;
      j--;
    }
    tps.push(tp);
    fps.push(fp);
    thr.push(s[payload[k] as number] as number);
    k = j;
  }
  let keep: number[] = tps.map((_, i) => i);
  if ((options.dropIntermediate ?? true) && tps.length > 2) {
    keep = [0];
    for (let i = 1; i < tps.length - 1; i++) {
      const d2f = (fps[i + 1] as number) - 2 * (fps[i] as number) + (fps[i - 1] as number);
      const d2t = (tps[i + 1] as number) - 2 * (tps[i] as number) + (tps[i - 1] as number);
      if (d2f !== 0 || d2t !== 0) keep.push(i);
    }
    keep.push(tps.length - 1);
  }
  const m = keep.length + 1;
  const fpr = new Float64Array(m);
  const tpr = new Float64Array(m);
  const thresholds = new Float64Array(m);
  thresholds[0] = Number.POSITIVE_INFINITY;
  const nNeg = n - nPos;
  keep.forEach((i, r) => {
    fpr[r + 1] = (fps[i] as number) / nNeg;
    tpr[r + 1] = (tps[i] as number) / nPos;
    thresholds[r + 1] = thr[i] as number;
  });
  return { fpr, tpr, thresholds };
}

/**
 * Area under a curve by the trapezoid rule (sklearn.metrics.auc): x must be monotone (non-decreasing or
 * non-increasing); the area is signed by that direction as scikit-learn does.
 */
export function trapezoid(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) {
    throw new FairnessInputError('LENGTH_MISMATCH', `trapezoid: x has ${x.length} points but y has ${y.length}`);
  }
  if (x.length < 2) {
    throw new FairnessInputError('EMPTY_INPUT', `trapezoid: at least 2 points are needed, got ${x.length}`);
  }
  let up = true;
  let down = true;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i] as number;
    const yi = y[i] as number;
    if (!Number.isFinite(xi) || !Number.isFinite(yi)) {
      throw new FairnessInputError('NON_FINITE_SCORE', `trapezoid: point ${i} = (${xi}, ${yi}) is not finite`);
    }
    if (i > 0) {
      const d = xi - (x[i - 1] as number);
      if (d < 0) up = false;
      if (d > 0) down = false;
    }
  }
  if (!up && !down) {
    throw new FairnessInputError('INVALID_OPTION', 'trapezoid: x is neither non-decreasing nor non-increasing');
  }
  let area = 0;
  for (let i = 1; i < x.length; i++) {
    area += (((x[i] as number) - (x[i - 1] as number)) * ((y[i] as number) + (y[i - 1] as number))) / 2;
  }
  return up ? area : -area;
}
