/** Typed access to test-fixtures/data/golden/fairness/metrics.json (sklearn 1.2.1 + fairlearn 0.9.0). */
import { readFixtureJson } from '@fairclip/test-fixtures';
import { expect } from 'vitest';
import type { MetricValue } from '../src/index.ts';

export interface GoldenGroup {
  group: number;
  n: number;
  n_pos: number;
  n_neg: number;
  auc: number | null;
  auc_error: string | null;
  auc_roc_curve_trapezoid: number | null;
  auc_roc_curve_warnings: string[];
  acc: number;
  fairlearn_selection_rate: number;
  fairlearn_tpr: number;
  fairlearn_fpr: number;
}

export interface GoldenCase {
  name: string;
  n: number;
  n_groups: number;
  groups: number[];
  y_true: number[];
  score: number[];
  group: number[];
  y_pred: number[];
  auc: number | null;
  auc_error: string | null;
  auc_roc_curve_trapezoid: number | null;
  acc: number;
  per_group: GoldenGroup[];
  es_auc: number | null;
  es_auc_skipped_groups: number[];
  es_auc_fairclip_code: number | null;
  es_acc: number;
  std_group_disparity: number | null;
  max_group_disparity: number | null;
  dpd: number;
  dpd_to_overall: number;
  dpr: number | null;
  eod: number;
  eod_to_overall: number;
  eor: number | null;
  tpr_difference: number;
  fpr_difference: number;
  eod_mean: number;
  fairlearn_errors: Record<string, string>;
  fairlearn_warnings: string[];
  fairlearn_notes: string[];
}

export interface GoldenFile {
  generator: string;
  versions: Record<string, string>;
  threshold: number;
  cases: GoldenCase[];
}

export function loadGolden(): GoldenFile {
  return readFixtureJson<GoldenFile>('golden/fairness/metrics.json');
}

export const TOL = 1e-12;

/** Tracks the largest absolute error seen, for the report printed at the end of the golden test. */
export const maxError = { value: 0, where: '' };

/** A defined metric equal to `expected` within TOL, or an undefined one where the reference is null. */
export function expectMetric(actual: MetricValue | number, expected: number | null, where: string): void {
  const v = typeof actual === 'number' ? actual : actual.value;
  if (expected === null) {
    expect(v, `${where}: the reference is undefined (null)`).toBeNull();
    if (typeof actual !== 'number')
      expect(actual.reason, `${where}: an undefined value carries a reason`).toMatch(/\w/);
    return;
  }
  expect(v, `${where}: the reference is ${expected}`).not.toBeNull();
  const err = Math.abs((v as number) - expected);
  if (err > maxError.value) {
    maxError.value = err;
    maxError.where = where;
  }
  expect(err, `${where}: got ${v}, reference ${expected}`).toBeLessThanOrEqual(TOL);
}
