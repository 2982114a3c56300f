// Heads and losses: against the golden outputs of OpenAI's code (logits from the golden features, the loss from the
// golden logits), FairCLIP's zero-shot scoring (raw cosine, softmax over the prompts; reference brief §4.1) against a
// float64 computation from OpenAI's features, laws (logits_per_text = logits_per_imageᵀ, unit-norm embeddings, loss
// invariant to permuting the pairs, zero-shot invariant to feature scale), feature extraction for linear probing.
import { initCompute } from '@fairclip/compute';
import { withLeakCheck } from '@fairclip/compute/testing';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  ClipModel,
  clipLogits,
  contrastiveLoss,
  extractFeatures,
  normalizeEmbeddings,
  zeroShotClassify,
  zeroShotProbabilities,
  zeroShotScores,
} from '../src/index.ts';
import { expectScaledClose, flat, goldenTinyVit, imagesTensor, take } from './model-helpers.ts';

const G = goldenTinyVit();

beforeAll(async () => {
  await initCompute({ backend: 'cpu' });
});

function rows(x: unknown): number[][] {
  return x as number[][];
}

/** float64 cosine similarities of rows of a against rows of b. */
function cosines(a: number[][], b: number[][]): number[][] {
  const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return a.map((u) => b.map((v) => u.reduce((s, x, i) => s + x * v[i]!, 0) / (norm(u) * norm(v))));
}

describe('against OpenAI (golden tiny-vit)', () => {
  test('clipLogits from the golden features equals the golden logits', async () => {
    await withLeakCheck(async () => {
      const img = tf.tensor2d(rows(G.encode_image));
      const txt = tf.tensor2d(rows(G.encode_text));
      const scale = tf.scalar(Math.log(G.logit_scale_exp));
      const { logitsPerImage, logitsPerText } = clipLogits(img, txt, scale);
      expectScaledClose(await take(logitsPerImage), flat(G.logits_per_image), 1e-6, 'logits_per_image');
      expectScaledClose(await take(logitsPerText), flat(G.logits_per_text), 1e-6, 'logits_per_text');
      tf.dispose([img, txt, scale]);
    });
  });

  test('contrastiveLoss of the golden logits equals OpenAI’s loss, loss_image, loss_text', async () => {
    await withLeakCheck(async () => {
      const logits = tf.tensor2d(rows(G.logits_per_image));
      const l = contrastiveLoss(logits);
      expect((await take(l.loss))[0]).toBeCloseTo(G.loss, 6);
      expect((await take(l.lossImage))[0]).toBeCloseTo(G.loss_image, 6);
      expect((await take(l.lossText))[0]).toBeCloseTo(G.loss_text, 6);
      logits.dispose();
    });
  });

  test('zero-shot (FairCLIP): softmax over raw cosines to the class prompts, no logit scale', async () => {
    // Class 0 = "A photo of non-glaucoma" (golden text 1), class 1 = "A photo of glaucoma" (golden text 0).
    const cos = cosines(rows(G.encode_image), [rows(G.encode_text)[1]!, rows(G.encode_text)[0]!]);
    const expected = cos.map(([c0, c1]) => [1 / (1 + Math.exp(c1! - c0!)), 1 / (1 + Math.exp(c0! - c1!))]);
    await withLeakCheck(async () => {
      const model = ClipModel.create(G.config, { weights: G.weights });
      const images = imagesTensor(G.images);
      const probs = await take(zeroShotClassify(model, images, [G.tokens[1]!, G.tokens[0]!]));
      images.dispose();
      model.dispose();
      expectScaledClose(probs, expected.flat(), 1e-5, 'zero-shot probabilities');
      // Raw cosines keep the probabilities near 0.5 (|cos| ≤ 1 ⇒ p ∈ [σ(−2), σ(2)]).
      for (const p of probs) expect(Math.abs(p - 0.5)).toBeLessThanOrEqual(1 / (1 + Math.exp(-2)) - 0.5);
    });
  });
});

const matrix = (n: number, d: number) =>
  fc.array(fc.float({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true }), {
    minLength: n * d,
    maxLength: n * d,
  });

