/**
 * data/anchors.json against the brief it was transcribed from (shared/reference/fairclip.md §7): every table cell,
 * and every number of the list-form anchors (§7.3 validation AUCs, §7.4 ranges). Skips, saying why, where the brief
 * is absent (it lives beside the repository, like the golden files). The matching of anchors to grid cells is
 * checked on known rows.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fixturesRoot } from '@fairclip/test-fixtures';
import { resolvePresetConfig } from '@fairclip/train';
import { describe, expect, test } from 'vitest';
import {
  ANCHORS,
  aucRangeAnchor,
  distanceAnchor,
  distanceAnchorColumn,
  FAIRFACE_ANCHORS,
  markdownTables,
  metricAnchors,
  parseAnchorCell,
  table,
  valAucAnchor,
} from '../src/anchors.ts';

const REFERENCE = [
  process.env.FAIRCLIP_REFERENCE,
  resolve(fixturesRoot, '..', '..', 'shared', 'reference', 'fairclip.md'),
].find((p) => p !== undefined && existsSync(p));

if (REFERENCE === undefined)
  console.warn(
    'anchors.test: skipping the check of data/anchors.json against the brief: shared/reference/fairclip.md is not ' +
      'beside the repository and FAIRCLIP_REFERENCE is not set',
  );

describe.skipIf(REFERENCE === undefined)('anchors.json matches fairclip.md §7', () => {
  const md = REFERENCE ? readFileSync(REFERENCE, 'utf8') : '';
  const start = md.indexOf('## 7.');
  const section = md.slice(start, md.indexOf('## 8.', start));
  const tables = markdownTables(section);

  test('the four tables of §7, cell by cell', () => {
    expect(tables).toHaveLength(4);
    const ids = ['readme-checkpoints', 'paper-zero-shot', 'study-linear-probe', 'study-sinkhorn'];
    ids.forEach((id, i) => {
      const t = table(id);
      expect([t.header, ...t.rows], id).toEqual(tables[i]);
      expect(section).toContain(`### ${t.section}`);
    });
  });

  test('each table sits under the section (and provenance label) it claims', () => {
    const heads = [...section.matchAll(/^### (7\.\d) (.*)$/gm)].map((m) => ({ section: m[1], text: m[2] ?? '' }));
    const tag: Record<string, string> = { OFF: '[OFF]', '2ND': '[2ND', REPRO: '[REPRO]', ISS: '[ISS' };
    for (const t of ANCHORS.tables) {
      const h = heads.find((x) => x.section === t.section);
      expect(h, t.id).toBeDefined();
      expect(h!.text, t.id).toContain(tag[t.provenance]);
    }
  });

  test('the list-form anchors: every number appears in its section', () => {
    const s73 = section.slice(section.indexOf('### 7.3'), section.indexOf('### 7.4'));
    for (const r of table('study-val-auc').rows) {
      expect(s73).toContain(`${r[1]}, ${r[2]}, ${r[3]} (seeds ${r[4]})`);
    }
    const s74 = section.slice(section.indexOf('### 7.4'));
    for (const r of table('third-party-ranges').rows)
      expect(s74).toContain(`${r[0]} ${r[1]}–${r[2]}`.replace('CLIP 0', 'CLIP AUC spans 0'));
  });
});

describe('anchor cells and their mapping to grid cells', () => {
  test('cell parsing: plain, ± and dashes; garbage refused', () => {
    expect(parseAnchorCell('15.35 ± 6.50')).toEqual({ mean: 15.35, std: 6.5 });
    expect(parseAnchorCell('5.34±0.65')).toEqual({ mean: 5.34, std: 0.65 });
    expect(parseAnchorCell('0.6902')).toEqual({ mean: 0.6902, std: null });
    expect(parseAnchorCell('–')).toBeNull();
    expect(() => parseAnchorCell('n/a')).toThrow(/cannot read/);
  });

  test('README checkpoints: FairCLIP (Race) of the 2025 official code, ×100, groups by name', () => {
    const [a] = metricAnchors({ variant: 'fairclip-official-2025', attribute: 'race' }, 'race', [
      'Asian',
      'Black',
      'White',
    ]);
    expect(a!.provenance).toBe('OFF');
    expect(a!.auc!.mean).toBeCloseTo(71.06, 10);
    expect(a!.esAuc!.mean).toBeCloseTo(67.14, 10);
    expect(a!.groups.get('Asian')!.mean).toBeCloseTo(73.06, 10);
    expect(a!.groups.get('Black')!.mean).toBeCloseTo(73.57, 10);
    expect(a!.dpd).toBeNull();
  });

  test('CVPR paper rows (2ND) attach to clip-finetune and to the 2024 official code on the same attribute only', () => {
    const clip = metricAnchors({ variant: 'clip-finetune', attribute: null }, 'gender', ['Female', 'Male']);
    const paper = clip.find((a) => a.provenance === '2ND')!;
    expect(paper.dpd).toEqual({ mean: 4.34, std: 0.66 });
    expect(paper.auc).toEqual({ mean: 67.84, std: null });
    expect(
      metricAnchors({ variant: 'fairclip-official-2024', attribute: 'race' }, 'gender', ['Female', 'Male']),
    ).toEqual([]);
    const fair = metricAnchors({ variant: 'fairclip-official-2024', attribute: 'race' }, 'race', [
      'Asian',
      'Black',
      'White',
    ]);
    expect(fair[0]!.esAuc).toEqual({ mean: 65.5, std: 2.6 });
  });

  test('linear probe: code-order groups and the shared AUC', () => {
    const [a] = metricAnchors({ variant: 'linear-probe', attribute: null }, 'language', [
      'English',
      'Spanish',
      'Other',
    ]);
    expect(a!.auc!.mean).toBe(76.53);
    expect(a!.groups.get('Other')!.mean).toBe(75.18);
    expect(a!.dpd).toEqual({ mean: 21.55, std: 2.77 });
  });

  test('validation AUCs, ranges and distance columns', () => {
    const v = valAucAnchor({ variant: 'a-fairclip', attribute: 'race' })!;
    const xs = [64.35, 61.98, 54.09];
    const m = xs.reduce((a, b) => a + b) / 3;
    expect(v.auc!.mean).toBeCloseTo(m, 10);
    expect(v.auc!.std).toBeCloseTo(Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / 2), 10);
    expect(valAucAnchor({ variant: 'a-fairclip', attribute: 'gender' })).toBeNull();
    const range = aucRangeAnchor({ variant: 'fairclip-official-2024', attribute: 'gender' })!;
    expect(range.min).toBeCloseTo(66.65, 10);
    expect(range.max).toBeCloseTo(68.26, 10);
    expect(distanceAnchorColumn({ variant: 'fairclip-official-2025', attribute: 'language' })).toBe(
      'FairCLIP (language)',
    );
    expect(distanceAnchor('CLIP (zero-shot)', 'Non-Hispanic')).toBe(8.48);
    expect(distanceAnchor('CLIP-FT', 'nobody')).toBeNull();
  });
});

describe.skipIf(REFERENCE === undefined)('FairFace: what the brief has (no numbers) and what the report quotes', () => {
  const md = REFERENCE ? readFileSync(REFERENCE, 'utf8') : '';
  /** The text of the brief's section `n` ("## n." up to the next "## " heading). */
  const sectionText = (n: string) => {
    const start = md.indexOf(`\n## ${n}. `);
    expect(start, `§${n}`).toBeGreaterThanOrEqual(0);
    const end = md.indexOf('\n## ', start + 1);
    return md.slice(start, end < 0 ? undefined : end);
  };

  test('§7 (the result anchors) holds no FairFace result, so the report has none to set beside ours', () => {
    expect(sectionText('7')).not.toMatch(/fair ?face/i);
  });

  test('every quote stands verbatim in the section it is cited from', () => {
    for (const q of [FAIRFACE_ANCHORS.none, FAIRFACE_ANCHORS.conclusion, FAIRFACE_ANCHORS.setup])
      expect(sectionText(q.section), `§${q.section}`).toContain(q.text);
    expect(sectionText('10')).toMatch(/FairFace\) were not accessible/);
  });
});

