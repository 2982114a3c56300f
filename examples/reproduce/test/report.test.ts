/**
 * The report from known numbers (no training): the comparison rule (difference of means against the sum of the
 * seed stds), the generated paragraph, tables beside the anchors, and the figures with the expected series.
 */
import { FAIRFACE_AGES, FAIRFACE_RACES } from '@fairclip/datasets';
import type { AttributeSummary } from '@fairclip/example-common';
import { resolvePresetConfig } from '@fairclip/train';
import { describe, expect, test } from 'vitest';
import { markdownTables } from '../src/anchors.ts';
import {
  buildReport,
  type CellResult,
  cellLabel,
  compare,
  type FairFaceInput,
  type ReportInput,
  summarize,
} from '../src/report.ts';
import { svgSeries } from './svg.test.ts';

const GROUPS: Record<string, string[]> = {
  race: ['Asian', 'Black', 'White'],
  gender: ['Female', 'Male'],
  ethnicity: ['Non-Hispanic', 'Hispanic'],
  language: ['English', 'Spanish', 'Other'],
};
/** FairFace's evaluated attributes with the dataset's group names. */
const FF_GROUPS: Record<string, string[]> = {
  age: [...FAIRFACE_AGES],
  race: [...FAIRFACE_RACES],
};

/** An attribute summary whose every metric has the given per-seed values (group AUCs: the AUC values). */
function attr(
  attribute: string,
  m: { auc: number[]; esAuc?: number[]; dpd?: number[]; deodds?: number[] },
  groupNames: Record<string, string[]> = GROUPS,
): AttributeSummary {
  const s = (v: number[] | undefined) => summarize(v ?? m.auc.map(() => null));
  return {
    attribute,
    auc: s(m.auc),
    esAuc: s(m.esAuc),
    dpd: s(m.dpd),
    deodds: s(m.deodds),
    esAcc: s(undefined),
    groups: (groupNames[attribute] ?? []).map((name) => ({ name, auc: s(m.auc) })),
  };
}

function cell(
  variant: string,
  attribute: string | null,
  m: Parameters<typeof attr>[1],
  extra: Partial<CellResult> = {},
): CellResult {
  const id = { variant, attribute };
  return {
    id,
    key: attribute ? `${variant}/${attribute}` : variant,
    label: cellLabel(id),
    description: variant,
    mode: variant === 'clip-zeroshot' ? 'zeroshot' : variant === 'linear-probe' ? 'linear-probe' : 'finetune',
    runs: m.auc.map((_, k) => ({
      seed: k + 1,
      outDir: `/runs/${variant}/seed-${k + 1}`,
      reused: false,
      selectedEpoch: 1,
      optimistic: false,
    })),
    test: Object.keys(GROUPS).map((a) => attr(a, m)),
    valAuc: summarize(m.auc),
    curves: m.auc.map((_, k) => ({
      seed: k + 1,
      epochs: [0, 1, 2].map((e) => ({
        epoch: e,
        trainLoss: 2 - e * 0.1 - k * 0.01,
        valAuc: 0.5 + e * 0.05,
        testAuc: 0.5,
      })),
    })),
    scores: {
      seed: 1,
      labels: [1, 0, 1, 0, 1, 0],
      scores: [0.9, 0.8, 0.7, 0.2, 0.4, 0.1],
      groups: {
        race: [0, 0, 1, 1, 2, 2],
        gender: [0, 1, 0, 1, 0, 0],
        ethnicity: [0, 0, 0, 0, 0, 0],
        language: [0, 0, 0, 1, 1, 2],
      },
    },
    distances: m.auc.map((_, k) => ({
      seed: k + 1,
      distances: Object.entries(GROUPS).flatMap(([a, gs]) =>
        gs.map((g, i) => ({
          attribute: a,
          group: g,
          n: 5,
          distance: (variant === 'clip-finetune' ? 100 : 1) * (i + 1 + k),
          converged: true,
        })),
      ),
    })),
    ...extra,
  };
}

const input = (cells: CellResult[]): ReportInput => ({
  title: 'T',
  generatedAt: '2026-01-01T00:00:00Z',
  facts: ['fact one'],
  attributes: Object.keys(GROUPS),
  groupNames: GROUPS,
  cells,
  profileNotes: [],
});

