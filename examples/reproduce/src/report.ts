/**
 * The reproduction report: report.md (tables of every cell × evaluated attribute beside the published anchors, a
 * paragraph generated from the numbers) and the SVG figures it embeds. Pure: it takes the collected numbers and
 * returns file contents, so that it is tested without training anything.
 */
import type { AttributeSummary } from '@fairclip/example-common';
import { aggregateRuns, formatMeanStd, type RunSummary, rocCurve, trapezoid } from '@fairclip/fairness';
import { resolvePresetConfig } from '@fairclip/train';
import {
  ANCHORS,
  type AnchorValue,
  aucRangeAnchor,
  type CellId,
  distanceAnchor,
  distanceAnchorColumn,
  FAIRFACE_ANCHORS,
  type MetricAnchor,
  metricAnchors,
  PROVENANCE_LABEL,
  valAucAnchor,
} from './anchors.ts';
import { barChart, lineChart } from './svg.ts';

export interface EpochPoint {
  epoch: number;
  trainLoss: number | null;
  valAuc: number | null;
  testAuc: number | null;
}

export interface TestScores {
  seed: number;
  labels: number[];
  scores: number[];
  /** Group id per sample for every evaluated attribute (−1 unknown). */
  groups: Record<string, number[]>;
}

export interface CellDistances {
  seed: number;
  distances: { attribute: string; group: string; n: number; distance: number; converged: boolean }[];
}

export interface CellResult {
  id: CellId;
  /** Folder-safe key: variant or variant/attribute. */
  key: string;
  /** Human label, e.g. "A-FairCLIP [race]". */
  label: string;
  description: string;
  mode: string;
  runs: { seed: number; outDir: string; reused: boolean; selectedEpoch: number | null; optimistic: boolean }[];
  test: AttributeSummary[];
  /** Selected epoch's validation AUC over seeds. */
  valAuc: RunSummary;
  curves: { seed: number; epochs: EpochPoint[] }[];
  /** Per-sample test scores of the selected epoch, first seed (null when the run wrote none). */
  scores: TestScores | null;
  distances: CellDistances[];
}

export interface ReportInput {
  title: string;
  generatedAt: string;
  facts: string[];
  attributes: readonly string[];
  /** Group names per evaluated attribute. */
  groupNames: Readonly<Record<string, readonly string[]>>;
  cells: readonly CellResult[];
  /** Notes on how the run deviates from the presets (e.g. the embedded default's quick profile). */
  profileNotes: string[];
  /** The study's FairFace experiments, reported in their own section (absent or null: not run). */
  fairface?: FairFaceInput | null;
}

/** The FairFace part of the grid: its own cells, attributes (age, race) and notes. */
export interface FairFaceInput {
  /** Data, model and seeds lines. */
  facts: string[];
  /** How the run deviates from the study (e.g. the embedded synthetic FairFace and its quick profile). */
  notes: string[];
  /** The evaluated attributes (the presets': age, race). */
  attributes: readonly string[];
  groupNames: Readonly<Record<string, readonly string[]>>;
  cells: readonly CellResult[];
}

export interface ReportFiles {
  /** report.md */
  markdown: string;
  /** Relative path under the report folder (figures/...) → SVG text. */
  figures: Map<string, string>;
  /** The comparisons the paragraph is generated from. */
  comparisons: Comparison[];
  /** The comparisons of the FairFace section's reading (empty without FairFace cells). */
  fairfaceComparisons: Comparison[];
}

const VARIANT_LABEL: Record<string, string> = {
  'clip-zeroshot': 'CLIP zero-shot',
  'clip-finetune': 'CLIP fine-tuned',
  'fairclip-official-2024': 'FairCLIP (official code, 2024)',
  'fairclip-official-2025': 'FairCLIP (official code, 2025)',
  'fairclip-debugged': 'FairCLIP (study-debugged)',
  'a-fairclip': 'A-FairCLIP',
  'fairclip-plus': 'FairCLIP+',
  'linear-probe': 'Linear probe',
  'fairface-clip-zeroshot': 'CLIP zero-shot (FairFace)',
  'fairface-clip-finetune': 'CLIP fine-tuned (FairFace)',
  'fairface-fairclip-plus': 'FairCLIP+ (FairFace)',
};

const sameWeights = (a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, w]) => b[k] === w);