describe('laws', () => {
  test('logits_per_text is the transpose of logits_per_image; normalised rows have unit norm', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer(),
        fc.double({ min: -2, max: 5, noNaN: true }),
        async (n, m, d, seed, scale) => {
          const a = tf.randomNormal([n, d], 0, 1, 'float32', seed) as tf.Tensor2D;
          const b = tf.randomNormal([m, d], 0, 1, 'float32', seed + 1) as tf.Tensor2D;
          const { logitsPerImage, logitsPerText } = clipLogits(a, b, scale);
          const li = await take(logitsPerImage);
          const lt = await take(logitsPerText);
          for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) expect(lt[j * n + i]).toBe(li[i * m + j]);
          const na = await take(normalizeEmbeddings(a));
          for (let i = 0; i < n; i++) {
            const norm = Math.hypot(...na.subarray(i * d, (i + 1) * d));
            expect(Math.abs(norm - 1)).toBeLessThan(1e-6);
          }
          tf.dispose([a, b]);
        },
      ),
      { numRuns: 30 },
    );
  });

  test('the contrastive loss is invariant to permuting the pairs', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 7 })
          .chain((n) =>
            fc.tuple(matrix(n, n), fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n })),
          ),
        async ([values, perm]) => {
          const n = perm.length;
          const L = tf.tensor2d(values, [n, n]);
          // Pair k of the permuted batch is pair perm[k] of the original: rows and columns permute together.
          const idx = tf.tensor1d(perm, 'int32');
          const P = tf.gather(tf.gather(L, idx, 0), idx, 1) as tf.Tensor2D;
          const a = contrastiveLoss(L);
          const b = contrastiveLoss(P);
          const [la, lb] = [(await take(a.loss))[0]!, (await take(b.loss))[0]!];
          expect(Math.abs(la - lb)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(la)));
          tf.dispose([L, idx, P, a.lossImage, a.lossText, b.lossImage, b.lossText]);
        },
      ),
      { numRuns: 40 },
    );
  });

  test('zero-shot scores: σ(cos₁ − cos₀), invariant to scaling the features (known answer)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 2, max: 6 }),
        fc.integer(),
        fc.double({ min: 0.01, max: 100, noNaN: true }),
        async (n, d, seed, k) => {
          const img = tf.randomNormal([n, d], 0, 1, 'float32', seed) as tf.Tensor2D;
          const txt = tf.randomNormal([2, d], 0, 1, 'float32', seed + 7) as tf.Tensor2D;
          const [iv, tv] = [await img.array(), await txt.array()];
          const cos = cosines(iv, tv);
          const scaled = tf.mul(img, k) as tf.Tensor2D;
          const scores = await take(zeroShotScores(scaled, txt));
          const probs = await take(zeroShotProbabilities(img, txt));
          for (let i = 0; i < n; i++) {
            const want = 1 / (1 + Math.exp(-(cos[i]![1]! - cos[i]![0]!)));
            expect(Math.abs(scores[i]! - want)).toBeLessThan(1e-5);
            expect(Math.abs(probs[2 * i]! + probs[2 * i + 1]! - 1)).toBeLessThan(1e-6);
          }
          tf.dispose([img, txt, scaled]);
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('feature extraction and errors', () => {
  test('image features equal encode_image; image+text concatenates; normalize gives unit halves', async () => {
    await withLeakCheck(async () => {
      const model = ClipModel.create(G.config, { weights: G.weights });
      const images = imagesTensor(G.images);
      const first = tf.slice(images, [0, 0, 0, 0], [2, 3, 32, 32]) as tf.Tensor4D;
      const last = tf.slice(images, [2, 0, 0, 0], [1, 3, 32, 32]) as tf.Tensor4D;
      const batches = [
        { images: first, tokens: G.tokens.slice(0, 2) },
        { images: last, tokens: G.tokens.slice(2) },
      ];
      const img = await extractFeatures(model, batches);
      expect([img.rows, img.dim]).toEqual([3, 32]);
      expectScaledClose(img.data, flat(G.encode_image), 1e-5, 'image features');
      const both = await extractFeatures(model, batches, { mode: 'image+text', normalize: true });
      expect([both.rows, both.dim]).toEqual([3, 64]);
      const cos = cosines(rows(G.encode_image), rows(G.encode_text));
      for (let i = 0; i < 3; i++) {
        const u = both.data.subarray(i * 64, i * 64 + 32);
        const v = both.data.subarray(i * 64 + 32, i * 64 + 64);
        expect(Math.abs(Math.hypot(...u) - 1)).toBeLessThan(1e-5);
        expect(Math.abs(u.reduce((s, x, j) => s + x * v[j]!, 0) - cos[i]![i]!)).toBeLessThan(1e-5);
      }
      await expect(extractFeatures(model, [{ images: first }], { mode: 'image+text' })).rejects.toThrow(/no tokens/);
      tf.dispose([images, first, last]);
      model.dispose();
    });
  });

  test('contrastiveLoss and zero-shot reject bad shapes', () => {
    const rect = tf.zeros([2, 3]) as tf.Tensor2D;
    expect(() => contrastiveLoss(rect)).toThrow(/square \[B, B\]/);
    const one = tf.zeros([1, 3]) as tf.Tensor2D;
    expect(() => zeroShotProbabilities(rect, one)).toThrow(/at least 2 class prompts/);
    const wide = tf.zeros([2, 4]) as tf.Tensor2D;
    expect(() => zeroShotScores(rect, wide)).toThrow(/dimensions/);
    expect(() => zeroShotScores(rect, rect, 2)).toThrow(/positiveClass 2/);
    tf.dispose([rect, one, wide]);
  });
});
