/** byGroup: a MetricFrame-like disaggregation of any metric over the groups of one attribute. */
import { aucFromCounts, fprFromCounts, groupDifference, groupRatio, tprFromCounts } from './derive.ts';
import { countAll } from './engine.ts';
import { FairnessInputError } from './errors.ts';
import { checkChoice, checkMode, checkThreshold, encodeGroups, toSamples } from './input.ts';
import {
  type DifferenceMethod,
  defined,
  type GroupedMetric,
  type GroupsInput,
  type LabelsInput,
  type MetricValue,
  type RateMode,
  type ScoresInput,
  type UndefinedMetric,
  undefinedMetric,
} from './types.ts';

/** The samples a metric is evaluated on: one group, or the whole set (`group` null). */
export interface Slice {
  readonly group: number | null;
  readonly labels: Uint8Array;
  readonly scores: Float64Array;
  /** 1 where score >= threshold. */
  readonly predictions: Uint8Array;
  readonly threshold: number;
  readonly mode: RateMode;
}

/** A metric on a slice: a number (must be finite; NaN becomes undefined) or a MetricValue. */
export type SliceMetric = (slice: Slice) => number | MetricValue;

function who(slice: Slice): string {
  return slice.group === null ? 'the evaluated set' : `group ${slice.group}`;
}

function positives(slice: Slice): { nPos: number; tp: number; fp: number } {
  let nPos = 0;
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < slice.labels.length; i++) {
    const y = slice.labels[i] as number;
    const p = slice.predictions[i] as number;
    nPos += y;
    tp += y & p;
    fp += (1 - y) & p;
  }
  return { nPos, tp, fp };
}

/** Built-in slice metrics (the per-group columns of FairCLIP's evaluation). */
export const sliceMetrics = {
  count: (s: Slice): number => s.labels.length,
  auc: (s: Slice): MetricValue => {
    const c = countAll(s.scores, s.labels, [], s.threshold, true);
    return aucFromCounts(c.u2 as number, c.nPos, c.n - c.nPos, who(s));
  },
  accuracy: (s: Slice): number => {
    const { nPos, tp, fp } = positives(s);
    return (tp + (s.labels.length - nPos - fp)) / s.labels.length;
  },
  selectionRate: (s: Slice): number => {
    let k = 0;
    for (let i = 0; i < s.predictions.length; i++) k += s.predictions[i] as number;
    return k / s.predictions.length;
  },
  truePositiveRate: (s: Slice): MetricValue => {
    const { nPos, tp } = positives(s);
    return tprFromCounts(tp, nPos, s.mode, who(s));
  },
  falsePositiveRate: (s: Slice): MetricValue => {
    const { nPos, fp } = positives(s);
    return fprFromCounts(fp, s.labels.length - nPos, s.mode, who(s));
  },
} as const satisfies Record<string, SliceMetric>;

export interface FrameRow<K extends string> {
  readonly group: number;
  readonly n: number;
  readonly nPos: number;
  readonly nNeg: number;
  readonly values: Readonly<Record<K, MetricValue>>;
}

export interface MetricFrame<K extends string> {
  /** Group ids present, ascending. */
  readonly groups: readonly number[];
  readonly overall: Readonly<Record<K, MetricValue>>;
  readonly byGroup: readonly FrameRow<K>[];
  /** Smallest defined group value and its group (undefined when no group has one). */
  groupMin(metric: K): { readonly value: number; readonly group: number } | UndefinedMetric;
  groupMax(metric: K): { readonly value: number; readonly group: number } | UndefinedMetric;
  /** max − min over groups ('between_groups', default) or max |group − overall| ('to_overall'). */
  difference(metric: K, method?: DifferenceMethod): GroupedMetric;
  /** min / max over groups. */
  ratio(metric: K): GroupedMetric;
}

function asMetric(name: string, v: number | MetricValue, where: string): MetricValue {
  if (typeof v === 'number') {
    return Number.isFinite(v)
      ? defined(v)
      : undefinedMetric('UNDEFINED_INPUT', `metric '${name}' returned ${v} on ${where}`);
  }
  if (v === null || typeof v !== 'object' || !('value' in v)) {
    throw new FairnessInputError('INVALID_OPTION', `metric '${name}' must return a number or a MetricValue`);
  }
  if (v.value !== null && !Number.isFinite(v.value)) {
    return undefinedMetric('UNDEFINED_INPUT', `metric '${name}' returned ${v.value} on ${where}`);
  }
  return v;
}