/**
 * A cell's human label, from its effective configuration: `attributes` are the regularised attributes and weights the
 * cell's runs use (its resolved fairness.attributes, user overrides included; null without a fairness term). A cell
 * regularising exactly its grid attribute with weight 1 is "A-FairCLIP [race]"; a variant with its preset's weights
 * is "FairCLIP+"; anything else names every attribute with its weight, e.g. "A-FairCLIP [race 1, gender 0.5]" (after
 * `--set fairness.attributes.gender=0.5`), so that no label claims a configuration its numbers do not come from.
 * Without `attributes`: the grid's own label.
 */
export function cellLabel(id: CellId, attributes?: Readonly<Record<string, number>> | null): string {
  const v = VARIANT_LABEL[id.variant] ?? id.variant;
  const plain = id.attribute ? `${v} [${id.attribute}]` : v;
  if (attributes === undefined) return plain;
  const expected: Readonly<Record<string, number>> | null = id.attribute
    ? { [id.attribute]: 1 }
    : (resolvePresetConfig(id.variant).fairness?.attributes ?? null);
  if (attributes === null || expected === null)
    return attributes === expected
      ? plain
      : `${v} [${attributes === null ? 'no fairness term' : weightsText(attributes)}]`;
  return sameWeights(attributes, expected) ? plain : `${v} [${weightsText(attributes)}]`;
}

const weightsText = (attributes: Readonly<Record<string, number>>) =>
  Object.entries(attributes)
    .map(([a, w]) => `${a} ${w}`)
    .join(', ');

export const cellKey = (id: CellId): string => (id.attribute ? `${id.variant}/${id.attribute}` : id.variant);
const fileKey = (id: CellId): string => cellKey(id).replace('/', '-');

const fmtAnchor = (v: AnchorValue | null | undefined): string =>
  v === null || v === undefined
    ? '–'
    : v.std === null
      ? v.mean.toFixed(2)
      : `${v.mean.toFixed(2)} ± ${v.std.toFixed(2)}`;

