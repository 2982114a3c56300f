// Loss terms against hand computations on a tiny batch.
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { fairnessPenalty, normaliseScores, similarityScores } from '../src/losses.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// L = [[1, 2, 3], [4, 5, 6], [7, 8, 10]]
const L = [
  [1, 2, 3],
  [4, 5, 6],
  [7, 8, 10],
];

describe('similarity scores', () => {
  test("'pair' is the diagonal of L", async () => {
    const x = similarityScores(tf.tensor2d(L), 'pair');
    expect(Array.from(await x.data())).toEqual([1, 5, 10]);
  });
  test("'official' is diag(L·L): x_i = Σ_k L[i,k]·L[k,i]", async () => {
    // by hand: x0 = 1·1 + 2·4 + 3·7 = 30; x1 = 4·2 + 5·5 + 6·8 = 81; x2 = 7·3 + 8·6 + 10·10 = 169
    const x = similarityScores(tf.tensor2d(L), 'official');
    expect(Array.from(await x.data())).toEqual([30, 81, 169]);
    // and it equals diag(Lb @ Ltᵀ) with Lt = Lbᵀ, as the official code writes it
    const Lb = tf.tensor2d(L);
    const viaMatmul = tf.sum(tf.mul(tf.matMul(Lb, tf.transpose(tf.transpose(Lb))), tf.eye(3)), 1);
    expect(Array.from(await viaMatmul.data())).toEqual([30, 81, 169]);
  });
  test('rejects a non-square matrix', () => {
    expect(() => similarityScores(tf.zeros([2, 3]) as tf.Tensor2D, 'pair')).toThrow(/square/);
  });
});

describe('normalisation', () => {
  const x = tf.tensor1d([30, 81, 169]);
  test("'group-sum' divides only the group side by its sum", async () => {
    expect(Array.from(await normaliseScores(x, 'batch', 'group-sum').data())).toEqual([30, 81, 169]);
    const g = await normaliseScores(x, 'group', 'group-sum').data();
    [30 / 280, 81 / 280, 169 / 280].forEach((v, i) => expect(g[i]).toBeCloseTo(v, 7));
  });
  test("'both' normalises both sides; 'none' neither", async () => {
    const b = await normaliseScores(x, 'batch', 'both').data();
    expect(b[0]).toBeCloseTo(30 / 280, 7);
    expect(Array.from(await normaliseScores(x, 'group', 'none').data())).toEqual([30, 81, 169]);
  });
});

describe('fairness penalty', () => {
  // A hand-checkable distance: D(x, y) = (mean x − mean y)²
  const meanGap = (x: tf.Tensor1D, groups: readonly tf.Tensor1D[]) =>
    tf.stack(groups.map((y) => tf.square(tf.sub(tf.mean(x), tf.mean(y))))) as tf.Tensor1D;

  test('λ · Σ_a w_a · Σ_g D', async () => {
    const x = tf.tensor1d([1, 2, 3]); // mean 2
    const race = {
      attribute: 'race',
      weight: 0.5,
      groups: [tf.tensor1d([1, 1]), tf.tensor1d([4]), tf.tensor1d([2, 2])],
    }; // D = 1, 4, 0
    const gender = { attribute: 'gender', weight: 0.25, groups: [tf.tensor1d([0]), tf.tensor1d([3, 5])] }; // D = 4, 4
    const { penalty, distances } = fairnessPenalty(x, [race, gender], 0.1, meanGap);
    // 0.1 · (0.5 · 5 + 0.25 · 8) = 0.45
    expect(await penalty.data()).toHaveLength(1);
    expect((await penalty.data())[0]).toBeCloseTo(0.45, 6);
    expect(Array.from(await distances.race!.data())).toEqual([1, 4, 0]);
    expect(Array.from(await distances.gender!.data())).toEqual([4, 4]);
  });

  test('gradient reaches only the batch side', async () => {
    const y = tf.tensor1d([4]);
    const g = tf.grad(
      (x: tf.Tensor) =>
        fairnessPenalty(x as tf.Tensor1D, [{ attribute: 'race', weight: 1, groups: [y] }], 2, meanGap).penalty,
    )(tf.tensor1d([1, 2, 3]));
    // d/dx_i 2·(mean x − 4)² = 2·2·(2 − 4)/3 = −8/3
    (await g.data()).forEach((v) => expect(v).toBeCloseTo(-8 / 3, 5));
  });

  test('zero weights are skipped and negative λ is rejected', async () => {
    const x = tf.tensor1d([1, 2]);
    const { penalty, distances } = fairnessPenalty(
      x,
      [{ attribute: 'race', weight: 0, groups: [tf.tensor1d([9])] }],
      1,
      meanGap,
    );
    expect((await penalty.data())[0]).toBe(0);
    expect(Object.keys(distances)).toEqual([]);
    expect(() => fairnessPenalty(x, [], -1, meanGap)).toThrow(/λ/);
  });
});
