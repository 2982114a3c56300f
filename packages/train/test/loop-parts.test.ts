// The parts of the loop against independent references: data orders against @fairclip/datasets' loaders, the
// concatenated group forward against K separate forwards (the official code's computation), the distance term
// against hand-computed optimal-transport values, checkpoint atomicity, and bad configurations refused before any
// training starts.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ClipModel,
  contrastiveLoss,
  loadOpenAiTokenizer,
  OPENAI_NUM_MERGES,
  readWeightsFile,
} from '@fairclip/clip';
import { initCompute } from '@fairclip/compute';
import { batchPlan, epochOrder, FAIRFACE_PROMPTS, FAIRVLMED_PROMPTS, openFairVlmed } from '@fairclip/datasets';
import { sinkhornDivergence } from '@fairclip/ot';
import { fixturePath, fixturesRoot } from '@fairclip/test-fixtures';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { defaultModelCorpus } from '../scripts/default-model.ts';
import { CheckpointError, readLatestCheckpoint, writeCheckpoint, writeFileAtomic } from '../src/checkpoint.ts';
import { ConfigError, type DistanceConfig } from '../src/config.ts';
import { GroupSampler } from '../src/data.ts';
import { syncGroupDistance } from '../src/distance.ts';
import { fairnessPenalty, normaliseScores, similarityScores, sumNormalise } from '../src/losses.ts';
import { loadModel, paramGroups, resolveModelFiles } from '../src/model.ts';
import { presetObject, resolvePresetConfig } from '../src/presets.ts';
import { runTraining } from '../src/run.ts';
import { groupScoresFromLoaders, selectScores, stepLoss } from '../src/step.ts';
import { FAIRVLMED_MINI, TINY_MODEL, tempDir } from './helpers/runs.ts';

beforeAll(async () => {
  await initCompute({ backend: 'wasm' });
});

describe('data orders', () => {
  const split = openFairVlmed(FAIRVLMED_MINI, 'train');

  test('the training order of an epoch is the datasets DataLoader order (seeded shuffle)', () => {
    const loader = split.loader({ batchSize: 5, shuffle: true, seed: 7916 });
    for (const e of [0, 1, 9]) expect(Array.from(epochOrder(split.size, 7916, e))).toEqual(Array.from(loader.order(e)));
    expect(batchPlan([0, 1, 2, 3, 4], 2, false)).toEqual([[0, 1], [2, 3], [4]]);
    expect(batchPlan([0, 1, 2, 3, 4], 2, true)).toEqual([
      [0, 1],
      [2, 3],
    ]);
  });

  test('a group sampler draws the batches of the datasets EndlessLoader, across passes, and resumes by count', async () => {
    const loaders = split.groupLoaders('race', { batchSize: 4, shuffle: true, seed: 11, prefetch: 0 });
    for (const g of [0, 1, 2]) {
      const indices = split.groupIndices('race', g);
      if (indices.length === 0) continue;
      const sampler = new GroupSampler('race', g, indices, 4, 11, 0 * 64 + g + 1);
      const passes = Math.ceil(indices.length / 4) * 2 + 1; // crosses two pass boundaries
      const drawn: number[][] = [];
      for (let k = 0; k < passes; k++) {
        const want = (await loaders[g]!.next()).indices;
        const got = sampler.next();
        expect(got, `race ${g} batch ${k}`).toEqual(want);
        drawn.push(got);
      }
      const resumed = new GroupSampler('race', g, indices, 4, 11, g + 1);
      resumed.drawn = passes - 1;
      expect(resumed.next()).toEqual(drawn[passes - 1]);
    }
  });
});

