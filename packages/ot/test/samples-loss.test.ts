/**
 * samplesLoss beyond the geomloss golden file: kernel (MMD) losses against a torch float64 reference
 * (test-fixtures/generators/ot_kernels.py), the exact 1-D fast path and its routing rule, the cost-evaluation routing,
 * and ε-scaling of the matrix solver against POT.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  chooseEngine,
  configureRouting,
  DEFAULT_ROUTING,
  exact1d,
  type RouteQuery,
  resetRouting,
  samplesLoss,
  sinkhorn,
} from '../src/index.ts';
import { entropy } from '../src/inputs.ts';
import { potCases } from './golden.ts';
import { expectClose, expectNear, scaledMaxError } from './helpers.ts';
import { kernelCases } from './kernels.ts';

afterEach(() => {
  resetRouting();
});

describe('kernel losses (energy, gaussian, laplacian) vs torch float64', () => {
  const cases = kernelCases();
  it('has 18 cases (3 kernels × 6 clouds)', () => {
    expect(cases.length).toBe(18);
    expect(new Set(cases.map((c) => c.loss))).toEqual(new Set(['energy', 'gaussian', 'laplacian']));
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s: value and gradients w.r.t. x, y, a, b', (_n, c) => {
    const r = samplesLoss(
      { data: c.x, n: c.n, d: c.d },
      { data: c.y, n: c.m, d: c.d },
      { loss: c.loss, blur: c.blur, a: c.a, b: c.b },
    );
    expect(r.solver).toBe('kernel');
    expectNear(r.value, c.value, 1e-10, 1e-14, 'value');
    expect(scaledMaxError(r.gradX, c.grad_x), 'grad_x').toBeLessThanOrEqual(1e-10);
    expect(scaledMaxError(r.gradY, c.grad_y), 'grad_y').toBeLessThanOrEqual(1e-10);
    expect(scaledMaxError(r.gradA, c.grad_a), 'grad_a').toBeLessThanOrEqual(1e-10);
    expect(scaledMaxError(r.gradB, c.grad_b), 'grad_b').toBeLessThanOrEqual(1e-10);
  });

  it('the energy distance ignores blur (scale-equivariant)', () => {
    const c = cases.find((k) => k.loss === 'energy')!;
    const x = { data: c.x, n: c.n, d: c.d };
    const y = { data: c.y, n: c.m, d: c.d };
    const r1 = samplesLoss(x, y, { loss: 'energy', blur: 0.01, a: c.a, b: c.b });
    const r2 = samplesLoss(x, y, { loss: 'energy', blur: 100, a: c.a, b: c.b });
    expect(r1.value).toBe(r2.value);
  });
});

describe('the exact 1-D fast path and its routing rule', () => {
  // Distinct, well-separated points: the optimal plan is unique, so W is differentiable.
  const x = [0.1, 0.45, 0.9, 1.7, 2.2, 3.05];
  const y = [0.3, 1.1, 1.25, 2.5, 2.9, 3.6];
  const w = exact1d(x, y).value;
  const h = entropy(new Array(6).fill(1 / 6));

  it("FairCLIP's setting (1-D, blur 1e-4 and 1e-6) routes to exact-1d with the bound reported", () => {
    for (const blur of [1e-4, 1e-6]) {
      const r = samplesLoss(x, y, { blur });
      expect(r.solver).toBe('exact-1d');
      expect(r.value).toBe(w);
      expect(r.errorBound).toBeCloseTo(blur ** 2 * h, 20); // ε(H(α) + H(β))/2 with H(α) = H(β)
      expect(r.errorBound).toBeLessThanOrEqual(1e-6 * w);
      expect(r.iterations).toBe(0);
    }
  });

  it('the rule: exact-1d exactly when ε(H(α)+H(β))/2 <= exactTolerance·W (debiased), ε·min H (biased)', () => {
    const tol = 1e-3;
    const epsAt = (tol * w) / h; // bound = tol·W
    const below = samplesLoss(x, y, { blur: Math.sqrt(epsAt * 0.99), exactTolerance: tol });
    const above = samplesLoss(x, y, { blur: Math.sqrt(epsAt * 1.01), exactTolerance: tol });
    expect(below.solver).toBe('exact-1d');
    expect(above.solver).toBe('sinkhorn');
    // The biased OT_ε uses the bound ε·min(H(α), H(β)) = ε·h here, the same number: same switch point.
    expect(samplesLoss(x, y, { blur: Math.sqrt(epsAt * 0.99), exactTolerance: tol, debias: false }).solver).toBe(
      'exact-1d',
    );
    // Process-wide routing setting.
    configureRouting({ exactTolerance: tol });
    expect(samplesLoss(x, y, { blur: Math.sqrt(epsAt * 0.99) }).solver).toBe('exact-1d');
    configureRouting({ exactTolerance: 0 });
    expect(samplesLoss(x, y, { blur: 1e-6 }).solver).toBe('sinkhorn');
  });

  it('within its bound of the converged Sinkhorn divergence and OT_ε, gradients included', () => {
    const blur = 0.05; // ε = 2.5e-3, bound 4.5e-3 (≈ 3 % of W); needs ~15 000 extra iterations (over-relaxed)
    const exact = samplesLoss(x, y, { blur, solver: 'exact-1d' });
    for (const debias of [true, false]) {
      const sk = samplesLoss(x, y, { blur, debias, solver: 'sinkhorn', scaling: 0.9, tol: 1e-12, maxIter: 50000 });
      expect(sk.converged).toBe(true);
      const bound = debias ? exact.errorBound : blur ** 2 * h;
      expect(Math.abs(sk.value - exact.value), `debias ${debias}`).toBeLessThanOrEqual(bound);
      if (!debias) expect(sk.value).toBeGreaterThanOrEqual(exact.value); // W <= OT_ε
      // Gradients: the entropic plan tends to the monotone one; here within 1 % of the gradient's scale.
      expect(scaledMaxError(sk.gradX, exact.gradX)).toBeLessThanOrEqual(1e-2);
      expect(scaledMaxError(sk.gradY, exact.gradY)).toBeLessThanOrEqual(1e-2);
    }
    expectClose(exact.gradX, exact1d(x, y).gradX, 0, 0, 'exact-1d gradient');
  });

  it('never routes with geomlossCompatible, in 2-D, or with reach', () => {
    expect(samplesLoss(x, y, { blur: 1e-6, geomlossCompatible: true }).solver).toBe('sinkhorn');
    const x2 = x.map((v) => [v, 0]);
    const y2 = y.map((v) => [v, 0]);
    expect(samplesLoss(x2, y2, { blur: 1e-3 }).solver).toBe('sinkhorn');
    expect(samplesLoss(x, y, { blur: 1e-3, reach: 1 }).solver).toBe('sinkhorn');
  });

  it('scores of order 1e4 at ε = 1e-12 (FairCLIP official): finite, equal to the exact W', () => {
    const big = x.map((v) => 1e4 * v);
    const small = y.map((v) => v / 100);
    const r = samplesLoss(big, small, { blur: 1e-6 });
    expect(r.solver).toBe('exact-1d');
    expect(Number.isFinite(r.value)).toBe(true);
    expect(r.value).toBe(exact1d(big, small).value);
    for (const g of r.gradX) expect(Number.isFinite(g)).toBe(true);
  });
});

describe('cost-evaluation routing of the float64 core', () => {
  it('online above routing.f64DenseMaxEntries, same values', () => {
    const x = [
      [0, 0],
      [1, 0.5],
      [2, 1],
    ];
    const y = [
      [0.5, 0.2],
      [1.5, 1.5],
    ];
    const dense = samplesLoss(x, y, { blur: 0.3, geomlossCompatible: true });
    expect(dense.costMode).toBe('dense');
    const online = samplesLoss(x, y, { blur: 0.3, geomlossCompatible: true, routing: { f64DenseMaxEntries: 4 } });
    expect(online.costMode).toBe('online');
    expectNear(online.value, dense.value, 1e-13, 0, 'value');
    expectClose(online.gradX, dense.gradX, 1e-12, 1e-15, 'gradX');
  });
});

describe('sinkhorn with ε-scaling', () => {
  it.each(
    potCases()
      .filter((c) => c.reg <= 0.05)
      .map((c) => [c.name, c] as const),
  )('reaches the same plan as POT sinkhorn_log at the final ε (%s)', (_n, c) => {
    const r = sinkhorn(c.a, c.b, c.M, c.reg, {
      method: 'log',
      tol: 1e-12,
      maxIter: 20000,
      epsScaling: { scaling: 0.5 },
    });
    expect(r.converged).toBe(true);
    expect(r.marginalError).toBeLessThan(1e-12);
    // POT stopped at its threshold (stopThr): plans agree to it.
    expectClose(r.plan, c.sinkhorn_log.plan.flat(), 0, 10 * c.stopThr + 1e-12, 'plan');
    // Stages are counted in the iterations.
    const plain = sinkhorn(c.a, c.b, c.M, c.reg, { method: 'log', tol: 1e-12, maxIter: 20000 });
    expect(r.iterations).toBeGreaterThan(r.niter + 1);
    expectClose(r.plan, plain.plan, 0, 1e-11, 'plan vs cold start');
  });
});

describe('engine routing (chooseEngine)', () => {
  const base: RouteQuery = {
    backend: 'webgpu',
    async: true,
    maxEntries: 32 * 32,
    totalEntries: 3 * 32 * 32,
    loss: 'sinkhorn',
    oneDimBalanced: false,
  };
  const gpuMin = DEFAULT_ROUTING.gpuMinEntries;

  it('WebGPU, async: CPU below gpuMinEntries, device above; 1-D exact-eligible always on the CPU', () => {
    expect(chooseEngine(base).engine).toBe('cpu-f64');
    expect(chooseEngine({ ...base, totalEntries: gpuMin + 1, maxEntries: gpuMin }).engine).toBe('tensor');
    expect(chooseEngine({ ...base, totalEntries: gpuMin }).engine).toBe('cpu-f64');
    const big1d = { ...base, totalEntries: 3e8, maxEntries: 1e8, oneDimBalanced: true, exactEligible: true };
    expect(chooseEngine(big1d)).toEqual({ engine: 'cpu-f64', reason: expect.stringMatching(/exact sorted-quantile/) });
    // float32 cannot resolve ε: float64 while the problem is small enough for the CPU.
    const unresolved = { ...base, totalEntries: gpuMin + 1, float32Resolved: false };
    expect(chooseEngine(unresolved).reason).toMatch(/float32 cannot resolve/);
    expect(chooseEngine({ ...unresolved, maxEntries: DEFAULT_ROUTING.f64MaxEntries + 1 }).engine).toBe('tensor');
    // Configurable, per call or per process.
    expect(chooseEngine({ ...base, totalEntries: gpuMin + 1 }, { ...DEFAULT_ROUTING, gpuMinEntries: 1e9 }).engine).toBe(
      'cpu-f64',
    );
  });

  it('WebGPU, sync ops: the tensor engine (cpu-f64 refused); kernels need the async path', () => {
    expect(chooseEngine({ ...base, async: false }).engine).toBe('tensor');
    expect(() => chooseEngine({ ...base, async: false, engine: 'cpu-f64' })).toThrow(/cannot do/);
    expect(() => chooseEngine({ ...base, async: false, loss: 'gaussian' })).toThrow(/solveDivergence/);
    expect(chooseEngine({ ...base, loss: 'gaussian' }).engine).toBe('cpu-f64');
    expect(() => chooseEngine({ ...base, engine: 'tensor', loss: 'energy' })).toThrow(/loss 'sinkhorn' only/);
  });

  it('cpu/wasm: float64 up to f64MaxEntries, then the tensor engine', () => {
    for (const backend of ['cpu', 'wasm']) {
      expect(chooseEngine({ ...base, backend, async: false }).engine).toBe('cpu-f64');
      const big = { ...base, backend, async: false, maxEntries: DEFAULT_ROUTING.f64MaxEntries + 1 };
      expect(chooseEngine(big).engine).toBe('tensor');
      expect(chooseEngine({ ...big, oneDimBalanced: true, exactEligible: true }).engine).toBe('cpu-f64');
    }
    expect(() => chooseEngine({ ...base, engine: 'fast' as 'auto' })).toThrow(/engine must be/);
  });
});
