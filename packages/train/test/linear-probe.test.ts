// The linear-probe head and its LARS training against a PyTorch reference run
// (test-fixtures/generators/train_linear_probe.py).
import { readFixtureJson } from '@fairclip/test-fixtures';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { bceWithLogits, LinearProbeHead, trainLinearProbe } from '../src/linear-probe.ts';

interface Fixture {
  settings: {
    n: number;
    d: number;
    batch_size: number;
    epochs: number;
    warmup_epochs: number;
    blr: number;
    weight_decay: number;
  };
  x: number[][];
  y: number[];
  init_weight: number[][];
  losses: number[];
  lrs: number[];
  final_weight: number[][];
  final_bias: number[];
  running_mean: number[];
  running_var: number[];
  eval_scores: number[];
}
const fx = readFixtureJson<Fixture>('train/linear_probe.json');

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const close = (got: ArrayLike<number>, want: ArrayLike<number>, rel: number, abs: number, what: string) => {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++)
    expect(Math.abs(got[i]! - want[i]!), `${what}[${i}]`).toBeLessThanOrEqual(abs + rel * Math.abs(want[i]!));
};

describe('linear probe vs PyTorch', () => {
  test('losses, parameters, BatchNorm running stats and eval scores', async () => {
    const s = fx.settings;
    const head = new LinearProbeHead(s.d, { initWeight: fx.init_weight });
    const features = Float32Array.from(fx.x.flat());
    const lrs: number[] = [];
    const losses = await trainLinearProbe(head, features, fx.y, {
      epochs: s.epochs,
      batchSize: s.batch_size,
      blr: s.blr,
      warmupEpochs: s.warmup_epochs,
      weightDecay: s.weight_decay,
      onStep: ({ lr }) => {
        lrs.push(lr);
      },
    });
    close(lrs, fx.lrs, 1e-12, 0, 'lr');
    close(losses, fx.losses, 1e-5, 1e-6, 'loss');
    const w = tf.transpose(head.weight);
    close(await w.data(), fx.final_weight.flat(), 1e-4, 1e-7, 'weight');
    close(await head.bias.data(), fx.final_bias, 1e-4, 1e-7, 'bias');
    close(head.runningMean, fx.running_mean, 1e-5, 1e-6, 'running_mean');
    close(head.runningVar, fx.running_var, 1e-5, 1e-6, 'running_var');
    close(await head.scores(features, s.n), fx.eval_scores, 1e-5, 1e-6, 'scores');
    w.dispose();
    head.dispose();
  });

  test('BCE with logits is stable for large logits', async () => {
    const v = bceWithLogits(tf.tensor1d([100, -100, 0]), tf.tensor1d([1, 0, 1]));
    expect((await v.data())[0]).toBeCloseTo(Math.log(2) / 3, 6);
  });

  test('bad input is rejected', async () => {
    expect(() => new LinearProbeHead(0, { random: Math.random })).toThrow(/positive integer/);
    expect(() => new LinearProbeHead(3)).toThrow(/seeded/);
    const head = new LinearProbeHead(2, {
      initWeight: [
        [0, 0],
        [0, 0],
      ],
    });
    await expect(
      trainLinearProbe(head, new Float32Array(3), [0, 1], { epochs: 1, batchSize: 1, blr: 0.1, warmupEpochs: 0 }),
    ).rejects.toThrow(/expected 2×2/);
    head.dispose();
  });
});