const line = (r: readonly string[]) => `| ${r.join(' | ')} |`;
const table = (header: readonly string[], rows: readonly (readonly string[])[]) =>
  [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');

// ------------------------------------------------------------------------------------------------ comparisons

export type Metric = 'auc' | 'esAuc' | 'dpd' | 'deodds';
const METRIC_NAME: Record<Metric, string> = { auc: 'AUC', esAuc: 'ES-AUC', dpd: 'DPD', deodds: 'DEOdds' };
/** Whether larger is better (AUC, ES-AUC) or smaller (DPD, DEOdds). */
const HIGHER_BETTER: Record<Metric, boolean> = { auc: true, esAuc: true, dpd: false, deodds: false };

export interface Comparison {
  cell: string;
  baseline: string;
  attribute: string;
  metric: Metric;
  /** Means and sample stds ×100 (std null with fewer than two seeds). */
  a: { mean: number; std: number | null; n: number };
  b: { mean: number; std: number | null; n: number };
  delta: number;
  /** 'exceeds': |Δ| > std_a + std_b; 'within': not; 'no-spread': a side has fewer than two seeds. */
  verdict: 'exceeds' | 'within' | 'no-spread';
  /** Whether the difference favours the cell (direction of the metric). */
  better: boolean;
}

function stat(s: RunSummary): { mean: number; std: number | null; n: number } | null {
  if (s.mean.value === null) return null;
  return { mean: 100 * s.mean.value, std: s.std.value === null ? null : 100 * s.std.value, n: s.n };
}

/**
 * Compares two cells on one metric: the difference of the means "exceeds the seed spread" when it is larger than
 * the sum of the two sample standard deviations (the mean ± std intervals do not overlap).
 */
export function compare(cell: CellResult, baseline: CellResult, attribute: string, metric: Metric): Comparison | null {
  const pick = (c: CellResult) => c.test.find((t) => t.attribute === attribute)?.[metric];
  const sa = pick(cell);
  const sb = pick(baseline);
  if (!sa || !sb) return null;
  const a = stat(sa);
  const b = stat(sb);
  if (!a || !b) return null;
  const delta = a.mean - b.mean;
  const verdict =
    a.std === null || b.std === null ? 'no-spread' : Math.abs(delta) > a.std + b.std ? 'exceeds' : 'within';
  return {
    cell: cell.label,
    baseline: baseline.label,
    attribute,
    metric,
    a,
    b,
    delta,
    verdict,
    better: HIGHER_BETTER[metric] ? delta > 0 : delta < 0,
  };
}

/** The attributes a cell's regulariser targets (none for plain CLIP and the linear probe). */
function targets(cell: CellResult, attributes: readonly string[]): string[] {
  if (cell.id.attribute) return [cell.id.attribute];
  if (cell.id.variant === 'fairclip-plus') return attributes.filter((a) => a === 'race' || a === 'gender');
  return [];
}

/** The comparisons the generated paragraph reads: each regularised cell against CLIP fine-tuned on its targets. */
export function comparisons(input: ReportInput): Comparison[] {
  const base = input.cells.find((c) => c.id.variant === 'clip-finetune');
  const zs = input.cells.find((c) => c.id.variant === 'clip-zeroshot');
  const out: Comparison[] = [];
  if (base && zs) {
    const c = compare(base, zs, input.attributes[0] ?? 'race', 'auc');
    if (c) out.push(c);
  }
  if (!base) return out;
  for (const cell of input.cells)
    for (const a of targets(cell, input.attributes))
      for (const m of ['auc', 'esAuc', 'dpd', 'deodds'] as const) {
        const c = compare(cell, base, a, m);
        if (c) out.push(c);
      }
  return out;
}

const signed = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(2)}`;

/** The paragraph of what the numbers show, generated from the comparisons. */
export function paragraph(input: ReportInput, comps: readonly Comparison[]): string {
  const seeds = Math.max(0, ...input.cells.map((c) => c.runs.length));
  const parts: string[] = [];
  const reg = comps.filter((c) => !c.cell.startsWith('CLIP fine-tuned'));
  const exceeds = reg.filter((c) => c.verdict === 'exceeds');
  const noSpread = reg.filter((c) => c.verdict === 'no-spread');
  if (reg.length === 0) {
    parts.push(
      'No regularised variant was run together with CLIP fine-tuned, so no fairness comparison could be made.',
    );
  } else {
    parts.push(
      `Against CLIP fine-tuned, on the attributes each regulariser targets, ${reg.length} differences were compared ` +
        `(AUC, ES-AUC, DPD, DEOdds; a difference counts when it exceeds the sum of the two seed standard deviations, ` +
        `${seeds} seed${seeds === 1 ? '' : 's'} per cell).`,
    );
    if (noSpread.length === reg.length)
      parts.push('With a single seed per cell there is no seed spread, so no difference can be judged.');
    else if (exceeds.length === 0)
      parts.push('None exceeds the seed spread: on these runs the regularisers change nothing measurable.');
    else {
      const better = exceeds.filter((c) => c.better);
      const worse = exceeds.filter((c) => !c.better);
      const say = (c: Comparison) =>
        `${c.cell} on ${c.attribute} ${METRIC_NAME[c.metric]} (${signed(c.delta)} points, ${c.a.mean.toFixed(2)} ± ${(c.a.std ?? 0).toFixed(2)} vs ${c.b.mean.toFixed(2)} ± ${(c.b.std ?? 0).toFixed(2)})`;
      parts.push(
        `${exceeds.length} of ${reg.length} exceed the seed spread` +
          (better.length ? `; in the cell's favour: ${better.map(say).join('; ')}` : '') +
          (worse.length ? `; against it: ${worse.map(say).join('; ')}` : '') +
          '.',
      );
    }
  }
  const ft = comps.find((c) => c.cell.startsWith('CLIP fine-tuned'));
  if (ft)
    parts.push(
      `Fine-tuning moved the test AUC by ${signed(ft.delta)} points over zero-shot CLIP ` +
        (ft.verdict === 'exceeds'
          ? '(beyond the seed spread).'
          : ft.verdict === 'within'
            ? '(within the seed spread).'
            : '(one side has a single run: no seed spread to judge it by).'),
    );
  const dist = distanceSentence(input);
  if (dist) parts.push(dist);
  parts.push(
    'The published anchors (tables below) come from ViT-B/16 and ViT-L/14 on the real Harvard-FairVLMed; numbers ' +
      'from another model or dataset (such as the embedded synthetic default) are not comparable to them in value, only in kind.',
  );
  return parts.join(' ');
}

