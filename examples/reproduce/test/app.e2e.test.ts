/**
 * The reproduce app end to end on the embedded synthetic FairVLMed with the default tiny CLIP (wasm), on a small
 * grid with a tiny budget: every output exists and is complete, the report's numbers are the runs' own (re-read from
 * their result.json files), the figures are valid SVG with the expected series, and a rerun reuses every run and
 * every distance. Bad input is refused before any work with the expected layout named.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMBEDDED_FAIRFACE, runCaptured } from '@fairclip/example-common';
import { afterAll, describe, expect, test } from 'vitest';
import { archOfWeights, gridCells, runApp } from '../src/app.ts';
import { svgSeries } from './svg.test.ts';

const out = mkdtempSync(join(tmpdir(), 'fc-reproduce-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const GRID = [
  '--preset',
  'clip-zeroshot,clip-finetune,a-fairclip,linear-probe',
  '--attributes',
  'race,gender',
  '--seeds',
  '1,2',
  '--backend',
  'wasm',
  '--epochs',
  '2',
  '--batch-size',
  '4',
  '--set',
  'data.limits.train=8',
  '--set',
  'data.limits.val=10',
  '--set',
  'data.limits.test=16',
  '--set',
  'fairness.groupBatchSize=4',
  '--set',
  'linearProbe.epochs=2',
  '--set',
  'linearProbe.evalEvery=1',
  '--set',
  'linearProbe.warmupEpochs=1',
  '--set',
  'linearProbe.batchSize=4',
];
const LABELS = ['CLIP zero-shot', 'CLIP fine-tuned', 'A-FairCLIP [race]', 'A-FairCLIP [gender]', 'Linear probe'];
/** The FairFace part (on the embedded synthetic FairFace: no --fairface-data): 3 cells, 1 + 2 + 2 runs. */
const FF_LABELS = ['CLIP zero-shot (FairFace)', 'CLIP fine-tuned (FairFace)', 'FairCLIP+ (FairFace)'];

const run = (argv: string[]) => runCaptured(runApp, argv);

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)).map((f) => `${e.name}/${f}`) : [e.name],
  );

