// Run outputs: the per-epoch CSV in the official code's column order (so existing analysis scripts read it), the JSON
// result (resolved config, hash, seed, versions, adapter) and a Markdown summary.
import { createHash } from 'node:crypto';
import { formatCsvRow } from '@fairclip/io';
import { canonicalJson } from './config.ts';

/** Evaluation of one attribute (values null where undefined; `notes` says why). */
export interface AttributeEval {
  name: string;
  groups: string[];
  esAcc: number | null;
  esAuc: number | null;
  groupAuc: (number | null)[];
  dpd: number | null;
  deodds: number | null;
  stdDisparity: number | null;
  maxDisparity: number | null;
  notes: string[];
}

export interface SplitEval {
  n: number;
  acc: number;
  auc: number | null;
  loss: number | null;
  attributes: AttributeEval[];
}

export interface EpochRecord {
  epoch: number;
  trainLoss: number | null;
  /** Mean of each loss term over the epoch (clip, fairness, per-attribute distances...). */
  terms: Record<string, number>;
  val: SplitEval | null;
  test: SplitEval | null;
  seconds: number;
}

const fmt = (v: number | null | undefined): string =>
  v === null || v === undefined || !Number.isFinite(v) ? 'nan' : v.toFixed(6);

/**
 * The official header: epoch, acc, esacc_attr*, auc, esauc_attr*, auc_attr{i}_group{g}*, dpd_attr*, eod_attr*,
 * std_group_disparity_attr{i}, max_group_disparity_attr{i} (interleaved per attribute), path.
 */
export function officialCsvHeader(groupsPerAttribute: readonly number[]): string[] {
  const k = groupsPerAttribute.length;
  const idx = Array.from({ length: k }, (_, i) => i);
  return [
    'epoch',
    'acc',
    ...idx.map((i) => `esacc_attr${i}`),
    'auc',
    ...idx.map((i) => `esauc_attr${i}`),
    ...idx.flatMap((i) => Array.from({ length: groupsPerAttribute[i]! }, (_, g) => `auc_attr${i}_group${g}`)),
    ...idx.map((i) => `dpd_attr${i}`),
    ...idx.map((i) => `eod_attr${i}`),
    ...idx.flatMap((i) => [`std_group_disparity_attr${i}`, `max_group_disparity_attr${i}`]),
    'path',
  ];
}

/** One CSV row for an evaluation, in the official column order. */
export function officialCsvRow(epoch: number, ev: SplitEval, path: string): string[] {
  const a = ev.attributes;
  return [
    String(epoch),
    fmt(ev.acc),
    ...a.map((x) => fmt(x.esAcc)),
    fmt(ev.auc),
    ...a.map((x) => fmt(x.esAuc)),
    ...a.flatMap((x) => x.groupAuc.map(fmt)),
    ...a.map((x) => fmt(x.dpd)),
    ...a.map((x) => fmt(x.deodds)),
    ...a.flatMap((x) => [fmt(x.stdDisparity), fmt(x.maxDisparity)]),
    path,
  ];
}

/** The official files separate fields with ", " (quoting as RFC 4180, by @fairclip/io's writer). */
export const joinCsv = (fields: readonly string[]): string => formatCsvRow(fields, ', ');

/** sha256 of the canonical JSON of a configuration (first 16 hex digits). */
export function configHash(config: unknown): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex').slice(0, 16);
}

const pct = (v: number | null): string => (v === null || !Number.isFinite(v) ? '—' : (100 * v).toFixed(2));

/** Markdown summary of a run: the selected epoch's metrics per attribute (×100, as the papers report them). */
export function markdownSummary(opts: {
  title: string;
  configHash: string;
  selection: string;
  selectedEpoch: number | null;
  evaluation: SplitEval | null;
  optimisticSelection: boolean;
  extra?: string[];
}): string {
  const lines = [
    `# ${opts.title}`,
    '',
    `config hash \`${opts.configHash}\`, model selection: ${opts.selection}${opts.selectedEpoch === null ? '' : ` (epoch ${opts.selectedEpoch})`}`,
    '',
  ];
  if (opts.optimisticSelection)
    lines.push(
      '> **Optimistic:** the epoch was selected on test AUC, as the official FairCLIP code does; test metrics of that epoch are biased upwards.',
      '',
    );
  const ev = opts.evaluation;
  if (!ev) {
    lines.push('No evaluation available.');
    return lines.join('\n');
  }
  lines.push(`Test set: n = ${ev.n}, AUC ${pct(ev.auc)}, accuracy ${pct(ev.acc)}`, '');
  lines.push('| attribute | ES-AUC | ES-Acc | DPD | DEOdds | group AUCs |', '|---|---|---|---|---|---|');
  for (const a of ev.attributes) {
    const groups = a.groups.map((g, i) => `${g} ${pct(a.groupAuc[i] ?? null)}`).join(', ');
    lines.push(`| ${a.name} | ${pct(a.esAuc)} | ${pct(a.esAcc)} | ${pct(a.dpd)} | ${pct(a.deodds)} | ${groups} |`);
  }
  const notes = ev.attributes.flatMap((a) => a.notes.map((n) => `- ${a.name}: ${n}`));
  if (notes.length) lines.push('', 'Notes:', ...notes);
  if (opts.extra?.length) lines.push('', ...opts.extra);
  lines.push('');
  return lines.join('\n');
}
