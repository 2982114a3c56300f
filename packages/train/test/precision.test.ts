// training.precision 'fp16-emulated' (the official runs' half precision, emulated): preset defaults and validation,
// Adam's float32 step cast back to float16 (fp32 state), and the overflow mechanism the study reports as a crash —
// the official scores diag(L·L) of order s²·B pass 65504, the run stops with an error naming fp16 overflow, and the
// same step in fp32 is finite.
import { initCompute, roundToFloat16Reference } from '@fairclip/compute';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { ConfigError } from '../src/config.ts';
import { syncGroupDistance } from '../src/distance.ts';
import { TrainError } from '../src/errors.ts';
import { loadModel, paramGroups, resolveModelFiles } from '../src/model.ts';
import { Adam } from '../src/optim.ts';
import { resolvePresetConfig } from '../src/presets.ts';
import { stepLoss } from '../src/step.ts';
import { TINY_MODEL } from './helpers/runs.ts';

beforeAll(async () => {
  await initCompute({ backend: 'wasm' });
});

const isHalfValued = (v: ArrayLike<number>) => {
  const r = roundToFloat16Reference(v);
  return Array.from(v).every((x, i) => Object.is(x, r[i]));
};

describe('training.precision', () => {
  test('official presets default to fp16-emulated (fairclip.md §2, §3.5), the study’s fp32 variants to fp32', () => {
    const got = Object.fromEntries(
      [
        'clip-zeroshot',
        'clip-finetune',
        'fairclip-official-2024',
        'fairclip-official-2025',
        'fairclip-debugged',
        'a-fairclip',
        'fairclip-plus',
      ].map((n) => [n, resolvePresetConfig(n).training.precision]),
    );
    expect(got).toEqual({
      'clip-zeroshot': 'fp32',
      'clip-finetune': 'fp16-emulated',
      'fairclip-official-2024': 'fp16-emulated',
      'fairclip-official-2025': 'fp16-emulated',
      'fairclip-debugged': 'fp16-emulated',
      'a-fairclip': 'fp32',
      'fairclip-plus': 'fp32',
    });
    expect(resolvePresetConfig('fairclip-official-2024', ['training.precision=fp32']).training.precision).toBe('fp32');
  });

  test('an unknown precision is a ConfigError naming the field and the choices', () => {
    const e = (() => {
      try {
        resolvePresetConfig('clip-finetune', ['training.precision=fp16']);
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).field).toBe('training.precision');
    expect((e as Error).message).toMatch(/expected one of 'fp32', 'fp16-emulated'/);
  });
});

describe('fp16-emulated model and optimiser', () => {
  test('half parameters are float16 values; after an Adam step (float32) they are the float32 result cast to float16', async () => {
    const cfg = resolvePresetConfig('fairclip-official-2024', [TINY_MODEL]);
    expect(cfg.training.precision).toBe('fp16-emulated');
    const { model } = await loadModel(resolveModelFiles(cfg), 0);
    try {
      expect(model.precision).toBe('fp16-emulated');
      const groups = paramGroups(model, 'official');
      const half = groups.flatMap((g) => g.params.filter((_, i) => g.half?.[i]));
      const full = groups.flatMap((g) => g.params.filter((_, i) => !g.half?.[i]));
      expect(half.length).toBeGreaterThan(0);
      expect(full.length).toBeGreaterThan(0); // LayerNorms, class/positional embeddings stay float32
      for (const p of half) expect(isHalfValued(await p.data()), p.name).toBe(true);
      // the same step without the cast (plain float32 Adam on copies) gives the reference
      const copies = groups.map((g) => ({ name: g.name, params: g.params.map((p) => tf.variable(p.clone())) }));
      const grads: Record<string, tf.Tensor> = {};
      const copyGrads: Record<string, tf.Tensor> = {};
      let seed = 7;
      groups.forEach((g, gi) =>
        g.params.forEach((p, i) => {
          const data = Float32Array.from({ length: p.size }, () => {
            seed = (seed * 16807) % 2147483647;
            return (seed / 2147483647 - 0.5) * 1e-2;
          });
          grads[p.name] = tf.tensor(data, p.shape);
          copyGrads[copies[gi]!.params[i]!.name] = tf.tensor(data, p.shape);
        }),
      );
      const opts = { lr: 1e-3, betas: [0.1, 0.1] as [number, number], eps: 1e-6, weightDecay: 6e-5 };
      const a16 = new Adam(groups, opts);
      const a32 = new Adam(copies, opts);
      a16.applyGradients(grads);
      a32.applyGradients(copyGrads);
      const s16 = await a16.state();
      const s32 = await a32.state();
      for (const [gi, g] of groups.entries()) {
        for (const [i, p] of g.params.entries()) {
          const want = (await copies[gi]!.params[i]!.data()) as Float32Array;
          const got = (await p.data()) as Float32Array;
          expect(Array.from(got), p.name).toEqual(Array.from(g.half?.[i] ? roundToFloat16Reference(want) : want));
        }
      }
      // the optimiser state is float32 and the same as without the cast
      const k32 = Object.keys(s32.buffers);
      expect(Object.keys(s16.buffers).length).toBe(k32.length);
      const m16 = Object.values(s16.buffers).map((b) => Array.from(b.data));
      const m32 = Object.values(s32.buffers).map((b) => Array.from(b.data));
      expect(m16).toEqual(m32);
      expect(m16.some((b) => !isHalfValued(b))).toBe(true);
      a16.dispose();
      a32.dispose();
      tf.dispose([...Object.values(grads), ...Object.values(copyGrads), ...copies.flatMap((c) => c.params)]);
    } finally {
      model.dispose();
    }
  }, 120_000);
});

describe('the fp16 overflow of the official scores', () => {
  /**
   * The default tiny model cannot overflow: its logit scale is s = exp(2.659) = 14.3 (OpenAI's initialisation) and
   * frozen in the official runs, so |diag(L·L)| <= s²·B = 6,537 at B = 32. Pretrained CLIP has s = 100, so
   * s²·B = 320,000 and the scores overflow once the cosines align. This test sets s = 100 and collapses both towers to
   * one direction (LayerNorm-out weights 0, bias 1, projections onto one axis: every cosine 1) so that
   * x_i = s²·B = 80,000 > 65,504 at B = 8: the mechanism, not a training trajectory.
   */
  async function stepAt(precision: 'fp32' | 'fp16-emulated') {
    const cfg = resolvePresetConfig('fairclip-official-2024', [
      TINY_MODEL,
      'fairness.lambda=1e-5',
      `training.precision=${precision}`,
    ]);
    const loaded = await loadModel(resolveModelFiles(cfg), 0);
    const { model } = loaded;
    const set = (name: string, values: (shape: number[]) => tf.Tensor) => {
      const v = model.parameters().get(name) ?? model.logitScale;
      tf.tidy(() => v.assign(values(v.shape)));
    };
    const axis = (shape: number[]) => {
      const data = new Float32Array(shape[0]! * shape[1]!);
      data.fill(1, 0, shape[1]!); // row 0: every feature = the LayerNorm's constant output on one axis
      return tf.tensor2d(data, shape as [number, number]);
    };
    tf.tidy(() => model.logitScale.assign(tf.scalar(Math.log(100))));
    for (const ln of ['visual.ln_post', 'ln_final']) {
      set(`${ln}.weight`, (s) => tf.zeros(s));
      set(`${ln}.bias`, (s) => tf.ones(s));
    }
    set('visual.proj', axis);
    set('text_projection', axis);
    const n = 8;
    const r = model.config.image_resolution;
    let s = 3;
    const images = Float32Array.from({ length: n * 3 * r * r }, () => {
      s = (s * 16807) % 2147483647;
      return (s / 2147483647) * 2 - 1;
    });
    const texts = Array.from({ length: n }, (_, i) => `glaucoma follow-up ${i}`);
    const tokens = loaded.tokenizer.tokenize(texts, { contextLength: model.config.context_length }).data;
    const batch = { images, tokens, n };
    const fairness = { ...cfg.fairness!, groupSource: 'batch' as const };
    const parts = [
      { attribute: 'race', group: 0, positions: [0, 1, 2] },
      { attribute: 'race', group: 1, positions: [3, 4, 5, 6, 7] },
    ];
    try {
      const t = tf.tidy(() => {
        const terms = stepLoss(model, batch, fairness, parts, null, syncGroupDistance(fairness.distance));
        return tf.keep(terms.total);
      });
      const loss = (await t.data())[0]!;
      t.dispose();
      return { loss, error: null as unknown };
    } catch (error) {
      return { loss: Number.NaN, error };
    } finally {
      model.dispose();
    }
  }

  test('fp16-emulated: the run stops with TrainError NON_FINITE_LOSS naming fp16 overflow; fp32: finite loss', async () => {
    const h = await stepAt('fp16-emulated');
    expect(h.error).toBeInstanceOf(TrainError);
    expect((h.error as TrainError).code).toBe('NON_FINITE_LOSS');
    expect((h.error as Error).message).toMatch(/fp16 overflow/);
    expect((h.error as Error).message).toMatch(/training\.precision='fp32'/);
    expect((h.error as Error).message).not.toMatch(/\n/);
    const f = await stepAt('fp32');
    expect(f.error).toBeNull();
    expect(Number.isFinite(f.loss)).toBe(true);
    // x_i = s²·B = 80,000 on both sides of the Sinkhorn term: λ · S is large but finite in float32
    expect(f.loss).toBeGreaterThan(1);
  }, 120_000);
});