describe('a step of the loop', () => {
  let model: ClipModel;
  let images: Float32Array;
  let tokens: Int32Array;
  const n = 5;
  beforeAll(async () => {
    const cfg = resolvePresetConfig('clip-finetune', [TINY_MODEL, 'training.precision=fp32']);
    const loaded = await loadModel(resolveModelFiles(cfg), 0);
    model = loaded.model;
    let s = 1;
    images = Float32Array.from({ length: n * 3 * 224 * 224 }, () => {
      s = (s * 16807) % 2147483647;
      return (s / 2147483647) * 2 - 1;
    });
    const texts = ['The patient has glaucoma', 'No glaucoma', 'A photo of glaucoma', 'Follow-up in 6 months', 'cup'];
    tokens = loaded.tokenizer.tokenize(texts, { contextLength: 77 }).data;
  });
  const sub = (idx: number[]) => ({
    images: Float32Array.from(idx.flatMap((i) => Array.from(images.subarray(i * 150528, (i + 1) * 150528)))),
    tokens: Int32Array.from(idx.flatMap((i) => Array.from(tokens.subarray(i * 77, (i + 1) * 77)))),
    n: idx.length,
  });

  test.each([
    ['official', 'group-sum'],
    ['pair', 'none'],
  ] as const)('one concatenated group forward = K separate forwards (%s, %s)', async (similarity, normalisation) => {
    const fairness = { ...resolvePresetConfig('fairclip-official-2024').fairness!, similarity, normalisation };
    const parts = [
      { attribute: 'race', group: 0, positions: [0, 1] },
      { attribute: 'race', group: 1, positions: [2, 3, 4] },
    ];
    const got = groupScoresFromLoaders(model, sub([0, 1, 2, 3, 4]), parts, fairness);
    for (const [k, p] of parts.entries()) {
      // the official code: Gb, Gt = model(img_g, txt_g); y_g = diag(Gb @ Gtᵀ) (official) or diag(Gb); / sum
      const want = tf.tidy(() => {
        const b = sub(p.positions);
        const { logitsPerImage } = model.forward(tf.tensor4d(b.images, [b.n, 3, 224, 224]), {
          data: b.tokens,
          shape: [b.n, 77],
        });
        const y = similarityScores(logitsPerImage, similarity);
        return normalisation === 'group-sum' ? sumNormalise(y) : y;
      });
      const [g, w] = [await got[k]!.data(), await want.data()];
      for (let i = 0; i < w.length; i++)
        expect(Math.abs(g[i]! - w[i]!)).toBeLessThanOrEqual(1e-5 * Math.abs(w[i]!) + 1e-7);
      want.dispose();
    }
    tf.dispose(got);
  });

  test("'batch' groups: the distances are D(batch scores, scores of the group's samples), gradients reach the model", async () => {
    const cfg = resolvePresetConfig('a-fairclip', ['fairness.attributes.gender=0.5']);
    const fairness = {
      ...cfg.fairness!,
      groupSource: 'batch' as const,
      distance: { ...cfg.fairness!.distance, blur: 0.05 },
    };
    const parts = [
      { attribute: 'race', group: 0, positions: [0, 3] },
      { attribute: 'race', group: 2, positions: [1, 2, 4] },
      { attribute: 'gender', group: 1, positions: [2, 4] },
    ];
    const batch = sub([0, 1, 2, 3, 4]);
    const params = paramGroups(model, 'all').flatMap((g) => [...g.params]);
    let distances: tf.Tensor | undefined;
    let clip: tf.Tensor | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const t = stepLoss(model, batch, fairness, parts, null, syncGroupDistance(fairness.distance));
      distances = tf.keep(t.distances);
      clip = tf.keep(t.clip);
      return t.total;
    }, params);
    const x = tf.tidy(() =>
      similarityScores(
        model.forward(tf.tensor4d(batch.images, [5, 3, 224, 224]), { data: batch.tokens, shape: [5, 77] })
          .logitsPerImage,
        'pair',
      ),
    );
    const xs = Array.from(await x.data());
    // geomloss SamplesLoss("sinkhorn", p=2, blur, scaling) run exactly (its fixed ε schedule), debiased
    const opts = {
      blur: 0.05,
      scaling: 0.95,
      p: 2,
      debias: true,
      solver: 'sinkhorn' as const,
      geomlossCompatible: true,
    };
    const want = parts.map((p) =>
      tf.tidy(() => sinkhornDivergence(x, tf.tensor1d(p.positions.map((i) => xs[i]!)), opts).dataSync()[0]!),
    );
    const got = Array.from(await distances!.data());
    got.forEach((d, k) => expect(d).toBeCloseTo(want[k]!, 4));
    // L = L_CLIP + λ (w_race (D_race0 + D_race2) + w_gender D_gender1)
    const total = (await value.data())[0]!;
    const c = (await clip!.data())[0]!;
    expect(total).toBeCloseTo(c + fairness.lambda * (1 * (want[0]! + want[1]!) + 0.5 * want[2]!), 4);
    const gnorm = tf.tidy(() => tf.sum(tf.abs(grads['visual.conv1.weight'] ?? grads[params[0]!.name]!)).dataSync()[0]!);
    expect(gnorm).toBeGreaterThan(0);
    tf.dispose([value, ...Object.values(grads), distances!, clip!, x]);
  });

  test('selectScores is x[positions] with a matmul gradient (wasm has no gather gradient)', async () => {
    const x = tf.tensor1d([3, 1, 4, 1, 5]);
    expect(Array.from(await selectScores(x, [4, 0, 2]).data())).toEqual([5, 3, 4]);
    const g = tf.grad((v: tf.Tensor) =>
      tf.sum(tf.mul(selectScores(v as tf.Tensor1D, [1, 1, 3]), tf.tensor1d([1, 2, 3]))),
    )(x);
    expect(Array.from(await g.data())).toEqual([0, 3, 0, 3, 0]);
    expect(() => selectScores(x, [5])).toThrow(/outside/);
  });

  test('the CLIP term by hand: ½[CE(L, arange) + CE(Lᵀ, arange)] on a 2 × 2 logit matrix', async () => {
    const L = [
      [2, 0],
      [1, 3],
    ];
    const lse = (a: number, b: number) => Math.log(Math.exp(a) + Math.exp(b));
    const rows = (lse(2, 0) - 2 + (lse(1, 3) - 3)) / 2;
    const cols = (lse(2, 1) - 2 + (lse(0, 3) - 3)) / 2;
    expect((await contrastiveLoss(tf.tensor2d(L)).loss.data())[0]).toBeCloseTo((rows + cols) / 2, 6);
  });
});