describe("FairFace: the study's setup as quoted agrees with the fairface-fairclip-plus preset", () => {
  test('batch, group batch, lr, epochs, λ, blur, diameter, scaling, weights', () => {
    const t = FAIRFACE_ANCHORS.setup.text;
    const num = (re: RegExp) => Number(re.exec(t)?.[1]);
    const cfg = resolvePresetConfig('fairface-fairclip-plus');
    const f = cfg.fairness!;
    expect(num(/(?:^|, )bs (\d+)/)).toBe(cfg.training.batchSize);
    expect(num(/group bs (\d+)/)).toBe(f.groupBatchSize);
    expect(num(/lr ([\d.e-]+)/)).toBe(cfg.optim.lr);
    expect(num(/(\d+) epochs/)).toBe(cfg.training.epochs);
    expect(num(/λ ([\d.e-]+)/)).toBe(f.lambda);
    expect(num(/blur ([\d.e-]+)/)).toBe(f.distance.blur);
    expect(num(/diameter ([\d.]+)/)).toBe(f.distance.diameter);
    expect(num(/scaling ([\d.]+)/)).toBe(f.distance.scaling);
    expect(f.attributes).toEqual({ age: 0.5, race: 0.5 });
    expect(t).toContain('weights [0.5, 0.5] (age, race)');
    expect(cfg.model.arch).toBe(/^(\w+) backbone/.exec(t)?.[1]);
  });
});