function meanDistances(cell: CellResult): Map<string, number> {
  const acc = new Map<string, number[]>();
  for (const d of cell.distances)
    for (const g of d.distances) {
      const k = `${g.attribute}/${g.group}`;
      acc.set(k, [...(acc.get(k) ?? []), g.distance]);
    }
  return new Map([...acc].map(([k, v]) => [k, v.reduce((a, b) => a + b, 0) / v.length]));
}

function distanceSentence(input: ReportInput): string | null {
  const base = input.cells.find((c) => c.id.variant === 'clip-finetune');
  if (!base || base.distances.length === 0) return null;
  const bd = meanDistances(base);
  const ratios: string[] = [];
  for (const cell of input.cells) {
    if (targets(cell, input.attributes).length === 0 || cell.distances.length === 0) continue;
    const cd = meanDistances(cell);
    const logs = [...cd].flatMap(([k, v]) => {
      const b = bd.get(k);
      return b !== undefined && b > 0 && v > 0 ? [Math.log10(v / b)] : [];
    });
    if (!logs.length) continue;
    const sorted = [...logs].sort((x, y) => x - y);
    const med = sorted[Math.floor(sorted.length / 2)] as number;
    ratios.push(`${cell.label} ×${(10 ** med).toPrecision(2)}`);
  }
  if (!ratios.length) return null;
  return (
    `Median ratio of the group Sinkhorn distances to CLIP fine-tuned's: ${ratios.join(', ')} ` +
    '(the study found the regularisers cut these distances by 1–3 orders of magnitude without improving AUC or fairness).'
  );
}

// ------------------------------------------------------------------------------------------------ tables

const fmtGroups = (s: AttributeSummary) => s.groups.map((g) => `${g.name} ${formatMeanStd(g.auc)}`).join(', ');

function anchorRow(a: MetricAnchor): string[] {
  const groups = [...a.groups].filter(([, v]) => v !== null);
  return [
    `↳ *anchor* [${a.provenance} §${a.section}] ${a.label}${a.note ? ' ‡' : ''}`,
    fmtAnchor(a.auc),
    fmtAnchor(a.esAuc),
    fmtAnchor(a.dpd),
    fmtAnchor(a.deodds),
    groups.length ? groups.map(([g, v]) => `${g} ${fmtAnchor(v)}`).join(', ') : '–',
  ];
}

function attributeTable(input: ReportInput, attribute: string): string {
  const rows: string[][] = [];
  const notes = new Set<string>();
  for (const cell of input.cells) {
    const s = cell.test.find((t) => t.attribute === attribute);
    if (!s) continue;
    rows.push([
      `**${cell.label}**${cell.runs.some((r) => r.optimistic) ? ' †' : ''}`,
      formatMeanStd(s.auc),
      formatMeanStd(s.esAuc),
      formatMeanStd(s.dpd),
      formatMeanStd(s.deodds),
      fmtGroups(s),
    ]);
    for (const a of metricAnchors(cell.id, attribute, input.groupNames[attribute] ?? [])) {
      rows.push(anchorRow(a));
      if (a.note) notes.add(a.note);
    }
  }
  const t = table(['Variant', 'AUC', 'ES-AUC', 'DPD', 'DEOdds', 'Group AUCs'], rows);
  return notes.size ? `${t}\n\n${[...notes].map((n) => `‡ ${n}.`).join(' ')}` : t;
}

function validationTable(input: ReportInput): string {
  const rows = input.cells.flatMap((cell) => {
    const a = valAucAnchor(cell.id);
    const r = aucRangeAnchor(cell.id);
    const test = cell.test[0]?.auc;
    return [
      [
        `**${cell.label}**`,
        formatMeanStd(cell.valAuc),
        test ? formatMeanStd(test) : '–',
        a ? `${fmtAnchor(a.auc)} (${a.label}; seeds ${a.seeds.join(', ')}) [${a.provenance} §${a.section}]` : '–',
        r ? `${r.min.toFixed(2)}–${r.max.toFixed(2)} (${r.label}) [ISS §7.4]` : '–',
      ],
    ];
  });
  return table(['Variant', 'val AUC (selected)', 'test AUC', 'anchor: val AUC', 'anchor: test AUC range'], rows);
}