describe('reproduce on the embedded default', () => {
  test('runs the grid, writes the report and figures; a rerun reuses everything', async () => {
    const r = await run(['--out', out, ...GRID]);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('8 cells, 14 runs');
    expect(r.bar).toContain('clip-finetune ['); // each run's progress bar
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    // per evaluated attribute: a row per cell, anchors beside them
    for (const a of ['race', 'gender', 'ethnicity', 'language']) {
      const t = report.split(`### ${a}\n`)[1]!.split('###')[0]!;
      for (const l of LABELS) expect(t).toContain(`| **${l}** |`);
    }
    expect(report).toContain('↳ *anchor* [OFF §7.1] CLIP, released checkpoint');
    expect(report).toContain('↳ *anchor* [REPRO §7.3] CLIP linear probe');
    expect(report).toContain('> Embedded default:');
    expect(report).toMatch(
      /## What the numbers show\n\nAgainst CLIP fine-tuned, on the attributes each regulariser targets, 8 differences were compared/,
    );
    // the numbers are the runs': CLIP fine-tuned's race row, recomputed from its two result.json files
    const auc = [1, 2].map(
      (s) =>
        JSON.parse(readFileSync(join(out, 'runs', 'clip-finetune', `seed-${s}`, 'result.json'), 'utf8')).selected.test
          .auc as number,
    );
    const mean = (100 * (auc[0]! + auc[1]!)) / 2;
    const std = (100 * Math.abs(auc[0]! - auc[1]!)) / Math.SQRT2;
    expect(report).toContain(`| **CLIP fine-tuned** | ${mean.toFixed(2)} ± ${std.toFixed(2)} |`);
    // figures: valid SVG with the expected series
    const figs = files(join(out, 'figures')).sort();
    for (const a of ['race', 'gender', 'ethnicity', 'language']) expect(figs).toContain(`group-auc-${a}.svg`);
    for (const f of [
      'sinkhorn-distances.svg',
      'training-loss.svg',
      'validation-auc.svg',
      'training-loss-linear-probe.svg',
    ])
      expect(figs).toContain(f);
    expect(figs.filter((f) => f.startsWith('roc/'))).toHaveLength(5 * 4);
    for (const f of figs) {
      const svg = readFileSync(join(out, 'figures', f), 'utf8');
      const { names } = svgSeries(svg);
      if (f.startsWith('group-auc')) expect(names).toEqual(LABELS);
      if (f === 'sinkhorn-distances.svg') expect(names).toEqual(LABELS.slice(0, 4));
      if (f === 'training-loss.svg') expect(names).toEqual(LABELS.slice(1, 4));
      if (f === 'training-loss-linear-probe.svg') expect(names).toEqual(['Linear probe']);
      if (f === 'roc/a-fairclip-race-race.svg')
        expect(names.map((n) => n.split(' ')[0])).toEqual(['all', 'Asian', 'Black', 'White']);
      expect(report).toContain(`](figures/${f})`);
    }
    // per run: the train outputs plus the study's distances (not for the probe: its encoder is frozen)
    for (const k of [
      'clip-zeroshot/seed-1',
      'clip-finetune/seed-2',
      'a-fairclip/race/seed-1',
      'a-fairclip/gender/seed-2',
    ]) {
      const d = JSON.parse(readFileSync(join(out, 'runs', k, 'distances.json'), 'utf8'));
      expect(d.distances.map((x: { attribute: string }) => x.attribute)).toContain('language');
      for (const x of d.distances) expect(Number.isFinite(x.distance)).toBe(true);
    }
    expect(existsSync(join(out, 'runs', 'linear-probe', 'seed-1', 'distances.json'))).toBe(false);
    const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(json.cells.map((c: { label: string }) => c.label)).toEqual(LABELS);
    // the FairFace part: its own section (age and race tables, a row per cell, numbers from the runs' result.json)
    const ff = report.split("## FairFace (the study's second dataset)\n")[1]!.split('\n## ')[0]!;
    const plusAuc = [1, 2].map(
      (s) =>
        JSON.parse(readFileSync(join(out, 'runs', 'fairface-fairclip-plus', `seed-${s}`, 'result.json'), 'utf8'))
          .selected.test.auc as number,
    );
    const ffMean = (100 * (plusAuc[0]! + plusAuc[1]!)) / 2;
    const ffStd = (100 * Math.abs(plusAuc[0]! - plusAuc[1]!)) / Math.SQRT2;
    for (const a of ['age', 'race']) {
      const t = ff.split(`### FairFace: ${a}\n`)[1]!.split('###')[0]!;
      for (const l of FF_LABELS) expect(t).toContain(`| **${l}** |`);
      expect(t).toContain(`| **FairCLIP+ (FairFace)** | ${ffMean.toFixed(2)} ± ${ffStd.toFixed(2)} |`);
      expect(svgSeries(readFileSync(join(out, 'figures', 'fairface', `group-auc-${a}.svg`), 'utf8')).names).toEqual(
        FF_LABELS,
      );
    }
    expect(ff).toContain('**No published FairFace numbers.**');
    expect(ff).toContain('> Embedded default: the synthetic FairFace');
    // the embedded FairFace is generated at first use into the cache (not copied under --out), with test labels
    expect(existsSync(join(json.fairface.data, 'fairface_label_test.csv'))).toBe(true);
    const ffRun = JSON.parse(
      readFileSync(join(out, 'runs', 'fairface-clip-finetune', 'seed-1', 'result.json'), 'utf8'),
    );
    expect(ffRun.config.data.dataset).toBe('fairface');
    expect(ffRun.config.eval.attributes).toEqual(['age', 'race']);
    expect(ffRun.config.training.epochs).toBe(2); // --epochs applies to the FairFace cells too
    expect(json.fairface.cells.map((c: { label: string }) => c.label)).toEqual(FF_LABELS);
    expect(json.fairface.anchors.numbers).toEqual([]);

    // rerun: nothing recomputed, the same report (up to its time stamp)
    const again = await run(['--out', out, ...GRID]);
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain('running into');
    expect(again.stderr).not.toContain('distances: ');
    expect(again.stderr.match(/reused/g)).toHaveLength(14);
    const strip = (s: string) => s.replace(/Generated [^\n]*/, '').replace(/\| (yes|no) \| runs\//g, '| runs/');
    expect(strip(readFileSync(join(out, 'report.md'), 'utf8'))).toBe(strip(report));

    // an interrupted run (result.json still "running", checkpoints on disk) resumes from its last checkpoint
    // instead of starting over; the others are reused
    const victim = join(out, 'runs', 'a-fairclip', 'gender', 'seed-2', 'result.json');
    const before = JSON.parse(readFileSync(victim, 'utf8'));
    writeFileSync(victim, JSON.stringify({ ...before, status: 'running' }));
    const resumed = await run(['--out', out, ...GRID]);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr.match(/running into/g)).toHaveLength(1);
    expect(resumed.stderr).toContain('a-fairclip seed 2 (2/2): running into');
    const after = JSON.parse(readFileSync(victim, 'utf8'));
    expect(after.status).toBe('complete');
    expect(after.resumedFromStep).toBe(before.steps); // nothing left to train: resumed at the last step
    expect(after.selected.test.auc).toBe(before.selected.test.auc);
  }, 300_000);
});