describe('comparisons', () => {
  const base = cell('clip-finetune', null, { auc: [0.6, 0.61, 0.62], dpd: [0.1, 0.12, 0.14] });
  test('a difference larger than the sum of the stds exceeds the spread; direction follows the metric', () => {
    const better = cell('a-fairclip', 'race', { auc: [0.7, 0.71, 0.72], dpd: [0.3, 0.32, 0.34] });
    const auc = compare(better, base, 'race', 'auc')!;
    expect(auc.delta).toBeCloseTo(10, 10);
    expect(auc.a.std).toBeCloseTo(1, 10);
    expect(auc.verdict).toBe('exceeds');
    expect(auc.better).toBe(true);
    const dpd = compare(better, base, 'race', 'dpd')!;
    expect(dpd.verdict).toBe('exceeds');
    expect(dpd.better).toBe(false); // a larger demographic-parity difference is worse
  });

  test('within the spread; and no spread with one seed', () => {
    const close = cell('a-fairclip', 'race', { auc: [0.6, 0.63, 0.61] });
    expect(compare(close, base, 'race', 'auc')!.verdict).toBe('within');
    const one = cell('a-fairclip', 'race', { auc: [0.9] });
    expect(compare(one, base, 'race', 'auc')!.verdict).toBe('no-spread');
    expect(compare(close, base, 'race', 'esAuc')).toBeNull(); // undefined metric: nothing to compare
  });

  test('the paragraph says which differences exceed the spread, in which direction, and reads the distances', () => {
    const files = buildReport(
      input([
        cell('clip-zeroshot', null, { auc: [0.5] }),
        base,
        cell('a-fairclip', 'race', { auc: [0.7, 0.71, 0.72], dpd: [0.1, 0.13, 0.12] }),
      ]),
    );
    const para = files.markdown.split('## What the numbers show')[1]!.split('##')[0]!;
    expect(para).toMatch(/Against CLIP fine-tuned.*2 differences were compared/s);
    expect(para).toContain(
      "1 of 2 exceed the seed spread; in the cell's favour: A-FairCLIP [race] on race AUC (+10.00 points",
    );
    expect(para).toContain('Fine-tuning moved the test AUC by +11.00 points');
    expect(para).toContain('A-FairCLIP [race] ×0.01');
  });

  test('nothing exceeds: said so', () => {
    const files = buildReport(input([base, cell('a-fairclip', 'race', { auc: [0.6, 0.63, 0.61] })]));
    expect(files.markdown).toContain('None exceeds the seed spread');
  });
});

