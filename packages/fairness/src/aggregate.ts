/**
 * Aggregation of runs across seeds: mean ± standard deviation, where the std is the SAMPLE standard deviation
 * (ddof = 1, numpy `np.std(x, ddof=1)`, pandas' default), since the runs are a sample of the seed distribution.
 * Undefined values (e.g. a group AUC undefined in one run) are left out and counted.
 */
import { sumSquaredDeviations } from './derive.ts';
import { FairnessInputError } from './errors.ts';
import type { AttributeReport, FairnessReport } from './report.ts';
import { defined, type MetricValue, undefinedMetric } from './types.ts';

export interface RunSummary {
  readonly mean: MetricValue;
  /** Sample standard deviation (ddof = 1); undefined with fewer than 2 defined values. */
  readonly std: MetricValue;
  readonly min: MetricValue;
  readonly max: MetricValue;
  /** Number of runs with a defined value. */
  readonly n: number;
  /** Number of runs where the value was undefined. */
  readonly nUndefined: number;
  /** The defined values, in run order. */
  readonly values: readonly number[];
}

/** Mean, sample std (ddof = 1), min and max of the defined values. */
export function aggregateRuns(values: ReadonlyArray<number | MetricValue>): RunSummary {
  if (!Array.isArray(values)) {
    throw new FairnessInputError('INVALID_OPTION', 'aggregateRuns expects an array of numbers or MetricValues');
  }
  const vals: number[] = [];
  let nUndefined = 0;
  values.forEach((v, i) => {
    const x = typeof v === 'number' ? v : v?.value;
    if (x === null) {
      nUndefined++;
      return;
    }
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new FairnessInputError(
        'NON_FINITE_SCORE',
        `aggregateRuns: value ${i} is ${String(x)}; give finite numbers, or MetricValues with value null for undefined runs`,
      );
    }
    vals.push(x);
  });
  const n = vals.length;
  if (n === 0) {
    const none = undefinedMetric('TOO_FEW_VALUES', `no run has a defined value (${nUndefined} undefined)`);
    return { mean: none, std: none, min: none, max: none, n, nUndefined, values: vals };
  }
  let mean = 0;
  for (const v of vals) mean += v;
  mean /= n;
  const ss = sumSquaredDeviations(vals);
  return {
    mean: defined(mean),
    std:
      n < 2
        ? undefinedMetric('TOO_FEW_VALUES', 'a sample standard deviation (ddof = 1) needs at least 2 runs')
        : defined(Math.sqrt(ss / (n - 1))),
    min: defined(Math.min(...vals)),
    max: defined(Math.max(...vals)),
    n,
    nUndefined,
    values: vals,
  };
}

/** "mean ± std" scaled (×100 by default, as the papers print), "–" when undefined. */
export function formatMeanStd(
  s: RunSummary,
  options: { readonly scale?: number; readonly digits?: number } = {},
): string {
  const scale = options.scale ?? 100;
  const digits = options.digits ?? 2;
  if (s.mean.value === null) return '–';
  const m = (s.mean.value * scale).toFixed(digits);
  return s.std.value === null ? m : `${m} ± ${(s.std.value * scale).toFixed(digits)}`;
}

export interface AggregatedGroup {
  readonly group: number;
  readonly name?: string;
  readonly auc: RunSummary;
  readonly accuracy: RunSummary;
  readonly selectionRate: RunSummary;
  readonly tpr: RunSummary;
  readonly fpr: RunSummary;
}

const ATTRIBUTE_FIELDS = [
  'esAuc',
  'esAucFairclipCode',
  'esAcc',
  'dpd',
  'dpdToOverall',
  'dpr',
  'eod',
  'eodToOverall',
  'eodMean',
  'eor',
  'tprDifference',
  'fprDifference',
  'stdGroupDisparity',
  'maxGroupDisparity',
] as const;

type AttributeField = (typeof ATTRIBUTE_FIELDS)[number];

export type AggregatedAttribute = { readonly [K in AttributeField]: RunSummary } & {
  readonly attribute: string;
  /** Groups seen in any run, ascending; a group absent from a run counts as undefined there. */
  readonly groups: readonly AggregatedGroup[];
};

export interface AggregatedReport {
  readonly runs: number;
  readonly auc: RunSummary;
  readonly accuracy: RunSummary;
  readonly attributes: Readonly<Record<string, AggregatedAttribute>>;
}

const ABSENT: MetricValue = undefinedMetric('UNDEFINED_INPUT', 'group absent from this run');

/** Aggregates fairness reports of several runs (seeds) field by field: mean ± sample std (ddof = 1). */
export function aggregateReports(reports: readonly FairnessReport[]): AggregatedReport {
  if (!Array.isArray(reports) || reports.length === 0) {
    throw new FairnessInputError('EMPTY_INPUT', 'aggregateReports needs at least one report');
  }
  const first = reports[0] as FairnessReport;
  const names = Object.keys(first.attributes);
  reports.forEach((r, i) => {
    const these = Object.keys(r.attributes);
    if (these.length !== names.length || these.some((n) => !names.includes(n))) {
      throw new FairnessInputError(
        'INCOMPATIBLE_INPUT',
        `aggregateReports: report ${i} has attributes [${these.join(', ')}] but report 0 has [${names.join(', ')}]`,
      );
    }
  });
  const attributes: Record<string, AggregatedAttribute> = {};
  for (const name of names) {
    const per = reports.map((r) => r.attributes[name] as AttributeReport);
    const fields = Object.fromEntries(ATTRIBUTE_FIELDS.map((f) => [f, aggregateRuns(per.map((a) => a[f]))])) as {
      [K in AttributeField]: RunSummary;
    };
    const ids = [...new Set(per.flatMap((a) => a.groups.map((g) => g.group)))].sort((x, y) => x - y);
    const groups: AggregatedGroup[] = ids.map((id) => {
      const rows = per.map((a) => a.groups.find((g) => g.group === id));
      const name = rows.find((g) => g?.name !== undefined)?.name;
      const pick = (f: (g: NonNullable<(typeof rows)[number]>) => number | MetricValue) =>
        aggregateRuns(rows.map((g) => (g === undefined ? ABSENT : f(g))));
      return {
        group: id,
        ...(name === undefined ? {} : { name }),
        auc: pick((g) => g.auc),
        accuracy: pick((g) => g.accuracy),
        selectionRate: pick((g) => g.selectionRate),
        tpr: pick((g) => g.tpr),
        fpr: pick((g) => g.fpr),
      };
    });
    attributes[name] = { attribute: name, ...fields, groups };
  }
  return {
    runs: reports.length,
    auc: aggregateRuns(reports.map((r) => r.auc)),
    accuracy: aggregateRuns(reports.map((r) => r.accuracy)),
    attributes,
  };
}