describe('the distance term', () => {
  const cfg: DistanceConfig = {
    loss: 'sinkhorn',
    p: 2,
    blur: 1e-3,
    scaling: 0.9,
    diameter: null,
    debias: true,
    solver: 'geomloss',
  };

  test('Sinkhorn divergences of 1-D clouds by hand, all groups in one call', async () => {
    // blur → 0: S_ε → W₂²/2 with cost |x − y|²/2. x = {0, 1}: to {2}: (4 + 1)/2/2 = 1.25; to itself: 0;
    // to {1}: (1 + 0)/2/2 = 0.25. ε = 1e-6 moves these by far less than 1e-4.
    let calls = 0;
    const inner = syncGroupDistance(cfg);
    const counting = (x: tf.Tensor1D, g: readonly tf.Tensor1D[]) => {
      calls++;
      return inner(x, g);
    };
    const x = tf.tensor1d([0, 1]);
    const { penalty, distances } = tf.tidy(() => {
      const r = fairnessPenalty(
        x,
        [
          { attribute: 'race', weight: 0.5, groups: [tf.tensor1d([2]), tf.tensor1d([0, 1])] },
          { attribute: 'gender', weight: 0.25, groups: [tf.tensor1d([1])] },
        ],
        0.1,
        counting,
      );
      return {
        penalty: tf.keep(r.penalty),
        distances: { race: tf.keep(r.distances.race!), gender: tf.keep(r.distances.gender!) },
      };
    });
    expect(calls).toBe(1);
    const race = await distances.race.data();
    expect(race[0]).toBeCloseTo(1.25, 4);
    expect(Math.abs(race[1]!)).toBeLessThan(1e-4);
    expect((await distances.gender.data())[0]).toBeCloseTo(0.25, 4);
    expect((await penalty.data())[0]).toBeCloseTo(0.1 * (0.5 * 1.25 + 0.25 * 0.25), 4);
  });

  test("MMD kernels (the study's Gaussian variant) by hand", async () => {
    // geomloss's Gaussian kernel loss ½‖α − β‖²_k, k = exp(−|x − y|²/(2σ²)): {0} vs {1}, σ = 1 → 1 − e^(−1/2)
    const d = syncGroupDistance({ ...cfg, loss: 'gaussian', blur: 1 })(tf.tensor1d([0]), [tf.tensor1d([1])]);
    expect((await d.data())[0]).toBeCloseTo(1 - Math.exp(-0.5), 6);
    expect(() => resolvePresetConfig('a-fairclip', ['fairness.distance.scaling=1'])).toThrow(/scaling: must be < 1/);
  });

  test("'official' scores with 'group-sum' normalisation (the official term) by hand", async () => {
    // L = [[1, 2], [3, 4]]: diag(L·L) = [1 + 6, 6 + 16] = [7, 22]; the group side [7, 22] / 29.
    const L = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const x = similarityScores(L, 'official');
    expect(Array.from(await x.data())).toEqual([7, 22]);
    const y = normaliseScores(x, 'group', 'group-sum');
    const yv = await y.data();
    expect(yv[0]).toBeCloseTo(7 / 29, 6);
    expect(yv[1]).toBeCloseTo(22 / 29, 6);
    // D({7, 22}, {7/29, 22/29}) → W₂²/2 = ((7 − 7/29)² + (22 − 22/29)²)/2/2 (monotone matching)
    const d = (await syncGroupDistance(cfg)(x, [y]).data())[0]!;
    expect(d).toBeCloseTo(((7 - 7 / 29) ** 2 + (22 - 22 / 29) ** 2) / 4, 2);
  });
});

