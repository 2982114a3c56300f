/**
 * Seeded percentile-bootstrap confidence intervals for any metric.
 *
 * Method: draw `resamples` data sets of n samples with replacement (@fairclip/io's SeededRng, xoshiro128** seeded by
 * `seed`; with
 * `stratify: 'label'` the positives and the negatives are resampled separately, keeping n₊ and n₋), evaluate the
 * metric on each, drop the resamples where it is undefined (counted in `undefinedResamples`), and take the
 * (1 − c)/2 and (1 + c)/2 quantiles of the rest with linear interpolation (numpy's default 'linear' method,
 * Hyndman–Fan type 7). `standardError` is the sample standard deviation (ddof = 1) of the defined resampled values.
 */
import { SeededRng } from '@fairclip/io';
import { sumSquaredDeviations } from './derive.ts';
import { FairnessInputError } from './errors.ts';
import { encodeGroups, toLabels, toScores } from './input.ts';
import {
  defined,
  type GroupsInput,
  type LabelsInput,
  type MetricValue,
  type ScoresInput,
  undefinedMetric,
} from './types.ts';

/** The samples to resample, by name: `labels` (0/1, sklearn's y_true), `scores`, and optional attributes. */
export interface BootstrapData {
  readonly labels: LabelsInput;
  readonly scores: ScoresInput;
  /** Sensitive attributes resampled alongside (group ids per sample). */
  readonly attributes?: Readonly<Record<string, GroupsInput>>;
}

/** One (re)sampled data set handed to the metric. */
export interface BootstrapSample {
  readonly labels: Uint8Array;
  readonly scores: Float64Array;
  readonly attributes: Readonly<Record<string, Float64Array>>;
}

export interface BootstrapOptions {
  /** Seed of the resampling stream (required: a bootstrap without a recorded seed cannot be replayed). */
  readonly seed: number;
  /** Number of resamples. Default 1000. */
  readonly resamples?: number;
  /** Confidence level in (0, 1). Default 0.95. */
  readonly confidence?: number;
  /** 'none' (default): resample all samples; 'label': resample positives and negatives separately. */
  readonly stratify?: 'none' | 'label';
}

export interface BootstrapResult {
  /** The metric on the original data. */
  readonly estimate: MetricValue;
  readonly lower: MetricValue;
  readonly upper: MetricValue;
  /** Sample std (ddof = 1) of the defined resampled values. */
  readonly standardError: MetricValue;
  readonly confidence: number;
  readonly resamples: number;
  readonly definedResamples: number;
  readonly undefinedResamples: number;
  readonly method: 'percentile';
  readonly stratify: 'none' | 'label';
  readonly seed: number;
}

/** numpy.quantile(values, q) with the default 'linear' method; `sorted` must be ascending and non-empty. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (h - lo) * (b - a);
}

function toMetric(v: number | MetricValue): MetricValue {
  if (typeof v === 'number') {
    return Number.isFinite(v) ? defined(v) : undefinedMetric('UNDEFINED_INPUT', `the metric returned ${v}`);
  }
  return v;
}

export function bootstrapCi(
  data: BootstrapData,
  metric: (sample: BootstrapSample) => number | MetricValue,
  options: BootstrapOptions,
): BootstrapResult {
  if (typeof metric !== 'function') {
    throw new FairnessInputError(
      'INVALID_OPTION',
      'bootstrapCi: metric must be a function (sample) => number | MetricValue',
    );
  }
  const resamples = options.resamples ?? 1000;
  const confidence = options.confidence ?? 0.95;
  const stratify = options.stratify ?? 'none';
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new FairnessInputError('INVALID_OPTION', `resamples must be a positive integer, got ${resamples}`);
  }
  if (typeof confidence !== 'number' || !(confidence > 0 && confidence < 1)) {
    throw new FairnessInputError('INVALID_OPTION', `confidence must be in (0, 1), got ${confidence}`);
  }
  if (stratify !== 'none' && stratify !== 'label') {
    throw new FairnessInputError('INVALID_OPTION', `stratify must be 'none' or 'label', got ${String(stratify)}`);
  }
  if (typeof options.seed !== 'number' || !Number.isSafeInteger(options.seed)) {
    throw new FairnessInputError('INVALID_OPTION', `seed must be a safe integer, got ${String(options.seed)}`);
  }
  const rng = new SeededRng(options.seed);
  if (data === null || typeof data !== 'object') {
    throw new FairnessInputError(
      'INVALID_OPTION',
      'bootstrapCi: data must be an object { labels, scores, attributes? }',
    );
  }
  const labels = toLabels(data.labels, 'data.labels', 'did you put the scores in data.labels?');
  const n = labels.length;
  const scores = toScores(data.scores, n, 'data.scores', 'data.labels');
  const attrs = data.attributes ?? {};
  const names = Object.keys(attrs);
  const groups = names.map((name) => {
    const enc = encodeGroups(attrs[name] as GroupsInput, n, name, `attributes.${name}`);
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = enc.ids[enc.index[i] as number] as number;
    return values;
  });
  const full: BootstrapSample = {
    labels,
    scores,
    attributes: Object.fromEntries(names.map((name, a) => [name, groups[a] as Float64Array])),
  };
  const estimate = toMetric(metric(full));

  const pos: number[] = [];
  const neg: number[] = [];
  if (stratify === 'label') for (let i = 0; i < n; i++) (labels[i] ? pos : neg).push(i);
  const idx = new Uint32Array(n);
  const values: number[] = [];
  for (let r = 0; r < resamples; r++) {
    if (stratify === 'label') {
      let k = 0;
      for (let j = 0; j < pos.length; j++) idx[k++] = pos[rng.nextInt(pos.length)] as number;
      for (let j = 0; j < neg.length; j++) idx[k++] = neg[rng.nextInt(neg.length)] as number;
    } else {
      for (let j = 0; j < n; j++) idx[j] = rng.nextInt(n);
    }
    const rs = new Float64Array(n);
    const ry = new Uint8Array(n);
    for (let j = 0; j < n; j++) {
      const i = idx[j] as number;
      rs[j] = scores[i] as number;
      ry[j] = labels[i] as number;
    }
    const ra: Record<string, Float64Array> = {};
    names.forEach((name, a) => {
      const src = groups[a] as Float64Array;
      const dst = new Float64Array(n);
      for (let j = 0; j < n; j++) dst[j] = src[idx[j] as number] as number;
      ra[name] = dst;
    });
    const v = toMetric(metric({ labels: ry, scores: rs, attributes: ra }));
    if (v.value !== null) values.push(v.value);
  }
  const definedResamples = values.length;
  const base = {
    estimate,
    confidence,
    resamples,
    definedResamples,
    undefinedResamples: resamples - definedResamples,
    method: 'percentile' as const,
    stratify,
    seed: options.seed,
  };
  if (definedResamples < 2) {
    const none = undefinedMetric(
      'TOO_FEW_VALUES',
      `only ${definedResamples} of ${resamples} resamples gave a defined value; at least 2 are needed`,
    );
    return { ...base, lower: none, upper: none, standardError: none };
  }
  const sorted = Float64Array.from(values).sort();
  const tail = (1 - confidence) / 2;
  const ss = sumSquaredDeviations(values);
  return {
    ...base,
    lower: defined(quantileSorted(sorted, tail)),
    upper: defined(quantileSorted(sorted, 1 - tail)),
    standardError: defined(Math.sqrt(ss / (definedResamples - 1))),
  };
}
