/**
 * The tfjs ops on every backend (cpu, wasm, webgpu via @fairclip/compute's forEachBackend, with its leak check):
 *  - the float64 engine through the op against geomloss 0.2.6 (all 37 golden cases): values to 1e-6 relative and the
 *    gradients w.r.t. positions AND weights (grad_x, grad_y, grad_a, grad_b) to 1e-5 of their scale. On cpu/wasm through
 *    the synchronous op; on every backend through the async pair solveDivergence + divergenceFromSolution;
 *  - the float32 tensor engine (dense cost and the fused online soft-min) against the same golden values, balanced,
 *    weighted, biased and unbalanced (reach), with float32 tolerances;
 *  - FairCLIP's per-group terms as one call (batched loop), the exact 1-D route, kernel losses against torch;
 *  - the routing of solveDivergence and typed errors for bad tensors;
 *  - matrix Sinkhorn on tensors against POT;
 *  - the law suite on the backend's float32 engines (laws-backends.ts; same file so each backend starts once).
 */
import { type BackendSuite, forEachBackend } from '@fairclip/compute/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type DivergenceInfo,
  type DivergenceOptions,
  type DivergenceProblem,
  divergenceFromSolution,
  exact1d,
  OtInputError,
  resetRouting,
  samplesLoss,
  sinkhornDivergence,
  sinkhornDivergenceBatched,
  sinkhornDivergenceMany,
  sinkhornTensor,
  solveDivergence,
} from '../src/index.ts';
import { type GeomlossCase, geomlossCases, potCases } from './golden.ts';
import { expectClose, expectNear, scaledMaxError } from './helpers.ts';
import { kernelCases } from './kernels.ts';
import { describeBackendLaws } from './laws-backends.ts';

const F32_ULP = 2 ** -24;

interface Grads {
  value: number;
  gx: Float32Array;
  gy: Float32Array;
  ga?: Float32Array;
  gb?: Float32Array;
}

/** Value and gradients w.r.t. (x, y[, a, b]) of `f`, read back; disposes everything it made. */
async function valueAndGrads(
  f: (x: tf.Tensor, y: tf.Tensor, a?: tf.Tensor, b?: tf.Tensor) => tf.Scalar,
  inputs: tf.Tensor[],
): Promise<Grads> {
  const { value, grads } = tf.valueAndGrads((...args: tf.Tensor[]) => f(args[0]!, args[1]!, args[2], args[3]))(inputs);
  const [v, ...gs] = await Promise.all([value.data(), ...grads.map((g) => g.data())]);
  tf.dispose([value, ...grads]);
  const out: Grads = { value: v![0]!, gx: gs[0] as Float32Array, gy: gs[1] as Float32Array };
  if (gs[2]) out.ga = gs[2] as Float32Array;
  if (gs[3]) out.gb = gs[3] as Float32Array;
  return out;
}

function goldenTensors(c: GeomlossCase): tf.Tensor[] {
  const t: tf.Tensor[] = [tf.tensor2d(c.x.flat(), [c.n, c.dim]), tf.tensor2d(c.y.flat(), [c.m, c.dim])];
  if (c.weighted) t.push(tf.tensor1d(c.a!), tf.tensor1d(c.b!));
  return t;
}

function goldenOptions(c: GeomlossCase): DivergenceOptions {
  const o: DivergenceOptions = { p: c.p, blur: c.blur, scaling: c.scaling, debias: c.debias, geomlossCompatible: true };
  if (c.diameter !== null) o.diameter = c.diameter;
  if (c.reach !== null) o.reach = c.reach;
  return o;
}

/**
 * The tfjs op reads float32 tensors, so it solves the golden problem with its inputs rounded to float32. First-order
 * effect on the value: Σ |∂S/∂input| · |input| · 2⁻²⁴ (from the golden gradients).
 */
function inputRoundingBound(c: GeomlossCase): number {
  let s = 0;
  c.x.flat().forEach((v, i) => {
    s += Math.abs(c.grad_x.flat()[i]! * v);
  });
  c.y.flat().forEach((v, i) => {
    s += Math.abs(c.grad_y.flat()[i]! * v);
  });
  if (c.weighted && c.grad_a && c.grad_b) {
    c.a!.forEach((v, i) => {
      s += Math.abs(c.grad_a![i]! * v);
    });
    c.b!.forEach((v, i) => {
      s += Math.abs(c.grad_b![i]! * v);
    });
  }
  return 2 * s * F32_ULP;
}