describe('checkpoints', () => {
  test('atomic files and checkpoints; a kill before the pointer update leaves the previous checkpoint', () => {
    const dir = tempDir('fc-train-ckpt-');
    writeFileAtomic(join(dir, 'a.txt'), 'one');
    writeFileAtomic(join(dir, 'a.txt'), 'two');
    expect(readdirSync(dir)).toEqual(['a.txt']);
    const ck = join(dir, 'checkpoints');
    const model = new Map([['w', { shape: [2], data: Float32Array.of(1.5, -2) }]]);
    const optimizer = {
      kind: 'adam' as const,
      step: 3,
      buffers: { 'w/m': { shape: [2], data: Float32Array.of(0.1, 0.2) } },
    };
    writeCheckpoint(ck, 'epoch-0000', { state: { epoch: 1 }, model, optimizer });
    // a kill while writing the next one: its temp folder exists, latest.json still names epoch-0000
    mkdirSync(join(ck, 'epoch-0001.tmp-999'));
    writeFileSync(join(ck, 'epoch-0001.tmp-999', 'model.safetensors'), 'partial');
    const back = readLatestCheckpoint<{ epoch: number }>(ck)!;
    expect(back.state).toEqual({ epoch: 1 });
    expect(Array.from(back.model.get('w')!.data as Float32Array)).toEqual([1.5, -2]);
    expect(back.optimizer).toEqual(optimizer);
    writeCheckpoint(ck, 'epoch-0001', { state: { epoch: 2 }, model, optimizer: null });
    // the previous checkpoint is kept (the fallback when the latest is unusable); the temp folder is gone
    expect(readdirSync(ck).sort()).toEqual(['epoch-0000', 'epoch-0001', 'latest.json']);
    expect(readLatestCheckpoint<{ epoch: number }>(ck)!.state.epoch).toBe(2);
    writeCheckpoint(ck, 'epoch-0002', { state: { epoch: 3 }, model, optimizer: null });
    expect(readdirSync(ck).sort()).toEqual(['epoch-0001', 'epoch-0002', 'latest.json']);
    rmSync(join(ck, 'epoch-0001'), { recursive: true });
    rmSync(join(ck, 'epoch-0002', 'model.safetensors'));
    expect(() => readLatestCheckpoint(ck)).toThrow(CheckpointError);
    expect(readLatestCheckpoint(join(dir, 'none'))).toBeNull();
  });
});