describe('bad input is refused before any work', () => {
  test.each([
    [['--preset', 'clip-finetune,nope'], /--preset: "nope" is not a FairVLMed variant/],
    [['--preset', 'fairface-clip-finetune'], /not a FairVLMed variant/],
    [['--attributes', 'race,age'], /--attributes: "age" is not a FairVLMed attribute/],
    [
      ['--data', '/nonexistent/fairvlmed'],
      /dataset folder not found: \/nonexistent\/fairvlmed \(expected: a Harvard-FairVLMed folder/,
    ],
    [['--weights', '/nonexistent/w.safetensors'], /weights file not found.* \(expected: a CLIP weights file/],
    [['--attribute', 'race'], /use --attributes LIST/],
    [['--set', 'training.epochs=-1'], /training.epochs/],
    [['stray'], /unexpected argument "stray"/],
    [
      ['--fairface-data', '/nonexistent/fairface'],
      /dataset folder not found: \/nonexistent\/fairface \(expected: a FairFace folder/,
    ],
    [['--fairface-data', '/tmp', '--no-fairface'], /--fairface-data and --no-fairface: give one/],
    // the embedded FairFace as it is has no test labels (the app uses a copy with them when --fairface-data is absent)
    [['--fairface-data', EMBEDDED_FAIRFACE], /label file fairface_label_test\.csv not found: .*fairface-mini/],
  ])('%j', async (argv, message) => {
    const r = await run(['--out', join(out, 'bad'), ...argv]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(join(out, 'bad', 'runs'))).toBe(false);
  });

  test('--help', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--attributes LIST');
    expect(r.stdout).toContain('--fairface-data DIR');
    expect(r.stdout).toContain('--no-fairface');
    expect(r.stdout).toContain('--data /data/FairVLMed --weights ViT-B-16.safetensors');
  });
});

describe('grid and architecture', () => {
  test('single-attribute regularisers run per attribute; FairCLIP+ and the rest once', () => {
    expect(gridCells(['clip-finetune', 'fairclip-official-2024', 'fairclip-plus'], ['race', 'language'])).toEqual([
      { variant: 'clip-finetune', attribute: null },
      { variant: 'fairclip-official-2024', attribute: 'race' },
      { variant: 'fairclip-official-2024', attribute: 'language' },
      { variant: 'fairclip-plus', attribute: null },
    ]);
  });

  test("the architecture of an OpenAI-named safetensors file is read from its shapes (ViT-B/16's, header only)", () => {
    const shapes: Record<string, number[]> = {
      'visual.proj': [768, 512],
      'visual.conv1.weight': [768, 3, 16, 16],
      'visual.positional_embedding': [197, 768],
      'ln_final.weight': [512],
      text_projection: [512, 512],
      positional_embedding: [77, 512],
      'token_embedding.weight': [49408, 512],
    };
    for (let i = 0; i < 12; i++) {
      shapes[`visual.transformer.resblocks.${i}.attn.in_proj_weight`] = [2304, 768];
      shapes[`transformer.resblocks.${i}.attn.in_proj_weight`] = [1536, 512];
    }
    const header = JSON.stringify(
      Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, { dtype: 'F32', shape: s, data_offsets: [0, 0] }])),
    );
    const file = join(out, 'vit-b-16-header.safetensors');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(header)));
    writeFileSync(file, Buffer.concat([len, Buffer.from(header)]));
    expect(archOfWeights(file)).toBe('ViT-B/16');
    shapes['visual.conv1.weight'] = [768, 3, 32, 32];
    shapes['visual.positional_embedding'] = [50, 768];
    const header32 = JSON.stringify(
      Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, { dtype: 'F32', shape: s, data_offsets: [0, 0] }])),
    );
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(header32)));
    writeFileSync(file, Buffer.concat([len, Buffer.from(header32)]));
    expect(archOfWeights(file)).toBe('ViT-B/32');
  });
});

describe('a field of fairness.attributes set by the user', () => {
  test('runs in every regularised cell and the report labels the cell by its effective attributes', async () => {
    const o = join(out, 'attributes-override');
    const r = await run([
      '--out',
      o,
      '--preset',
      'a-fairclip',
      '--attributes',
      'race',
      '--seeds',
      '1',
      '--backend',
      'wasm',
      '--epochs',
      '1',
      '--batch-size',
      '4',
      '--set',
      'data.limits.train=8',
      '--set',
      'data.limits.val=10',
      '--set',
      'data.limits.test=16',
      '--set',
      'fairness.groupBatchSize=4',
      '--set',
      'fairness.attributes.gender=0.5',
      '--no-distances',
      '--no-fairface',
      '--quiet',
    ]);
    expect(r.code).toBe(0);
    // what the run used, read back from its own result.json
    const result = JSON.parse(readFileSync(join(o, 'runs', 'a-fairclip', 'race', 'seed-1', 'result.json'), 'utf8'));
    const attrs = result.config.fairness.attributes as Record<string, number>;
    expect(attrs).toEqual({ race: 1, gender: 0.5 });
    const label = `A-FairCLIP [${Object.entries(attrs)
      .map(([a, w]) => `${a} ${w}`)
      .join(', ')}]`;
    expect(label).toBe('A-FairCLIP [race 1, gender 0.5]');
    const json = JSON.parse(readFileSync(join(o, 'report.json'), 'utf8'));
    expect(json.cells.map((c: { label: string }) => c.label)).toEqual([label]);
    expect(json.fairface).toBeNull(); // --no-fairface: no FairFace part
    expect(existsSync(join(o, 'runs', 'fairface-clip-zeroshot'))).toBe(false);
    const md = readFileSync(join(o, 'report.md'), 'utf8');
    expect(md).toContain(`**${label}**`);
    expect(md).not.toContain('A-FairCLIP [race]');
    expect(r.stderr).toContain(`] ${label}`);
    expect(r.stderr).not.toContain('A-FairCLIP [race]');
  }, 300_000);
});
