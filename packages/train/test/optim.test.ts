// Adam and LARS against PyTorch reference sequences (test-fixtures/generators/train_optimizers.py).
import { readFixtureJson } from '@fairclip/test-fixtures';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { Adam, Lars, warmupCosineLr } from '../src/optim.ts';

interface Case {
  name: string;
  kind: 'adam' | 'lars';
  settings: Record<string, number & number[]>;
  shapes: Record<string, number[]>;
  init: Record<string, number[]>;
  steps: { grads: Record<string, number[]>; lr: number | null; params: Record<string, number[]> }[];
}
const fixture = readFixtureJson<{ cases: Case[] }>('train/optimizers.json');

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i]! - b[i]!) / Math.max(1e-6, Math.abs(b[i]!));
    worst = Math.max(worst, err);
  }
  return worst;
}

describe.each(fixture.cases)('$name matches PyTorch', (c) => {
  test('every step', async () => {
    const vars = Object.entries(c.shapes).map(([name, shape]) =>
      tf.variable(tf.tensor(c.init[name]!, shape), true, `${c.name}_${name}`),
    );
    const byName = Object.fromEntries(vars.map((v, i) => [Object.keys(c.shapes)[i]!, v]));
    const groups = [{ name: 'all', params: vars }];
    const s = c.settings;
    const opt =
      c.kind === 'adam'
        ? new Adam(groups, {
            lr: s.lr!,
            betas: s.betas as unknown as [number, number],
            eps: s.eps!,
            weightDecay: s.weight_decay!,
          })
        : new Lars(groups, {
            lr: 0,
            weightDecay: s.weight_decay!,
            momentum: s.momentum!,
            trustCoefficient: s.trust_coefficient!,
          });
    for (const [t, step] of c.steps.entries()) {
      if (opt instanceof Lars) {
        const lr = warmupCosineLr(t / s.iters_per_epoch!, {
          lr: s.lr!,
          minLr: s.min_lr!,
          warmupEpochs: s.warmup_epochs!,
          epochs: s.epochs!,
        });
        expect(lr).toBeCloseTo(step.lr!, 12);
        opt.setLr(lr);
      }
      const grads: Record<string, tf.Tensor> = {};
      for (const [k, g] of Object.entries(step.grads)) grads[byName[k]!.name] = tf.tensor(g, c.shapes[k]);
      opt.applyGradients(grads);
      tf.dispose(Object.values(grads));
      for (const [k, expected] of Object.entries(step.params)) {
        const got = await byName[k]!.data();
        expect(maxRelErr(got, expected), `${c.name} step ${t} param ${k}`).toBeLessThan(2e-6);
      }
    }
    expect(opt.step).toBe(c.steps.length);
    opt.dispose();
    tf.dispose(vars);
  });
});

describe('optimizer state', () => {
  test('Adam state round-trips: resuming gives the same parameters as an uninterrupted run', async () => {
    const c = fixture.cases.find((x) => x.name === 'adam_defaults_wd')!;
    const run = async (split: number | undefined) => {
      const mk = () =>
        Object.entries(c.shapes).map(([name, shape]) =>
          tf.variable(tf.tensor(c.init[name]!, shape), true, `resume_${split}_${name}`),
        );
      let vars = mk();
      let opt = new Adam([{ name: 'all', params: vars }], {
        lr: 1e-2,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weightDecay: 0.1,
      });
      for (const [t, step] of c.steps.entries()) {
        if (split !== undefined && t === split) {
          const state = await opt.state();
          const values = await Promise.all(vars.map((v) => v.data()));
          opt.dispose();
          tf.dispose(vars);
          vars = Object.entries(c.shapes).map(([name, shape], i) =>
            tf.variable(tf.tensor(values[i]!, shape), true, `resume_${split}_${name}`),
          );
          opt = new Adam([{ name: 'all', params: vars }], {
            lr: 1e-2,
            betas: [0.9, 0.999],
            eps: 1e-8,
            weightDecay: 0.1,
          });
          opt.loadState(state);
        }
        const grads: Record<string, tf.Tensor> = {};
        Object.keys(c.shapes).forEach((k, i) => {
          grads[vars[i]!.name] = tf.tensor(step.grads[k]!, c.shapes[k]);
        });
        opt.applyGradients(grads);
        tf.dispose(Object.values(grads));
      }
      const out = await Promise.all(vars.map((v) => v.data()));
      opt.dispose();
      tf.dispose(vars);
      return out;
    };
    const straight = await run(undefined);
    const resumed = await run(5);
    resumed.forEach((r, i) => expect(Array.from(r)).toEqual(Array.from(straight[i]!)));
  });

  test('bad hyperparameters are rejected with the field name', () => {
    expect(() => new Adam([], { lr: -1 })).toThrow(/lr/);
    expect(() => new Adam([], { lr: 1, betas: [1, 0.5] })).toThrow(/betas/);
    expect(() => new Lars([], { lr: 0.1, weightDecay: Number.NaN })).toThrow(/weightDecay/);
  });
});