function checkAgainstGolden(c: GeomlossCase, r: Grads, gradTol: number): void {
  expectNear(r.value, c.loss, 1e-6, inputRoundingBound(c) + 1e-12, `${c.name}: loss`);
  expect(scaledMaxError(r.gx, c.grad_x.flat()), `${c.name}: grad_x`).toBeLessThanOrEqual(gradTol);
  expect(scaledMaxError(r.gy, c.grad_y.flat()), `${c.name}: grad_y`).toBeLessThanOrEqual(gradTol);
  if (c.weighted && c.grad_a && c.grad_b) {
    // ∂S/∂a is defined up to a constant in balanced mode (geomloss returns one representative): compare centred.
    const centre = (v: ArrayLike<number>, w: ArrayLike<number>) => {
      let m = 0;
      for (let i = 0; i < v.length; i++) m += v[i]! * w[i]!;
      return Array.from(v, (t) => t - (c.reach === null ? m : 0));
    };
    expect(scaledMaxError(centre(r.ga!, c.a!), centre(c.grad_a, c.a!)), `${c.name}: grad_a`).toBeLessThanOrEqual(
      gradTol,
    );
    expect(scaledMaxError(centre(r.gb!, c.b!), centre(c.grad_b, c.b!)), `${c.name}: grad_b`).toBeLessThanOrEqual(
      gradTol,
    );
  }
}

const cases = geomlossCases();