/**
 * Evaluates each metric on the whole set and on every group's samples, like fairlearn's
 * MetricFrame(metrics, y_true, y_pred, sensitive_features) and in its order, e.g.
 * `byGroup({ auc: sliceMetrics.auc, tpr: sliceMetrics.truePositiveRate }, labels, scores, race)`.
 */
export function byGroup<K extends string>(
  metrics: Readonly<Record<K, SliceMetric>>,
  labels: LabelsInput,
  scores: ScoresInput,
  groups: GroupsInput,
  options: { readonly threshold?: number; readonly mode?: RateMode } = {},
): MetricFrame<K> {
  const threshold = checkThreshold(options.threshold ?? 0.5);
  const mode = checkMode(options.mode ?? 'strict');
  const names = Object.keys(metrics) as K[];
  if (names.length === 0) throw new FairnessInputError('INVALID_OPTION', 'byGroup needs at least one metric');
  for (const k of names) {
    if (typeof metrics[k] !== 'function') {
      throw new FairnessInputError(
        'INVALID_OPTION',
        `metric '${k}' must be a function (slice) => number | MetricValue`,
      );
    }
  }
  const { labels: y, scores: s } = toSamples(labels, scores);
  const enc = encodeGroups(groups, s.length, 'groups');
  const n = s.length;
  const pred = new Uint8Array(n);
  for (let i = 0; i < n; i++) pred[i] = (s[i] as number) >= threshold ? 1 : 0;

  const evaluate = (slice: Slice, where: string): Record<K, MetricValue> => {
    const out = {} as Record<K, MetricValue>;
    for (const k of names) out[k] = asMetric(k, metrics[k](slice), where);
    return out;
  };
  const overall = evaluate({ group: null, labels: y, scores: s, predictions: pred, threshold, mode }, 'the whole set');

  // Counting sort of the samples by group, keeping the original order inside each group.
  const G = enc.ids.length;
  const start = new Uint32Array(G + 1);
  for (let i = 0; i < n; i++) start[(enc.index[i] as number) + 1] = (start[(enc.index[i] as number) + 1] as number) + 1;
  for (let g = 0; g < G; g++) start[g + 1] = (start[g + 1] as number) + (start[g] as number);
  const cursor = start.slice(0, G);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const g = enc.index[i] as number;
    order[cursor[g] as number] = i;
    cursor[g] = (cursor[g] as number) + 1;
  }
  const rows: FrameRow<K>[] = enc.ids.map((id, g) => {
    const a = start[g] as number;
    const b = start[g + 1] as number;
    const gs = new Float64Array(b - a);
    const gy = new Uint8Array(b - a);
    const gp = new Uint8Array(b - a);
    for (let j = a; j < b; j++) {
      const i = order[j] as number;
      gs[j - a] = s[i] as number;
      gy[j - a] = y[i] as number;
      gp[j - a] = pred[i] as number;
    }
    let nPos = 0;
    for (let j = 0; j < gy.length; j++) nPos += gy[j] as number;
    const slice: Slice = { group: id, labels: gy, scores: gs, predictions: gp, threshold, mode };
    return { group: id, n: b - a, nPos, nNeg: b - a - nPos, values: evaluate(slice, `group ${id}`) };
  });

  const column = (k: K): MetricValue[] => rows.map((r) => r.values[k]);
  const check = (k: K): K => {
    if (!names.includes(k)) {
      throw new FairnessInputError('INVALID_OPTION', `unknown metric '${k}'; the frame has ${names.join(', ')}`);
    }
    return k;
  };
  const extreme = (k: K, sign: 1 | -1) => {
    let best: { value: number; group: number } | null = null;
    column(check(k)).forEach((v, g) => {
      if (v.value !== null && (best === null || sign * (v.value - best.value) > 0)) {
        best = { value: v.value, group: enc.ids[g] as number };
      }
    });
    return best ?? undefinedMetric('NO_DEFINED_GROUPS', `no group has a defined '${k}'`);
  };
  return {
    groups: enc.ids,
    overall,
    byGroup: rows,
    groupMin: (k) => extreme(k, -1),
    groupMax: (k) => extreme(k, 1),
    difference: (k, method = 'between_groups') =>
      groupDifference(
        column(check(k)),
        enc.ids,
        overall[k],
        checkChoice(method, 'method', ['between_groups', 'to_overall'] as const),
        `'${k}'`,
      ),
    ratio: (k) => groupRatio(column(check(k)), enc.ids, `'${k}'`),
  };
}