describe('report', () => {
  const cells = [
    cell('clip-zeroshot', null, { auc: [0.5] }),
    cell('clip-finetune', null, { auc: [0.6, 0.61, 0.62] }),
    cell('fairclip-official-2025', 'race', { auc: [0.62, 0.6, 0.61] }),
    cell('linear-probe', null, { auc: [0.7, 0.71, 0.7] }, { distances: [] }),
  ];
  const files = buildReport(input(cells));
  const md = files.markdown;

  test('one table per evaluated attribute with a row per cell and anchor rows with provenance', () => {
    for (const a of Object.keys(GROUPS))
      expect(md).toContain(`### ${a}\n\n| Variant | AUC | ES-AUC | DPD | DEOdds | Group AUCs |`);
    const race = md.split('### race')[1]!.split('###')[0]!;
    for (const c of cells) expect(race).toContain(`**${c.label}**`);
    expect(race).toContain('↳ *anchor* [OFF §7.1] CLIP, released checkpoint');
    expect(race).toContain('| 69.02 | 64.64 |');
    expect(race).toContain(
      '↳ *anchor* [2ND §7.2] CLIP, CVPR paper | 67.84 ± 0.90 | 61.67 ± 0.63 | 15.35 ± 6.50 | 15.11 ± 5.01 |',
    );
    expect(race).toMatch(/↳ \*anchor\* \[OFF §7\.1\] FairCLIP \(Race\), released checkpoint ‡ \| 71\.06 \| 67\.14 \|/);
    expect(race).toContain('↳ *anchor* [REPRO §7.3] CLIP linear probe');
    expect(race).toContain('‡ the README’s race columns read');
    expect(race).toContain('| **CLIP fine-tuned** | 61.00 ± 1.00 |');
    // the published tables, whole
    expect(md).toContain('## Published anchors');
    expect(md).toContain('| FairCLIP (Ethnicity) | 0.7275 |');
  });

  test('validation table with the study runs and third-party ranges', () => {
    const v = md.split('## Validation AUC')[1]!.split('##')[0]!;
    expect(v).toContain('CLIP-FT ViT-B/16; seeds 313, 4679, 489) [REPRO §7.3]');
    expect(v).toContain('56.22–73.40 (CLIP (official code, test-set selection)) [ISS §7.4]');
  });

  test('figures: valid SVG with one series per cell (or per group for ROC), all linked from the report', () => {
    for (const a of Object.keys(GROUPS)) {
      const svg = files.figures.get(`figures/group-auc-${a}.svg`)!;
      expect(svgSeries(svg).names).toEqual(cells.map((c) => c.label));
    }
    const roc = svgSeries(files.figures.get('figures/roc/fairclip-official-2025-race-race.svg')!);
    expect(roc.names).toHaveLength(4); // all + three groups
    expect(roc.names[0]).toMatch(/^all \(AUC /);
    expect(roc.names[1]).toMatch(/^Asian \(n 2, AUC 1\.000\)$/);
    const eth = svgSeries(files.figures.get('figures/roc/clip-finetune-ethnicity.svg')!);
    expect(eth.names[2]).toBe('Hispanic (n 0: one class, no curve)');
    const dist = files.figures.get('figures/sinkhorn-distances.svg')!;
    expect(svgSeries(dist).names).toEqual(cells.slice(0, 3).map((c) => c.label)); // the probe has no distances
    expect(dist).toContain('(log scale)');
    const loss = svgSeries(files.figures.get('figures/training-loss.svg')!);
    expect(loss.names).toEqual(cells.slice(1, 3).map((c) => c.label)); // zero-shot has no training, the probe its own
    expect(svgSeries(files.figures.get('figures/training-loss-linear-probe.svg')!).names).toEqual(['Linear probe']);
    for (const f of files.figures.keys()) expect(md).toContain(`](${f})`);
  });
});

describe('cell labels come from the effective configuration', () => {
  test('a grid cell as the grid made it keeps its short label', () => {
    expect(cellLabel({ variant: 'a-fairclip', attribute: 'race' }, { race: 1 })).toBe('A-FairCLIP [race]');
    expect(cellLabel({ variant: 'clip-finetune', attribute: null }, null)).toBe('CLIP fine-tuned');
    // FairCLIP+ with its preset's weights (read from the preset, not written here)
    const plus = resolvePresetConfig('fairclip-plus').fairness!.attributes;
    expect(cellLabel({ variant: 'fairclip-plus', attribute: null }, plus)).toBe('FairCLIP+');
  });

  test('any other attributes or weights are named, with their weights', () => {
    expect(cellLabel({ variant: 'a-fairclip', attribute: 'race' }, { race: 1, gender: 0.5 })).toBe(
      'A-FairCLIP [race 1, gender 0.5]',
    );
    expect(cellLabel({ variant: 'fairclip-official-2024', attribute: 'gender' }, { gender: 2 })).toBe(
      'FairCLIP (official code, 2024) [gender 2]',
    );
    const plus = resolvePresetConfig('fairclip-plus', ['fairness.attributes.gender=1']).fairness!.attributes;
    expect(cellLabel({ variant: 'fairclip-plus', attribute: null }, plus)).toBe(
      `FairCLIP+ [${Object.entries(plus)
        .map(([a, w]) => `${a} ${w}`)
        .join(', ')}]`,
    );
    expect(cellLabel({ variant: 'fairclip-plus', attribute: null }, plus)).toContain('gender 1');
  });

  test('the report names such a cell by that label in its tables and figures', () => {
    const label = cellLabel({ variant: 'a-fairclip', attribute: 'race' }, { race: 1, gender: 0.5 });
    const m = { auc: [0.6, 0.62] };
    const c = { ...cell('a-fairclip', 'race', m), label };
    const files = buildReport(input([cell('clip-finetune', null, m), c]));
    expect(files.markdown).toContain(`**${label}**`);
    expect(files.markdown).not.toContain('A-FairCLIP [race]');
  });
});

describe('the FairFace section', () => {
  /** A FairFace cell: age and race metrics from the given per-seed values; training curves unless zero-shot. */
  const ffCell = (variant: string, m: Parameters<typeof attr>[1]): CellResult => {
    const c = cell(variant, null, m, { distances: [], scores: null });
    return {
      ...c,
      mode: variant === 'fairface-clip-zeroshot' ? 'zeroshot' : 'finetune',
      test: Object.keys(FF_GROUPS).map((a) => attr(a, m, FF_GROUPS)),
      curves: variant === 'fairface-clip-zeroshot' ? c.curves.map((s) => ({ ...s, epochs: [] })) : c.curves,
    };
  };
  const ffCells = [
    ffCell('fairface-clip-zeroshot', { auc: [0.55] }),
    ffCell('fairface-clip-finetune', { auc: [0.6, 0.62], dpd: [0.1, 0.3] }),
    ffCell('fairface-fairclip-plus', { auc: [0.7, 0.72], dpd: [0.2, 0.4] }),
  ];
  const ff: FairFaceInput = {
    facts: ['FairFace fact'],
    notes: ['FairFace note'],
    attributes: Object.keys(FF_GROUPS),
    groupNames: FF_GROUPS,
    cells: ffCells,
  };
  const vlmed = [cell('clip-finetune', null, { auc: [0.6, 0.61, 0.62] })];
  const files = buildReport({ ...input(vlmed), fairface: ff });
  const md = files.markdown;
  const section = md.split("## FairFace (the study's second dataset)")[1]!.split('\n## ')[0]!;

  test('its own section: facts, notes, one table per attribute with a row per cell (×100, mean ± std)', () => {
    expect(section).toContain('- FairFace fact');
    expect(section).toContain('> FairFace note');
    for (const a of ['age', 'race']) {
      const t = markdownTables(section.split(`### FairFace: ${a}\n`)[1]!)[0]!;
      expect(t[0]).toEqual(['Variant', 'AUC', 'ES-AUC', 'DPD', 'DEOdds', 'Group AUCs']);
      // rows: the three cells, no anchor rows (the brief has no FairFace numbers)
      expect(t.slice(1).map((r) => r[0])).toEqual([
        '**CLIP zero-shot (FairFace)**',
        '**CLIP fine-tuned (FairFace)**',
        '**FairCLIP+ (FairFace)**',
      ]);
      // 0.6, 0.62: mean 61, sample std 0.02/√2 = 1.414 (×100); DPD 0.1, 0.3: 20 ± 14.14; one seed: no std
      expect(t[2]!.slice(1, 4)).toEqual(['61.00 ± 1.41', '–', '20.00 ± 14.14']);
      expect(t[1]![1]).toBe('55.00');
      const groups = (a === 'age' ? FAIRFACE_AGES : FAIRFACE_RACES).map((g) => `${g} 71.00 ± 1.41`).join(', ');
      expect(t[3]![5]).toBe(groups);
    }
  });

  test('the study has no FairFace numbers: said plainly, with the brief’s conclusion and setup and their sections', () => {
    expect(section).not.toContain('*anchor*');
    expect(section).toContain('**No published FairFace numbers.**');
    expect(section).toContain('"were not accessible" (fairclip.md §10)');
    expect(section).toContain('[REPRO §6]: "generalisation to FairFace not evident"');
    expect(section).toContain('[REPRO §5]: RN50 backbone, bs 128');
  });

  test('the reading compares FairCLIP+ with CLIP fine-tuned on age and race by the seed-spread rule', () => {
    // AUC +10 points with stds 1.41 + 1.41: exceeds; DPD +10 with stds 14.14 + 14.14: within; ES-AUC undefined
    const comps = files.fairfaceComparisons;
    const plus = comps.filter((c) => c.cell === 'FairCLIP+ (FairFace)');
    expect(plus.map((c) => `${c.attribute} ${c.metric} ${c.verdict}`)).toEqual([
      'age auc exceeds',
      'age dpd within',
      'race auc exceeds',
      'race dpd within',
    ]);
    expect(plus[0]!.delta).toBeCloseTo(10, 10);
    expect(section).toContain(
      'FairCLIP+ against CLIP fine-tuned on FairFace: 4 differences compared (age and race; AUC, ES-AUC, DPD, DEOdds; 2 seeds per cell',
    );
    expect(section).toContain(
      '2 exceed the seed spread: age AUC +10.00 points (in its favour); race AUC +10.00 points (in its favour).',
    );
    expect(section).toContain(
      'Fine-tuning moved the test AUC of gender classification by +6.00 points over zero-shot CLIP (one side has a single run',
    );
    // the FairVLMed reading is not changed by the FairFace cells
    expect(files.comparisons).toEqual(buildReport(input(vlmed)).comparisons);
  });

  test('figures under figures/fairface/, with the FairFace cells as series and linked from the section', () => {
    for (const a of ['age', 'race']) {
      const f = `figures/fairface/group-auc-${a}.svg`;
      const svg = files.figures.get(f)!;
      expect(svgSeries(svg).names).toEqual(ffCells.map((c) => c.label));
      expect(svg).toContain(`FairFace: Test AUC per ${a} group`);
      expect(section).toContain(`](${f})`);
    }
    const loss = files.figures.get('figures/fairface/training-loss.svg')!;
    expect(svgSeries(loss).names).toEqual(['CLIP fine-tuned (FairFace)', 'FairCLIP+ (FairFace)']);
    expect(section).toContain('](figures/fairface/training-loss.svg)');
    // FairVLMed's own figures hold no FairFace series
    expect(svgSeries(files.figures.get('figures/group-auc-race.svg')!).names).toEqual(['CLIP fine-tuned']);
  });

  test('the runs table lists the FairFace runs; without FairFace there is no section', () => {
    const runs = md.split('## Runs')[1]!;
    expect(runs).toContain('| FairCLIP+ (FairFace) | 2 | 1 | no | /runs/fairface-fairclip-plus/seed-2 |');
    const without = buildReport(input(vlmed));
    expect(without.markdown).not.toContain('FairFace');
    expect(without.fairfaceComparisons).toEqual([]);
    expect([...without.figures.keys()].some((f) => f.includes('fairface'))).toBe(false);
  });
});
