// Dataset statistics like the papers' dataset tables: per split, per attribute group, counts and glaucoma rates,
// before and after the official filter; plus a consistency check against data_summary.csv when present.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  FAIRVLMED_ATTRIBUTES,
  FAIRVLMED_EVAL_ATTRIBUTES,
  FAIRVLMED_GROUPS,
  type FairVlmedAttribute,
} from '@fairclip/io';
import { ioError } from '../errors.ts';
import { naturalCompare } from '../natural-sort.ts';
import { readDataSummary, readFairVlmedRecordKeys, splitFolder } from './dataset.ts';
import { SPLITS, type Split, UNKNOWN } from './schema.ts';

export interface GroupCount {
  /** Samples in the group. */
  n: number;
  /** Of which glaucoma. */
  glaucoma: number;
}

export interface SplitStats {
  split: Split;
  folder: string;
  /** Every npz in the folder. */
  files: GroupCount;
  /** After the official filter (training: all; validation/test: no unknown race, gender, ethnicity, language). */
  used: GroupCount;
  /** Per attribute, per group code (−1 = unknown), over the used samples. */
  groups: Record<FairVlmedAttribute, Map<number, GroupCount>>;
}

export interface DatasetStats {
  root: string;
  splits: SplitStats[];
  /** Comparison with data_summary.csv, when the file exists. */
  summaryCheck?: { rows: number; missingFromCsv: string[]; disagreements: string[] };
}

function add(c: GroupCount, glaucoma: number): void {
  c.n++;
  c.glaucoma += glaucoma;
}

/** Computes the statistics of a Harvard-FairVLMed folder from the npz files (the label and attributes only). */
export function computeStats(root: string): DatasetStats {
  const splits: SplitStats[] = [];
  const npzMeta = new Map<string, { split: Split; glaucoma: number; attributes: Record<FairVlmedAttribute, number> }>();
  for (const split of SPLITS) {
    let folder: string;
    try {
      folder = splitFolder(root, split);
    } catch (e) {
      if (split !== 'train' && (e as { code?: string }).code === 'NOT_FOUND' && existsSync(root)) continue;
      throw e;
    }
    let names: string[];
    try {
      names = readdirSync(folder)
        .filter((f) => f.endsWith('.npz'))
        .sort(naturalCompare);
    } catch (e) {
      throw ioError(e, folder);
    }
    const s: SplitStats = {
      split,
      folder,
      files: { n: 0, glaucoma: 0 },
      used: { n: 0, glaucoma: 0 },
      groups: Object.fromEntries(FAIRVLMED_ATTRIBUTES.map((a) => [a, new Map()])) as SplitStats['groups'],
    };
    for (const file of names) {
      const m = readFairVlmedRecordKeys(join(folder, file));
      npzMeta.set(file, { split, ...m });
      add(s.files, m.glaucoma);
      if (split !== 'train' && FAIRVLMED_EVAL_ATTRIBUTES.some((a) => m.attributes[a] === UNKNOWN)) continue;
      add(s.used, m.glaucoma);
      for (const a of FAIRVLMED_ATTRIBUTES) {
        const g = s.groups[a];
        const code = m.attributes[a];
        if (!g.has(code)) g.set(code, { n: 0, glaucoma: 0 });
        add(g.get(code)!, m.glaucoma);
      }
    }
    splits.push(s);
  }
  const stats: DatasetStats = { root, splits };
  const csv = join(root, 'data_summary.csv');
  if (existsSync(csv)) {
    const rows = readDataSummary(csv);
    const byName = new Map(rows.map((r) => [r.filename, r]));
    const missingFromCsv: string[] = [];
    const disagreements: string[] = [];
    for (const [file, m] of npzMeta) {
      const r = byName.get(file);
      if (!r) {
        missingFromCsv.push(file);
        continue;
      }
      const diffs: string[] = [];
      if (r.use !== m.split) diffs.push(`use ${r.use} vs folder ${m.split}`);
      if (r.glaucoma !== m.glaucoma) diffs.push(`glaucoma ${r.glaucoma} vs ${m.glaucoma}`);
      for (const a of FAIRVLMED_ATTRIBUTES) {
        if (r.attributes[a] !== m.attributes[a]) diffs.push(`${a} ${r.attributes[a]} vs ${m.attributes[a]}`);
      }
      if (diffs.length > 0) disagreements.push(`${file} (line ${r.line}): csv vs npz: ${diffs.join(', ')}`);
    }
    stats.summaryCheck = { rows: rows.length, missingFromCsv, disagreements };
  }
  return stats;
}