function distanceTable(input: ReportInput): string | null {
  const cells = input.cells.filter((c) => c.distances.length > 0);
  if (!cells.length) return null;
  const keys = input.attributes.flatMap((a) => (input.groupNames[a] ?? []).map((g) => [a, g] as const));
  const means = cells.map(meanDistances);
  const cols = cells.map((c) => distanceAnchorColumn(c.id));
  const fmt = (v: number | undefined | null) =>
    v === undefined || v === null ? '–' : v >= 1e-3 && v < 1e5 ? v.toPrecision(3) : v.toExponential(2);
  const rows = keys.map(([a, g]) => [
    a,
    g,
    ...cells.map((_c, i) => {
      const ours = means[i]?.get(`${a}/${g}`);
      const col = cols[i];
      const anchor = col ? distanceAnchor(col, g) : null;
      return anchor === null ? fmt(ours) : `${fmt(ours)} (anchor ${fmt(anchor)})`;
    }),
  ]);
  return table(['attribute', 'group', ...cells.map((c) => c.label)], rows);
}

function anchorSection(): string {
  const out: string[] = [
    `Transcribed from ${ANCHORS.source} (data/anchors.json). Provenance: ` +
      Object.entries(ANCHORS.provenance)
        .map(([k, v]) => `**${k}** ${v}`)
        .join('; ') +
      '.',
  ];
  for (const t of ANCHORS.tables) {
    out.push(
      '',
      `### §${t.section} ${t.title} [${t.provenance}: ${PROVENANCE_LABEL[t.provenance]}]`,
      '',
      table(t.header, t.rows),
    );
    if (t.notes.length) out.push('', ...t.notes.map((n) => `- ${n}`));
  }
  return out.join('\n');
}

// ------------------------------------------------------------------------------------------------ figures

function groupAucFigure(input: ReportInput, attribute: string, dataset = ''): string {
  const groups = input.groupNames[attribute] ?? [];
  return barChart({
    title: `${dataset}Test AUC per ${attribute} group`,
    subtitle: 'mean over seeds, whiskers ± 1 sample std; missing bar = AUC undefined (one class or no sample)',
    yLabel: 'AUC',
    categories: [...groups],
    yDomain: [0, 1],
    series: input.cells.map((c) => {
      const s = c.test.find((t) => t.attribute === attribute);
      return {
        name: c.label,
        values: groups.map((_, g) => s?.groups[g]?.auc.mean.value ?? null),
        errors: groups.map((_, g) => s?.groups[g]?.auc.std.value ?? null),
      };
    }),
  });
}

/** The ROC curve (scikit-learn's roc_curve, @fairclip/fairness) as points with its AUC; null for one class. */
function roc(scores: readonly number[], labels: readonly number[]): { points: [number, number][]; auc: number } | null {
  const pos = labels.reduce((a, b) => a + b, 0);
  if (pos === 0 || pos === labels.length) return null;
  const c = rocCurve(labels, Float64Array.from(scores));
  return { points: Array.from(c.fpr, (x, i) => [x, c.tpr[i] as number]), auc: trapezoid(c.fpr, c.tpr) };
}

function rocFigure(cell: CellResult, attribute: string, groups: readonly string[]): string | null {
  const sc = cell.scores;
  if (!sc) return null;
  const ids = sc.groups[attribute];
  if (!ids) return null;
  const series: { name: string; points: [number, number][]; dashed?: boolean }[] = [];
  const all = roc(sc.scores, sc.labels);
  if (all) series.push({ name: `all (AUC ${all.auc.toFixed(3)})`, points: all.points, dashed: true });
  groups.forEach((g, k) => {
    const idx = ids.flatMap((v, i) => (v === k ? [i] : []));
    const curve = roc(
      idx.map((i) => sc.scores[i] as number),
      idx.map((i) => sc.labels[i] as number),
    );
    series.push(
      curve
        ? { name: `${g} (n ${idx.length}, AUC ${curve.auc.toFixed(3)})`, points: curve.points }
        : { name: `${g} (n ${idx.length}: one class, no curve)`, points: [] },
    );
  });
  return lineChart({
    title: `ROC per ${attribute} group: ${cell.label}`,
    subtitle: `test set, selected epoch, seed ${sc.seed}`,
    xLabel: 'false positive rate',
    yLabel: 'true positive rate',
    xDomain: [0, 1],
    yDomain: [0, 1],
    diagonal: true,
    series,
  });
}