forEachBackend((suite: BackendSuite) => {
  afterEach(() => {
    resetRouting();
  });

  describeBackendLaws(suite);

  describe('float64 engine through the op vs geomloss 0.2.6', () => {
    it('async pair solveDivergence + divergenceFromSolution: all 37 cases, gradients w.r.t. x, y, a, b', async () => {
      for (const c of cases) {
        const inputs = goldenTensors(c);
        const o = { ...goldenOptions(c), engine: 'cpu-f64' as const };
        const problem = (x: tf.Tensor, y: tf.Tensor, a?: tf.Tensor, b?: tf.Tensor): DivergenceProblem =>
          a && b ? { x, y, a, b } : { x, y };
        const sol = await solveDivergence([problem(inputs[0]!, inputs[1]!, inputs[2], inputs[3])], o);
        expect(sol.engine).toBe('cpu-f64');
        const r = await valueAndGrads(
          (x, y, a, b) => tf.sum(divergenceFromSolution([problem(x, y, a, b)], sol)),
          inputs,
        );
        checkAgainstGolden(c, r, 1e-5);
        tf.dispose(inputs);
      }
    });

    it.runIf(suite.name === 'cpu')('synchronous op (engine cpu-f64): all 37 cases', async () => {
      for (const c of cases) {
        const inputs = goldenTensors(c);
        let info: DivergenceInfo[] = [];
        const o = { ...goldenOptions(c), engine: 'cpu-f64' as const, onInfo: (i: DivergenceInfo[]) => (info = i) };
        const r = await valueAndGrads((x, y, a, b) => sinkhornDivergence(x, y, a && b ? { ...o, a, b } : o), inputs);
        checkAgainstGolden(c, r, 1e-5);
        expect(info[0]!.engine).toBe('cpu-f64');
        expect(info[0]!.epsList.length).toBe(c.n_eps);
        tf.dispose(inputs);
      }
    });
  });

  describe('float32 tensor engine vs geomloss 0.2.6', () => {
    // Short schedules, float32-resolved ε (webgpu on lavapipe: a few small ones). Online: ε not far below
    // diameter²·1e-4, where its barycentric gradient (from log-shifted soft-mins) keeps float32 accuracy.
    const names =
      suite.name === 'webgpu'
        ? [
            'd2_n64_m1_blur1_s0.5',
            'weighted_d2_n40_m30_blur0.5_s0.5_diam2',
            'unbalanced_d1_n12_m9_blur0.05_s0.5_reach0.3_biased',
          ]
        : suite.name === 'wasm'
          ? [
              'd2_n5_m9_blur0.05_s0.5',
              'weighted_d1_n8_m8_blur0.05_s0.5_zero',
              'unbalanced_d1_n16_m16_blur0.05_s0.5_reach0.5',
            ]
          : [
              'd1_n7_m13_blur1_s0.9',
              'd2_n5_m9_blur0.05_s0.5',
              'weighted_d1_n6_m9_blur0.05_s0.5',
              'weighted_d1_n8_m8_blur0.05_s0.5_zero',
              'biased_d2_n10_m10_blur1_s0.5_weighted',
              'unbalanced_d1_n16_m16_blur0.05_s0.5_reach0.5',
              'identical_d1_n10',
            ];
    for (const mode of ['dense', 'online'] as const) {
      it(`${mode} cost: values, gradients w.r.t. x, y, a, b (balanced, weighted, biased, reach)`, async () => {
        for (const name of names) {
          const c = cases.find((k) => k.name === name)!;
          const inputs = goldenTensors(c);
          let info: DivergenceInfo[] = [];
          const o: DivergenceOptions = {
            ...goldenOptions(c),
            diameter: c.diameter_used,
            engine: 'tensor',
            tensorCost: mode,
            onInfo: (i) => (info = i),
          };
          const r = await valueAndGrads((x, y, a, b) => sinkhornDivergence(x, y, a && b ? { ...o, a, b } : o), inputs);
          // float32: the potentials carry ~2⁻²⁴·diameter² of rounding (see README); gradients 1e-3 (testEpsilon).
          expectNear(r.value, c.loss, 1e-4, 1e-6 * c.diameter_used ** 2, `${c.name}: loss`);
          const g = (k: keyof GeomlossCase) => (c[k] as number[][] | number[]).flat();
          expect(scaledMaxError(r.gx, g('grad_x')), `${c.name}: grad_x`).toBeLessThanOrEqual(suite.epsilon);
          expect(scaledMaxError(r.gy, g('grad_y')), `${c.name}: grad_y`).toBeLessThanOrEqual(suite.epsilon);
          if (c.weighted && c.grad_a && c.grad_b) {
            expect(scaledMaxError(r.ga!, c.grad_a), `${c.name}: grad_a (balanced: same gauge)`).toBeLessThanOrEqual(
              suite.epsilon,
            );
            expect(scaledMaxError(r.gb!, c.grad_b), `${c.name}: grad_b`).toBeLessThanOrEqual(suite.epsilon);
          }
          expect(info[0]!.engine).toBe('tensor');
          expect(info[0]!.costMode).toBe(mode);
          expect(info[0]!.float32Resolved).toBe(true);
          expect(info[0]!.iterations).toBe(c.n_eps);
          tf.dispose(inputs);
        }
      });
    }

    it("FairCLIP's ε (blur 1e-4 with scores ~1e4) is flagged as not float32-resolved, still finite", async () => {
      const c = cases.find((k) => k.name.startsWith('fairclip_official_like'))!;
      const [x, y] = goldenTensors(c);
      let info: DivergenceInfo[] = [];
      const v = sinkhornDivergence(x!, y!, {
        ...goldenOptions(c),
        diameter: c.diameter_used,
        engine: 'tensor',
        onInfo: (i) => (info = i),
      });
      const value = (await v.data())[0]!;
      expect(info[0]!.float32Resolved).toBe(false);
      expect(info[0]!.converged).toBeUndefined(); // not measurable in float32 there
      expect(Number.isFinite(value)).toBe(true);
      // Accurate to float32's resolution of the cost scale (diameter² ≈ 4.7e8), not better.
      expect(Math.abs(value - c.loss)).toBeLessThanOrEqual(1e-6 * c.diameter_used ** 2);
      tf.dispose([x!, y!, v]);
    });
  });

  describe("FairCLIP's per-group terms in one call", () => {
    // One batch cloud of 32 scores against 3 group clouds of 32 scores (1-D), moderate blur (float32-resolved).
    const rnd = (seed: number, n: number, lo: number, hi: number) => {
      let s = seed;
      return Array.from({ length: n }, () => {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        return lo + ((hi - lo) * s) / 2 ** 32;
      });
    };
    const batch = rnd(1, 32, 20, 30);
    const groups = [rnd(2, 32, 19, 27), rnd(3, 32, 22, 31), rnd(4, 32, 18, 29)];
    const opts: DivergenceOptions = { blur: 1, scaling: 0.5, diameter: 13, geomlossCompatible: true };

    for (const engine of suite.name === 'webgpu' ? (['tensor'] as const) : (['cpu-f64', 'tensor'] as const)) {
      it(`engine ${engine}: equals separate calls, one batched loop, gradients summed on the shared batch cloud`, async () => {
        const x = tf.tensor1d(batch);
        const ys = groups.map((g) => tf.tensor1d(g));
        let info: DivergenceInfo[] = [];
        const o: DivergenceOptions = { ...opts, engine, onInfo: (i) => (info = i) };
        const together = await valueAndGrads(
          (xx) =>
            tf.sum(
              sinkhornDivergenceMany(
                ys.map((y) => ({ x: xx, y })),
                o,
              ),
            ),
          [x, ...ys],
        );
        expect(info.length).toBe(3);
        expect(info.every((i) => i.batch === (engine === 'tensor' ? 3 : 1))).toBe(true);
        let sum = 0;
        const gx = new Float64Array(32);
        const separate: number[] = [];
        for (const [k, y] of ys.entries()) {
          const one = await valueAndGrads((xx, yy) => sinkhornDivergence(xx, yy, o), [x, y]);
          sum += one.value;
          separate.push(one.value);
          one.gx.forEach((v, i) => {
            gx[i] = gx[i]! + v;
          });
          // Against the float64 core on the same float32-rounded numbers.
          const ref = samplesLoss(Float64Array.from(await x.data()), Float64Array.from(await y.data()), opts);
          expectNear(one.value, ref.value, engine === 'cpu-f64' ? 1e-7 : 1e-4, 0, `group ${k} vs float64 core`);
          expect(scaledMaxError(one.gx, ref.gradX), `group ${k} grad`).toBeLessThanOrEqual(suite.epsilon);
        }
        expectNear(together.value, sum, engine === 'cpu-f64' ? 1e-7 : 1e-5, 0, 'sum of the per-group values');
        expect(scaledMaxError(together.gx, gx), 'gradient on the batch cloud').toBeLessThanOrEqual(1e-5);
        // sinkhornDivergenceBatched ([B, N, 1]) gives the separate values too.
        const x3 = tf.tidy(() => tf.stack(ys.map(() => tf.reshape(x, [32, 1]))) as tf.Tensor3D);
        const y3 = tf.tidy(() => tf.stack(ys.map((y) => tf.reshape(y, [32, 1]))) as tf.Tensor3D);
        const vb = sinkhornDivergenceBatched(x3, y3, o);
        expectClose(await vb.data(), separate, 1e-6, 0, 'batched vs separate');
        tf.dispose([x, ...ys, x3, y3, vb]);
      });
    }

    it('solveDivergence routes the small FairCLIP problem to the exact 1-D path (float64), any backend', async () => {
      const c = cases.find((k) => k.name.startsWith('fairclip_official_like'))!;
      const x = tf.tensor1d(c.x.flat());
      const y = tf.tensor1d(c.y.flat());
      const sol = await solveDivergence([{ x, y }], { blur: c.blur, scaling: c.scaling });
      expect(sol.engine).toBe('cpu-f64');
      expect(sol.route).toMatch(/1-D balanced: the exact sorted-quantile path on the CPU/);
      expect(sol.results[0]!.solver).toBe('exact-1d');
      const r = await valueAndGrads((xx, yy) => tf.sum(divergenceFromSolution([{ x: xx, y: yy }], sol)), [x, y]);
      const ex = exact1d(Float64Array.from(await x.data()), Float64Array.from(await y.data()));
      expectNear(r.value, ex.value, 1e-7, 0, 'exact W');
      expectNear(r.value, c.exact_ot_1d_quantile!, 1e-6, 0, 'POT wasserstein_1d / 2');
      expectClose(r.gx, ex.gradX, 1e-6, 1e-6 * Math.max(...ex.gradX.map(Math.abs)), 'exact gradient');
      tf.dispose([x, y]);
    });
  });

  describe('routing of solveDivergence', () => {
    const x = [
      [0, 0],
      [1, 0.5],
      [2, 1],
      [0.5, 1.5],
    ];
    const y = [
      [0.5, 0.2],
      [1.5, 1.5],
      [2.5, 0.1],
    ];
    it('large problems go to the device engine with measured diameters; tiny ε falls back to float64', async () => {
      const xt = tf.tensor2d(x);
      const yt = tf.tensor2d(y);
      const routing = suite.name === 'webgpu' ? { gpuMinEntries: 0 } : { f64MaxEntries: 0 };
      const sol = await solveDivergence([{ x: xt, y: yt }], { blur: 0.5, geomlossCompatible: true, routing });
      expect(sol.engine).toBe('tensor');
      const ref = samplesLoss(x, y, { blur: 0.5, geomlossCompatible: true });
      expect(sol.diameters[0]).toBeCloseTo(ref.diameter, 5);
      const v = divergenceFromSolution([{ x: xt, y: yt }], sol);
      expectNear((await v.data())[0]!, ref.value, 1e-4, 1e-6, 'tensor route value');
      if (suite.name === 'webgpu') {
        // float32 cannot resolve ε = 1e-12 at this diameter: float64 on the CPU instead (1-D or small).
        const tiny = await solveDivergence([{ x: xt, y: yt }], { blur: 1e-6, routing });
        expect(tiny.engine).toBe('cpu-f64');
        expect(tiny.route).toMatch(/float32 cannot resolve/);
      }
      tf.dispose([xt, yt, v]);
    });

    it('bad tensors: typed errors naming the problem (non-finite points, unequal masses, shapes)', async () => {
      const good = tf.tensor2d(y);
      const bad = tf.tensor2d([
        [0, 0],
        [Number.NaN, 1],
      ]);
      const wa = tf.tensor1d([0.5, 0.5]);
      const wb = tf.tensor1d([0.2, 0.2, 0.2]);
      const two = tf.tensor2d(x.slice(0, 2));
      const oneD = tf.tensor1d([1, 2]);
      const routing = { gpuMinEntries: 0, f64MaxEntries: 0 }; // the device path validates on the device
      await expect(solveDivergence([{ x: bad, y: good }], { routing })).rejects.toThrow(
        /problems\[0\]: 1 point coordinates are not finite/,
      );
      await expect(solveDivergence([{ x: bad, y: good }], { engine: 'cpu-f64' })).rejects.toThrow(
        /x: point 1 has a non-finite/,
      );
      await expect(solveDivergence([{ x: two, y: good, a: wa, b: wb }], { routing })).rejects.toThrow(
        /different total masses/,
      );
      expect(() => sinkhornDivergenceMany([{ x: good, y: oneD }])).toThrow(OtInputError);
      expect(() => sinkhornDivergenceMany([{ x: good, y: good, a: [1, 2] }])).toThrow(/a must have 3 weights/);
      expect(() => sinkhornDivergenceMany([])).toThrow(/non-empty array of problems/);
      if (suite.name === 'webgpu') {
        expect(() => sinkhornDivergence(good, good)).toThrow(/pass `diameter`/);
        expect(() => sinkhornDivergence(good, good, { engine: 'cpu-f64' })).toThrow(/cannot do/);
      } else {
        expect(() => sinkhornDivergence(bad, good, { engine: 'tensor' })).toThrow(/not finite/);
      }
      tf.dispose([good, bad, wa, wb, two, oneD]);
    });
  });

  describe('kernel losses through the op vs torch float64', () => {
    for (const loss of ['energy', 'gaussian', 'laplacian'] as const) {
      it(`${loss}: value and gradients w.r.t. x, y, a, b`, async () => {
        const c = kernelCases().find((k) => k.loss === loss && k.weighted && k.d === 3)!;
        const inputs = [tf.tensor2d(c.x, [c.n, c.d]), tf.tensor2d(c.y, [c.m, c.d]), tf.tensor1d(c.a), tf.tensor1d(c.b)];
        const o: DivergenceOptions = { loss, blur: c.blur };
        const sol = await solveDivergence([{ x: inputs[0]!, y: inputs[1]!, a: inputs[2]!, b: inputs[3]! }], o);
        expect(sol.route).toMatch(/float64 core only/);
        const r = await valueAndGrads(
          (x, y, a, b) => tf.sum(divergenceFromSolution([{ x, y, a: a!, b: b! }], sol)),
          inputs,
        );
        expectNear(r.value, c.value, 1e-7, 0, 'value');
        for (const [got, want, label] of [
          [r.gx, c.grad_x, 'grad_x'],
          [r.gy, c.grad_y, 'grad_y'],
          [r.ga!, c.grad_a, 'grad_a'],
          [r.gb!, c.grad_b, 'grad_b'],
        ] as const) {
          expect(scaledMaxError(got, want), label).toBeLessThanOrEqual(1e-6);
        }
        tf.dispose(inputs);
      });
    }
  });

  describe('matrix Sinkhorn on tensors vs POT 0.8.2', () => {
    it('plans within float32 tolerance of POT (reg >= 0.05), converged flag and error history', async () => {
      const pc = potCases().filter((c) => c.reg >= 0.05 && c.n * c.m <= (suite.name === 'webgpu' ? 30 : 150));
      expect(pc.length).toBeGreaterThan(2);
      for (const c of pc) {
        const r = await sinkhornTensor(c.a, c.b, c.M, c.reg, { tol: 1e-5, maxIter: 2000 });
        expect(r.converged, c.name).toBe(true);
        expect(r.marginalError).toBeLessThan(1e-5);
        expectClose(r.plan, c.sinkhorn_log.plan.flat(), 0, 2e-5, `${c.name} plan`);
        expectNear(r.transportCost, c.sinkhorn_log.sinkhorn2, 1e-3, 1e-5, `${c.name} sinkhorn2`);
      }
      const slow = potCases().find((k) => k.name.startsWith('pot_07'))!;
      const r = await sinkhornTensor(slow.a, slow.b, slow.M, slow.reg, { tol: 1e-9, maxIter: 12 });
      expect(r.converged).toBe(false);
      expect(r.errors.length).toBe(2);
    });
  });
});