function pct(a: number, b: number): string {
  return b === 0 ? '-' : `${((100 * a) / b).toFixed(1)}%`;
}

function groupLabel(a: FairVlmedAttribute, code: number): string {
  return code === UNKNOWN ? 'unknown' : (FAIRVLMED_GROUPS[a][code] ?? String(code));
}

/** A plain-text table: split sizes, then per attribute and group, n (share) and glaucoma rate per split. */
export function formatStats(stats: DatasetStats): string {
  const lines: string[] = [];
  const pad = (s: string, n: number) => s.padEnd(n);
  const lpad = (s: string, n: number) => s.padStart(n);
  lines.push(`Harvard-FairVLMed at ${stats.root}`);
  lines.push('');
  lines.push(`${pad('split', 12)}${lpad('files', 8)}${lpad('used', 8)}${lpad('glaucoma', 16)}`);
  for (const s of stats.splits) {
    lines.push(
      `${pad(s.split, 12)}${lpad(String(s.files.n), 8)}${lpad(String(s.used.n), 8)}${lpad(`${s.used.glaucoma} (${pct(s.used.glaucoma, s.used.n)})`, 16)}`,
    );
  }
  lines.push('');
  lines.push('"used" = after the official filter (validation/test drop unknown race, gender, ethnicity, language).');
  lines.push('Cells: n (share of the split) / glaucoma rate.');
  const col = 26;
  lines.push('');
  lines.push(`${pad('attribute', 14)}${pad('group', 22)}${stats.splits.map((s) => lpad(s.split, col)).join('')}`);
  for (const a of FAIRVLMED_ATTRIBUTES) {
    const codes = new Set<number>();
    for (const s of stats.splits) for (const c of s.groups[a].keys()) codes.add(c);
    const sorted = [...codes].sort((x, y) => (x === UNKNOWN ? 1 : y === UNKNOWN ? -1 : x - y));
    sorted.forEach((code, k) => {
      const cells = stats.splits.map((s) => {
        const g = s.groups[a].get(code) ?? { n: 0, glaucoma: 0 };
        return lpad(`${g.n} (${pct(g.n, s.used.n)}) / ${pct(g.glaucoma, g.n)}`, col);
      });
      lines.push(`${pad(k === 0 ? a : '', 14)}${pad(groupLabel(a, code), 22)}${cells.join('')}`);
    });
  }
  if (stats.summaryCheck) {
    const c = stats.summaryCheck;
    lines.push('');
    lines.push(
      `data_summary.csv: ${c.rows} rows; ${c.missingFromCsv.length} npz files without a row; ${c.disagreements.length} disagreements with the npz values`,
    );
    for (const d of c.disagreements.slice(0, 20)) lines.push(`  ${d}`);
    if (c.disagreements.length > 20) lines.push(`  ... and ${c.disagreements.length - 20} more`);
  }
  return `${lines.join('\n')}\n`;
}

/** The statistics as plain JSON (maps become objects keyed by group name). */
export function statsToJson(stats: DatasetStats): unknown {
  return {
    root: stats.root,
    splits: stats.splits.map((s) => ({
      split: s.split,
      folder: s.folder,
      files: s.files,
      used: s.used,
      groups: Object.fromEntries(
        FAIRVLMED_ATTRIBUTES.map((a) => [
          a,
          Object.fromEntries([...s.groups[a]].sort((x, y) => x[0] - y[0]).map(([code, c]) => [groupLabel(a, code), c])),
        ]),
      ),
    })),
    ...(stats.summaryCheck ? { summaryCheck: stats.summaryCheck } : {}),
  };
}