function distanceFigure(input: ReportInput): string | null {
  const cells = input.cells.filter((c) => c.distances.length > 0);
  if (!cells.length) return null;
  const keys = input.attributes.flatMap((a) => (input.groupNames[a] ?? []).map((g) => `${a}/${g}`));
  const means = cells.map(meanDistances);
  return barChart({
    title: "Sinkhorn distance of each group's similarity distribution to the whole test set",
    subtitle: 'p 2, blur 1e-4, diameter 2, scaling 0.95 (the study); mean over seeds',
    yLabel: 'Sinkhorn distance',
    scale: 'log',
    categories: keys,
    series: cells.map((c, i) => ({
      name: c.label,
      values: keys.map((k) => {
        const v = means[i]?.get(k);
        return v === undefined || !(v > 0) ? null : v;
      }),
    })),
  });
}

function curveFigure(
  input: ReportInput,
  which: 'trainLoss' | 'valAuc',
  mode: 'finetune' | 'linear-probe',
  dataset = '',
): string | null {
  const cells = input.cells.filter((c) => c.mode === mode && c.curves.some((s) => s.epochs.length > 0));
  if (!cells.length) return null;
  const series = cells.map((c) => {
    const byEpoch = new Map<number, number[]>();
    for (const s of c.curves)
      for (const e of s.epochs) {
        const v = e[which];
        if (v !== null && Number.isFinite(v)) byEpoch.set(e.epoch, [...(byEpoch.get(e.epoch) ?? []), v]);
      }
    const points = [...byEpoch]
      .sort((a, b) => a[0] - b[0])
      .map(([e, v]) => [e + 1, v.reduce((a, b) => a + b, 0) / v.length] as [number, number]);
    return { name: c.label, points };
  });
  return lineChart({
    title: `${dataset}${which === 'trainLoss' ? 'Training loss per epoch' : 'Validation AUC per evaluated epoch'}${mode === 'linear-probe' ? ' (linear probe)' : ''}`,
    subtitle: 'mean over seeds',
    xLabel: 'epoch',
    yLabel: which === 'trainLoss' ? 'mean training loss' : 'validation AUC',
    integerX: true,
    ...(which === 'valAuc' ? { yDomain: [0, 1] as const } : {}),
    series,
  });
}

// ------------------------------------------------------------------------------------------------ FairFace

/**
 * The FairFace section's comparisons: FairCLIP+ against CLIP fine-tuned (both on FairFace) on the evaluated
 * attributes (age and race, the attributes FairCLIP+ regularises there) for AUC, ES-AUC, DPD and DEOdds, and
 * fine-tuning against zero-shot on the AUC; the same rule as the FairVLMed comparisons (compare).
 */
export function fairfaceComparisons(ff: FairFaceInput): Comparison[] {
  const by = (variant: string) => ff.cells.find((c) => c.id.variant === variant);
  const zs = by('fairface-clip-zeroshot');
  const ft = by('fairface-clip-finetune');
  const plus = by('fairface-fairclip-plus');
  const out: Comparison[] = [];
  if (ft && zs) {
    const c = compare(ft, zs, ff.attributes[0] ?? 'age', 'auc');
    if (c) out.push(c);
  }
  if (ft && plus)
    for (const a of ff.attributes)
      for (const m of ['auc', 'esAuc', 'dpd', 'deodds'] as const) {
        const c = compare(plus, ft, a, m);
        if (c) out.push(c);
      }
  return out;
}

/** The FairFace section's reading, generated from its comparisons. */
function fairfaceReading(ff: FairFaceInput, comps: readonly Comparison[]): string {
  const seeds = Math.max(0, ...ff.cells.map((c) => c.runs.length));
  const parts: string[] = [];
  const reg = comps.filter((c) => !c.cell.startsWith('CLIP fine-tuned'));
  if (reg.length === 0)
    parts.push(
      'FairCLIP+ was not run together with CLIP fine-tuned on FairFace, so no fairness comparison could be made.',
    );
  else {
    const exceeds = reg.filter((c) => c.verdict === 'exceeds');
    const say = (c: Comparison) =>
      `${c.attribute} ${METRIC_NAME[c.metric]} ${signed(c.delta)} points (${c.better ? 'in its favour' : 'against it'})`;
    parts.push(
      `FairCLIP+ against CLIP fine-tuned on FairFace: ${reg.length} differences compared (age and race; AUC, ES-AUC, ` +
        `DPD, DEOdds; ${seeds} seed${seeds === 1 ? '' : 's'} per cell; a difference counts when it exceeds the sum of ` +
        'the two seed standard deviations). ' +
        (reg.every((c) => c.verdict === 'no-spread')
          ? 'With a single seed per cell there is no seed spread, so no difference can be judged.'
          : exceeds.length === 0
            ? 'None exceeds the seed spread.'
            : `${exceeds.length} exceed the seed spread: ${exceeds.map(say).join('; ')}.`),
    );
  }
  const ft = comps.find((c) => c.cell.startsWith('CLIP fine-tuned'));
  if (ft)
    parts.push(
      `Fine-tuning moved the test AUC of gender classification by ${signed(ft.delta)} points over zero-shot CLIP ` +
        (ft.verdict === 'exceeds'
          ? '(beyond the seed spread).'
          : ft.verdict === 'within'
            ? '(within the seed spread).'
            : '(one side has a single run: no seed spread to judge it by).'),
    );
  return parts.join(' ');
}