describe('bad configurations are refused before training starts, naming the field', () => {
  const cases: [string, () => unknown, RegExp][] = [
    [
      'a negative λ',
      () => ({
        ...presetObject('a-fairclip'),
        fairness: { ...(presetObject('a-fairclip').fairness as object), lambda: -1 },
      }),
      /fairness\.lambda: must be >= 0/,
    ],
    [
      'an unknown attribute',
      () => ({
        ...presetObject('a-fairclip'),
        fairness: { ...(presetObject('a-fairclip').fairness as object), attributes: { religion: 1 } },
      }),
      /fairness\.attributes\.religion/,
    ],
    [
      'a weight for an attribute FairFace lacks',
      () => ({
        ...presetObject('fairface-fairclip-plus'),
        fairness: { ...(presetObject('fairface-fairclip-plus').fairness as object), attributes: { language: 1 } },
      }),
      /fairness\.attributes\.language: dataset fairface has no attribute/,
    ],
    [
      'a field of the wrong type',
      () => ({
        ...presetObject('clip-finetune'),
        training: { ...(presetObject('clip-finetune').training as object), epochs: 'ten' },
      }),
      /training\.epochs: expected a finite number/,
    ],
    [
      'an unknown architecture',
      () => resolvePresetConfig('clip-finetune', ['model.arch="tiny"']).model,
      /model\.arch: unknown architecture 'tiny'/,
    ],
  ];
  test.each(cases)('%s', async (_what, make, message) => {
    let config: unknown;
    try {
      config = make();
    } catch (e) {
      // rejected already when the preset is resolved
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).toMatch(message);
      return;
    }
    const outDir = join(tempDir('fc-train-bad-'), 'out');
    let steps = 0;
    await expect(
      runTraining({ config, outDir, dataRoot: FAIRVLMED_MINI, hooks: { onStep: () => void steps++ } }),
    ).rejects.toThrow(message);
    expect(steps).toBe(0);
    expect(existsSync(outDir)).toBe(false);
  });

  test('missing files and data name their field', async () => {
    const run = (overrides: string[], dataRoot?: string) =>
      runTraining({
        config: resolvePresetConfig('clip-finetune', overrides),
        outDir: join(tempDir('fc-train-bad-'), 'out'),
        ...(dataRoot ? { dataRoot } : {}),
      });
    await expect(run([TINY_MODEL])).rejects.toThrow(/data\.path: no dataset folder/);
    await expect(run([TINY_MODEL, 'data.path="/nonexistent/fairvlmed"'])).rejects.toThrow(
      /data\.path: dataset folder not found/,
    );
    await expect(run(['model.arch="/nonexistent/model.json"'], FAIRVLMED_MINI)).rejects.toThrow(
      /model\.arch: model file not found/,
    );
    await expect(run([], FAIRVLMED_MINI)).rejects.toThrow(
      /model\.vocab: architecture 'ViT-B\/16' needs a BPE vocabulary/,
    );
    await expect(run([TINY_MODEL, 'model.weights="/nonexistent/w.safetensors"'], FAIRVLMED_MINI)).rejects.toThrow(
      /model\.weights: weights file not found/,
    );
    await expect(
      run([TINY_MODEL, 'data.limits.train=4', 'training.batchSize=8', 'training.dropLast=true'], FAIRVLMED_MINI),
    ).rejects.toThrow(/training\.batchSize/);
  });

  test('the default model resolves its own vocabulary and weights', async () => {
    const files = resolveModelFiles(resolvePresetConfig('clip-finetune', [TINY_MODEL]));
    expect(files.weightsFrom).toBe('model.arch');
    expect(files.vocabFrom).toBe('model.arch');
    const w = await readWeightsFile(files.weights!);
    expect(w.stateDict.get('token_embedding.weight')!.shape).toEqual([files.config.vocab_size, 48]);
  });
});

describe('the default tiny model (test-fixtures/data/default-model)', () => {
  const dir = fixturePath('default-model');

  test('the committed weights record how they were made (the pretraining script, its command, the configuration)', async () => {
    // The pretraining takes minutes (packages/train/scripts/pretrain-default-model.ts); the suite checks that the
    // committed files name it and agree with each other, not that a rerun gives the same bytes.
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    const w = await readWeightsFile(join(dir, 'weights.safetensors'));
    expect(w.metadata.generator).toBe(config.generator);
    expect(w.metadata.command).toBe(config.command);
    expect(config.generator).toMatch(/pretrain-default-model\.ts$/);
    expect(existsSync(join(fixturesRoot, '..', config.generator))).toBe(true);
    expect(JSON.parse(w.metadata.config!)).toEqual(config.constructor_args);
    expect(w.stateDict.get('token_embedding.weight')!.shape).toEqual([config.constructor_args.vocab_size, 48]);
  });

  test("small, a learned vocabulary (never OpenAI's), vocab_size = its size, every text of the data fits 77 tokens", () => {
    const total = ['config.json', 'vocab.txt.gz', 'weights.safetensors'].reduce(
      (n, f) => n + statSync(join(dir, f)).size,
      0,
    );
    expect(total).toBeLessThan(2 * 1024 * 1024);
    const tok = loadOpenAiTokenizer(join(dir, 'vocab.txt.gz'));
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(config.constructor_args.vocab_size).toBe(tok.vocabSize);
    expect(config.bpe.merges).toBeLessThan(OPENAI_NUM_MERGES);
    expect(tok.vocabSize).toBe(512 + config.bpe.merges + 2);
    expect(config.initSeed).toBeTypeOf('number');
    expect(config.generator).toMatch(/pretrain-default-model\.ts/);
    const texts = [
      ...defaultModelCorpus(FAIRVLMED_MINI).texts,
      ...(['val', 'test'] as const).flatMap((sp) =>
        openFairVlmed(FAIRVLMED_MINI, sp).records.map((r) => r.caption ?? ''),
      ),
      ...FAIRVLMED_PROMPTS,
      ...FAIRFACE_PROMPTS,
    ];
    const rows = tok.tokenize(texts, { contextLength: 77 }); // throws TextTooLongError otherwise
    expect(rows.shape).toEqual([texts.length, 77]);
    expect(Math.max(...texts.map((t) => tok.encode(t).length))).toBeLessThan(75);
  });
});
