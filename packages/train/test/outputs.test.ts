import { describe, expect, test } from 'vitest';
import {
  configHash,
  joinCsv,
  markdownSummary,
  officialCsvHeader,
  officialCsvRow,
  type SplitEval,
} from '../src/outputs.ts';

// The official header for FairVLMed (race 3, gender 2, ethnicity 2, language 3 groups), as finetune_FairCLIP.py
// writes it (fairclip.md §4.2), with its ", " separators normalised.
const OFFICIAL =
  'epoch, acc, esacc_attr0, esacc_attr1, esacc_attr2, esacc_attr3, auc, esauc_attr0, esauc_attr1, esauc_attr2, esauc_attr3, ' +
  'auc_attr0_group0, auc_attr0_group1, auc_attr0_group2, auc_attr1_group0, auc_attr1_group1, auc_attr2_group0, auc_attr2_group1, ' +
  'auc_attr3_group0, auc_attr3_group1, auc_attr3_group2, dpd_attr0, dpd_attr1, dpd_attr2, dpd_attr3, eod_attr0, eod_attr1, eod_attr2, eod_attr3, ' +
  'std_group_disparity_attr0, max_group_disparity_attr0, std_group_disparity_attr1, max_group_disparity_attr1, ' +
  'std_group_disparity_attr2, max_group_disparity_attr2, std_group_disparity_attr3, max_group_disparity_attr3, path';

const attr = (name: string, k: number, base: number) => ({
  name,
  groups: Array.from({ length: k }, (_, g) => `g${g}`),
  esAcc: base + 0.01,
  esAuc: base + 0.02,
  groupAuc: Array.from({ length: k }, (_, g) => (g === 1 && name === 'ethnicity' ? null : base + 0.1 * g)),
  dpd: 0.05,
  deodds: 0.07,
  stdDisparity: 0.01,
  maxDisparity: 0.03,
  notes: name === 'ethnicity' ? ['group g1 has a single class: AUC undefined'] : [],
});
const ev: SplitEval = {
  n: 10,
  acc: 0.6,
  auc: 0.7,
  loss: null,
  attributes: [attr('race', 3, 0.5), attr('gender', 2, 0.5), attr('ethnicity', 2, 0.5), attr('language', 3, 0.5)],
};

describe('official CSV', () => {
  test('header matches the official column order', () => {
    expect(joinCsv(officialCsvHeader([3, 2, 2, 3]))).toBe(OFFICIAL);
  });
  test('row has one value per column, undefined values as nan', () => {
    const row = officialCsvRow(3, ev, 'runs/x');
    const header = officialCsvHeader([3, 2, 2, 3]);
    expect(row).toHaveLength(header.length);
    expect(row[header.indexOf('auc')]).toBe('0.700000');
    expect(row[header.indexOf('auc_attr2_group1')]).toBe('nan');
    expect(row[header.indexOf('max_group_disparity_attr3')]).toBe('0.030000');
    expect(row.at(-1)).toBe('runs/x');
  });
  test('fields with commas are quoted', () => {
    expect(joinCsv(['a', 'b,c'])).toBe('a, "b,c"');
  });
});

describe('summary and hash', () => {
  test('hash is stable under key order and changes with values', () => {
    expect(configHash({ a: 1, b: { c: 2 } })).toBe(configHash({ b: { c: 2 }, a: 1 }));
    expect(configHash({ a: 1 })).not.toBe(configHash({ a: 2 }));
    expect(configHash({ a: 1 })).toMatch(/^[0-9a-f]{16}$/);
  });
  test('markdown summary lists every attribute and flags test-set selection', () => {
    const md = markdownSummary({
      title: 'run',
      configHash: 'abc',
      selection: 'test-auc',
      selectedEpoch: 2,
      evaluation: ev,
      optimisticSelection: true,
    });
    expect(md).toContain('Optimistic');
    for (const a of ['race', 'gender', 'ethnicity', 'language']) expect(md).toContain(`| ${a} |`);
    expect(md).toContain('AUC 70.00');
    expect(md).toContain('single class');
  });
});