/** The FairFace section of report.md, its figures (under figures/fairface/) and its comparisons. */
function fairfaceSection(ff: FairFaceInput): {
  markdown: string[];
  figures: [string, string][];
  comparisons: Comparison[];
} {
  const comps = fairfaceComparisons(ff);
  const sub: ReportInput = {
    title: '',
    generatedAt: '',
    facts: [],
    attributes: ff.attributes,
    groupNames: ff.groupNames,
    cells: ff.cells,
    profileNotes: [],
  };
  const A = FAIRFACE_ANCHORS;
  const md: string[] = [
    "## FairFace (the study's second dataset)",
    '',
    "The reproducibility study's FairFace experiments (fairclip.md §5): zero-shot **gender** classification " +
      '(prompts "A picture of a female person" / "A picture of a male person", male the positive class) by CLIP, ' +
      'CLIP fine-tuned on FairFace, and FairCLIP+ regularising age and race (0.5 / 0.5); sensitive attributes age ' +
      `(${ff.groupNames.age?.length ?? 9} groups) and race (${ff.groupNames.race?.length ?? 7} groups).`,
    '',
    ...ff.facts.map((f) => `- ${f}`),
  ];
  if (ff.notes.length) md.push('', ...ff.notes.map((n) => `> ${n}`));
  md.push(
    '',
    `**No published FairFace numbers.** fairclip.md has none to set beside these rows: its result anchors (§7) hold ` +
      `no FairFace value, and the study's FairFace tables "were not accessible" (fairclip.md §${A.none.section}). ` +
      `The study's conclusion [${A.conclusion.provenance} §${A.conclusion.section}]: "${A.conclusion.text}". ` +
      `The study's FairFace setup [${A.setup.provenance} §${A.setup.section}]: ${A.setup.text}.`,
    '',
    fairfaceReading(ff, comps),
    '',
    'Tables: test set at each run\'s selected epoch; ×100; mean ± sample std (ddof 1) over seeds; "–" where ' +
      'undefined (a group with one class or no sample).',
  );
  const figures: [string, string][] = [];
  for (const a of ff.attributes) {
    md.push('', `### FairFace: ${a}`, '', attributeTable(sub, a));
    const f = `figures/fairface/group-auc-${a}.svg`;
    figures.push([f, groupAucFigure(sub, a, 'FairFace: ')]);
    md.push('', `![FairFace group AUCs, ${a}](${f})`);
  }
  const curves = (['trainLoss', 'valAuc'] as const).flatMap((which) => {
    const svg = curveFigure(sub, which, 'finetune', 'FairFace: ');
    if (!svg) return [];
    const name = which === 'trainLoss' ? 'training-loss' : 'validation-auc';
    return [
      {
        file: `figures/fairface/${name}.svg`,
        svg,
        alt: `FairFace ${which === 'trainLoss' ? 'training loss' : 'validation AUC'}`,
      },
    ];
  });
  if (curves.length) {
    md.push('', '### FairFace: training curves', '');
    for (const c of curves) {
      figures.push([c.file, c.svg]);
      md.push(`![${c.alt}](${c.file})`, '');
    }
  }
  return { markdown: md, figures, comparisons: comps };
}

// ------------------------------------------------------------------------------------------------ the report

export function buildReport(input: ReportInput): ReportFiles {
  const figures = new Map<string, string>();
  const comps = comparisons(input);
  const md: string[] = [
    `# ${input.title}`,
    '',
    `Generated ${input.generatedAt}.`,
    '',
    ...input.facts.map((f) => `- ${f}`),
  ];
  if (input.profileNotes.length) md.push('', ...input.profileNotes.map((n) => `> ${n}`));
  md.push('', '## What the numbers show', '', paragraph(input, comps), '');
  md.push(
    '## Results per evaluated attribute',
    '',
    'Test set at each run\'s selected epoch; ×100; mean ± sample std (ddof 1) over seeds; "–" where undefined ' +
      '(a group with one class or no sample). Rows marked *anchor* are published numbers (provenance and section of ' +
      'fairclip.md in brackets) for the corresponding variant; † = epoch selected on test AUC (optimistic, as the official code).',
  );
  for (const a of input.attributes) {
    md.push('', `### ${a}`, '', attributeTable(input, a));
    const f = `figures/group-auc-${a}.svg`;
    figures.set(f, groupAucFigure(input, a));
    md.push('', `![Group AUCs, ${a}](${f})`);
  }
  md.push('', '## Validation AUC and the published runs', '', validationTable(input));
  const dt = distanceTable(input);
  if (dt) {
    md.push(
      '',
      '## Sinkhorn distances per group',
      '',
      "Distance between each group's distribution of image–text similarities exp(s)·cos and the whole test set's, " +
        "the study's analysis (best checkpoint of each run; the zero-shot cell uses the initial weights). Anchor values " +
        '[REPRO §7.3] are from ViT-B/16 on the real data: only relative magnitudes compare.',
      '',
      dt,
    );
    const fig = distanceFigure(input);
    if (fig) {
      figures.set('figures/sinkhorn-distances.svg', fig);
      md.push('', '![Sinkhorn distances per group (log scale)](figures/sinkhorn-distances.svg)');
    }
  }
  const curves = (['finetune', 'linear-probe'] as const).flatMap((mode) =>
    (['trainLoss', 'valAuc'] as const).flatMap((which) => {
      const svg = curveFigure(input, which, mode);
      if (!svg) return [];
      const name = `${which === 'trainLoss' ? 'training-loss' : 'validation-auc'}${mode === 'linear-probe' ? '-linear-probe' : ''}`;
      return [
        {
          file: `figures/${name}.svg`,
          svg,
          alt: `${which === 'trainLoss' ? 'Training loss' : 'Validation AUC'}${mode === 'linear-probe' ? ', linear probe' : ''}`,
        },
      ];
    }),
  );
  if (curves.length) {
    md.push('', '## Training curves', '');
    for (const c of curves) {
      figures.set(c.file, c.svg);
      md.push(`![${c.alt}](${c.file})`, '');
    }
  }
  md.push('', '## ROC curves per group', '');
  for (const a of input.attributes) {
    const links: string[] = [];
    for (const cell of input.cells) {
      const fig = rocFigure(cell, a, input.groupNames[a] ?? []);
      if (!fig) continue;
      const f = `figures/roc/${fileKey(cell.id)}-${a}.svg`;
      figures.set(f, fig);
      links.push(`![ROC ${cell.label}, ${a}](${f})`);
    }
    if (links.length) md.push(`### ${a}`, '', ...links, '');
  }
  const ff = input.fairface ? fairfaceSection(input.fairface) : null;
  if (ff) {
    md.push(...ff.markdown, '');
    for (const [f, svg] of ff.figures) figures.set(f, svg);
  }
  md.push(
    '## Runs',
    '',
    table(
      ['Variant', 'seed', 'selected epoch', 'reused', 'run folder'],
      [...input.cells, ...(input.fairface?.cells ?? [])].flatMap((c) =>
        c.runs.map((r) => [
          c.label,
          String(r.seed),
          r.selectedEpoch === null ? '–' : String(r.selectedEpoch),
          r.reused ? 'yes' : 'no',
          r.outDir,
        ]),
      ),
    ),
  );
  md.push('', '## Published anchors', '', anchorSection(), '');
  return { markdown: md.join('\n'), figures, comparisons: comps, fairfaceComparisons: ff?.comparisons ?? [] };
}

/** Mean ± std over seeds of a list of per-seed values (null entries = undefined). */
export function summarize(values: readonly (number | null)[]): RunSummary {
  return aggregateRuns(
    values.map((v) => (v === null ? { value: null, code: 'UNDEFINED', reason: 'undefined' } : v)) as Parameters<
      typeof aggregateRuns
    >[0],
  );
}
