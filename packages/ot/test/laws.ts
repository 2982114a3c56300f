/**
 * OT laws as reusable assertions (ot-and-metrics.md §8). Each law takes a solver under test (the float64 CPU core,
 * or the tfjs engines on cpu / wasm / webgpu) and one generated case, and asserts through vitest's expect. Property
 * tests (fast-check) feed them; the same law runs on every backend with that backend's tolerances.
 */
import { expect } from 'vitest';
import { exact1d } from '../src/index.ts';
import { entropy } from '../src/inputs.ts';
import type { MatrixCase, PairCase } from './arbitraries.ts';

// ---------------------------------------------------------------------------------------------------------------
// Matrix solvers

export interface PlanSolution {
  plan: Float64Array;
  /** KL-regularised value ⟨P, C⟩ + ε·KL(P | a⊗b). */
  value: number;
  transportCost: number;
  converged: boolean;
}

export interface MatrixSolverUnderTest {
  name: string;
  solve(a: Float64Array, b: Float64Array, C: Float64Array, n: number, m: number, eps: number): Promise<PlanSolution>;
  /** Absolute tolerance on plan entries and marginals (units of mass). */
  planTol: number;
  /** Relative tolerance on values (plus planTol · max|C| absolute). */
  valueRtol: number;
}

function transpose(C: Float64Array, n: number, m: number): Float64Array {
  const t = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) t[j * n + i] = C[i * m + j]!;
  return t;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!));
  return e;
}

function valueTol(s: MatrixSolverUnderTest, value: number, spread: number): number {
  return s.valueRtol * Math.abs(value) + s.planTol * Math.max(spread, 1);
}

/** Plan entries finite and >= 0; row and column sums match a and b within planTol. */
export function assertPlanMarginals(s: MatrixSolverUnderTest, mc: MatrixCase, sol: PlanSolution): void {
  const { n, m, a, b } = mc;
  const rows = new Float64Array(n);
  const cols = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const p = sol.plan[i * m + j]!;
      expect(Number.isFinite(p), `${s.name}: plan[${i},${j}] finite`).toBe(true);
      expect(p, `${s.name}: plan[${i},${j}] >= 0`).toBeGreaterThanOrEqual(0);
      rows[i] = rows[i]! + p;
      cols[j] = cols[j]! + p;
    }
  }
  expect(maxAbsDiff(rows, a), `${s.name}: row marginals`).toBeLessThanOrEqual(s.planTol);
  expect(maxAbsDiff(cols, b), `${s.name}: column marginals`).toBeLessThanOrEqual(s.planTol);
}

/** OT(a, b, C) = OT(b, a, Cᵀ) with the transposed plan. */
export async function assertTransposeSymmetry(s: MatrixSolverUnderTest, mc: MatrixCase, eps: number): Promise<void> {
  const p1 = await s.solve(mc.a, mc.b, mc.C, mc.n, mc.m, eps);
  const p2 = await s.solve(mc.b, mc.a, transpose(mc.C, mc.n, mc.m), mc.m, mc.n, eps);
  expect(maxAbsDiff(transpose(p2.plan, mc.m, mc.n), p1.plan), `${s.name}: transposed plan`).toBeLessThanOrEqual(
    2 * s.planTol,
  );
  expect(Math.abs(p1.value - p2.value), `${s.name}: value`).toBeLessThanOrEqual(2 * valueTol(s, p1.value, mc.spread));
}

/** OT_{λC, λε} = λ·OT_{C, ε} with the same plan. */
export async function assertCostEpsScaling(
  s: MatrixSolverUnderTest,
  mc: MatrixCase,
  eps: number,
  lambda: number,
): Promise<void> {
  const p1 = await s.solve(mc.a, mc.b, mc.C, mc.n, mc.m, eps);
  const p2 = await s.solve(
    mc.a,
    mc.b,
    mc.C.map((c) => lambda * c),
    mc.n,
    mc.m,
    lambda * eps,
  );
  expect(maxAbsDiff(p2.plan, p1.plan), `${s.name}: plan under scaling`).toBeLessThanOrEqual(2 * s.planTol);
  expect(Math.abs(p2.value - lambda * p1.value), `${s.name}: value scales by λ`).toBeLessThanOrEqual(
    2 * lambda * valueTol(s, p1.value, mc.spread),
  );
}

/** Permuting the support points (rows by pr, columns by pc) permutes the plan. */
export async function assertPermutationEquivariance(
  s: MatrixSolverUnderTest,
  mc: MatrixCase,
  eps: number,
  pr: number[],
  pc: number[],
): Promise<void> {
  const { n, m } = mc;
  const a2 = Float64Array.from(pr, (i) => mc.a[i]!);
  const b2 = Float64Array.from(pc, (j) => mc.b[j]!);
  const C2 = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) C2[i * m + j] = mc.C[pr[i]! * m + pc[j]!]!;
  const p1 = await s.solve(mc.a, mc.b, mc.C, n, m, eps);
  const p2 = await s.solve(a2, b2, C2, n, m, eps);
  const permuted = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) permuted[i * m + j] = p1.plan[pr[i]! * m + pc[j]!]!;
  expect(maxAbsDiff(p2.plan, permuted), `${s.name}: permuted plan`).toBeLessThanOrEqual(2 * s.planTol);
  expect(Math.abs(p2.value - p1.value), `${s.name}: value`).toBeLessThanOrEqual(2 * valueTol(s, p1.value, mc.spread));
}

/** Known answer: the planted permutation σ is the plan (σ/n) at ε = 0.1 with margin >= 5. */
export async function assertPlantedPermutation(
  s: MatrixSolverUnderTest,
  perm: number[],
  C: Float64Array,
  n: number,
  eps = 0.1,
): Promise<void> {
  const u = new Float64Array(n).fill(1 / n);
  const sol = await s.solve(u, u, C, n, n, eps);
  const expected = new Float64Array(n * n);
  for (let i = 0; i < n; i++) expected[i * n + perm[i]!] = 1 / n;
  expect(maxAbsDiff(sol.plan, expected), `${s.name}: planted permutation`).toBeLessThanOrEqual(
    Math.max(s.planTol, 1e-9),
  );
}

/** Two solvers (e.g. log and standard domains, or CPU and WebGPU) give the same plan and value. */
export async function assertSolversAgree(
  s1: MatrixSolverUnderTest,
  s2: MatrixSolverUnderTest,
  mc: MatrixCase,
  eps: number,
): Promise<void> {
  const p1 = await s1.solve(mc.a, mc.b, mc.C, mc.n, mc.m, eps);
  const p2 = await s2.solve(mc.a, mc.b, mc.C, mc.n, mc.m, eps);
  const tol = Math.max(s1.planTol, s2.planTol);
  expect(maxAbsDiff(p1.plan, p2.plan), `${s1.name} vs ${s2.name}: plans`).toBeLessThanOrEqual(2 * tol);
  const vt = Math.max(valueTol(s1, p1.value, mc.spread), valueTol(s2, p2.value, mc.spread));
  expect(Math.abs(p1.value - p2.value), `${s1.name} vs ${s2.name}: values`).toBeLessThanOrEqual(2 * vt);
}

// ---------------------------------------------------------------------------------------------------------------
// Divergences between point clouds (cost ½|x − y|², ε = blur²)

export interface DivergenceRun {
  value: number;
  /** The run's own convergence report, where the solver gives one (samplesLoss). */
  converged?: boolean;
  gradX: Float64Array;
  gradY: Float64Array;
}

export interface DivergenceSolverUnderTest {
  name: string;
  run(pc: PairCase, opts: { blur: number; debias?: boolean }): Promise<DivergenceRun>;
  /** Relative tolerance on values and gradients. */
  rtol: number;
  /** Absolute tolerance in units of the cost scale (diameter²/2). */
  atolScaled: number;
  /** Whether the solver iterates to convergence (needed by laws that hold only at the fixed point). */
  converged: boolean;
}

export function costScale(pc: PairCase): number {
  let s = 0;
  const d = pc.x.d;
  for (let k = 0; k < d; k++) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const c of [pc.x, pc.y]) {
      for (let i = 0; i < c.n; i++) {
        lo = Math.min(lo, c.data[i * d + k]!);
        hi = Math.max(hi, c.data[i * d + k]!);
      }
    }
    s += (hi - lo) ** 2;
  }
  return Math.max(s / 2, 1e-3);
}

/** blur from a relative strength: rel × the bounding-box diameter, so ε = rel²·diam² and max C/ε ≈ 1/(2 rel²). */
export function blurOf(pc: PairCase, rel: number): number {
  return rel * Math.sqrt(2 * costScale(pc));
}

function tolOf(s: DivergenceSolverUnderTest, pc: PairCase, value: number): number {
  return s.rtol * Math.abs(value) + s.atolScaled * costScale(pc);
}

function swap(pc: PairCase): PairCase {
  return { x: pc.y, y: pc.x, a: pc.b, b: pc.a };
}

/** The debiased divergence is >= 0 (up to the solver's tolerance). */
export async function assertNonNegative(s: DivergenceSolverUnderTest, pc: PairCase, blur: number): Promise<void> {
  const r = await s.run(pc, { blur });
  expect(Number.isFinite(r.value), `${s.name}: finite`).toBe(true);
  expect(r.value, `${s.name}: S >= 0`).toBeGreaterThanOrEqual(-tolOf(s, pc, 0));
}

/** S(α, β) = S(β, α), and the gradients swap. */
export async function assertSymmetric(
  s: DivergenceSolverUnderTest,
  pc: PairCase,
  blur: number,
  debias = true,
): Promise<void> {
  const r1 = await s.run(pc, { blur, debias });
  const r2 = await s.run(swap(pc), { blur, debias });
  expect(Math.abs(r1.value - r2.value), `${s.name}: symmetric value`).toBeLessThanOrEqual(2 * tolOf(s, pc, r1.value));
  const gscale = Math.max(1e-12, ...Array.from(r1.gradX, Math.abs), ...Array.from(r1.gradY, Math.abs));
  const gtol = s.rtol * gscale + s.atolScaled * Math.sqrt(costScale(pc));
  expect(maxAbsDiff(r1.gradX, r2.gradY), `${s.name}: gradients swap`).toBeLessThanOrEqual(2 * gtol);
}

/** S(α, α) = 0 (same code path for both sides). */
export async function assertZeroOnIdentical(s: DivergenceSolverUnderTest, pc: PairCase, blur: number): Promise<void> {
  const same: PairCase = { x: pc.x, y: pc.x, a: pc.a, b: pc.a };
  const r = await s.run(same, { blur });
  expect(Math.abs(r.value), `${s.name}: S(α, α) = 0`).toBeLessThanOrEqual(tolOf(s, same, 0));
}

/** S(α, β + t) = S(α, β) − ⟨m_α − m_β, t⟩ + ½|t|² (at the fixed point, for every ε). */
export async function assertTranslationFormula(
  s: DivergenceSolverUnderTest,
  pc: PairCase,
  t: number[],
  blur: number,
): Promise<void> {
  const d = pc.x.d;
  const shifted = Float64Array.from(pc.y.data, (v, k) => v + t[k % d]!);
  const pc2: PairCase = { ...pc, y: { data: shifted, n: pc.y.n, d } };
  const r1 = await s.run(pc, { blur });
  const r2 = await s.run(pc2, { blur });
  let inner = 0;
  let tt = 0;
  for (let k = 0; k < d; k++) {
    let ma = 0;
    let mb = 0;
    for (let i = 0; i < pc.x.n; i++) ma += pc.a[i]! * pc.x.data[i * d + k]!;
    for (let j = 0; j < pc.y.n; j++) mb += pc.b[j]! * pc.y.data[j * d + k]!;
    inner += (ma - mb) * t[k]!;
    tt += t[k]! * t[k]!;
  }
  const expected = r1.value - inner + tt / 2;
  expect(Math.abs(r2.value - expected), `${s.name}: translation formula`).toBeLessThanOrEqual(
    2 * (tolOf(s, pc2, expected) + tolOf(s, pc, r1.value)),
  );
}

/** Translating both clouds by the same t leaves S unchanged (the cost depends on differences only). */
export async function assertTranslationInvariance(
  s: DivergenceSolverUnderTest,
  pc: PairCase,
  t: number[],
  blur: number,
): Promise<void> {
  const d = pc.x.d;
  const move = (c: PairCase['x']) => ({ ...c, data: Float64Array.from(c.data, (v, k) => v + t[k % d]!) });
  const r1 = await s.run(pc, { blur });
  const r2 = await s.run({ ...pc, x: move(pc.x), y: move(pc.y) }, { blur });
  // Translated coordinates round differently in float32: allow the rounding of |t| on top of the solver tolerance.
  let tt = 0;
  for (const v of t) tt = Math.max(tt, Math.abs(v));
  const extra = s.atolScaled * tt * Math.sqrt(costScale(pc));
  expect(Math.abs(r2.value - r1.value), `${s.name}: S(α + t, β + t) = S(α, β)`).toBeLessThanOrEqual(
    2 * tolOf(s, pc, r1.value) + extra,
  );
  const gscale = Math.max(1e-12, ...Array.from(r1.gradX, Math.abs), ...Array.from(r1.gradY, Math.abs));
  expect(maxAbsDiff(r2.gradX, r1.gradX), `${s.name}: gradients unchanged`).toBeLessThanOrEqual(
    2 * (s.rtol * gscale + s.atolScaled * Math.sqrt(costScale(pc))) + extra,
  );
}

/** Known answer: one Dirac to one Dirac gives S = OT_ε = C(x, y) = ½|x − y|² at any blur and iteration count. */
export async function assertDiracToDirac(
  s: DivergenceSolverUnderTest,
  pc: PairCase,
  blur: number,
  debias: boolean,
): Promise<void> {
  expect(pc.x.n).toBe(1);
  expect(pc.y.n).toBe(1);
  let r2 = 0;
  for (let k = 0; k < pc.x.d; k++) r2 += (pc.x.data[k]! - pc.y.data[k]!) ** 2;
  const r = await s.run(pc, { blur, debias });
  expect(Math.abs(r.value - r2 / 2), `${s.name}: Dirac to Dirac`).toBeLessThanOrEqual(tolOf(s, pc, r2 / 2));
  // ∇ₓ C(x, y) = x − y.
  for (let k = 0; k < pc.x.d; k++) {
    const want = pc.x.data[k]! - pc.y.data[k]!;
    expect(Math.abs(r.gradX[k]! - want), `${s.name}: Dirac gradient`).toBeLessThanOrEqual(
      s.rtol * Math.abs(want) + s.atolScaled * Math.sqrt(costScale(pc)),
    );
  }
}

/** 1-D: |S_ε − W| <= ε(H(α) + H(β))/2 (bound §8.3.22) plus the solver's tolerance, W exact (sorted quantiles). */
export async function assertNearExact1d(s: DivergenceSolverUnderTest, pc: PairCase, blur: number): Promise<void> {
  expect(pc.x.d).toBe(1);
  const w = exact1d(pc.x.data, pc.y.data, pc.a, pc.b).value;
  const r = await s.run(pc, { blur });
  const eps = blur * blur;
  // The bound holds for the converged S_ε only (geomloss's fixed schedule can stop beyond it on degenerate clouds).
  expect(s.converged, `${s.name}: the limit law needs a solver that iterates to convergence`).toBe(true);
  if (r.converged !== undefined) expect(r.converged, `${s.name}: the run converged`).toBe(true);
  const bound = (eps * (entropy(pc.a) + entropy(pc.b))) / 2;
  expect(Math.abs(r.value - w), `${s.name}: S_ε vs exact W`).toBeLessThanOrEqual(bound + tolOf(s, pc, w));
}

/** ⟨∇S, δ⟩ equals the central finite difference of S along a random direction δ of the points. */
export async function assertGradientFiniteDifference(
  s: DivergenceSolverUnderTest,
  pc: PairCase,
  dir: { x: Float64Array; y: Float64Array },
  blur: number,
  h: number,
): Promise<void> {
  const r = await s.run(pc, { blur });
  const move = (sign: number): PairCase => ({
    ...pc,
    x: { ...pc.x, data: Float64Array.from(pc.x.data, (v, k) => v + sign * h * dir.x[k]!) },
    y: { ...pc.y, data: Float64Array.from(pc.y.data, (v, k) => v + sign * h * dir.y[k]!) },
  });
  const fp = (await s.run(move(1), { blur })).value;
  const fm = (await s.run(move(-1), { blur })).value;
  const fd = (fp - fm) / (2 * h);
  let an = 0;
  let norm = 0;
  for (let k = 0; k < dir.x.length; k++) {
    an += r.gradX[k]! * dir.x[k]!;
    norm += Math.abs(r.gradX[k]!);
  }
  for (let k = 0; k < dir.y.length; k++) {
    an += r.gradY[k]! * dir.y[k]!;
    norm += Math.abs(r.gradY[k]!);
  }
  expect(Math.abs(an - fd), `${s.name}: ⟨∇S, δ⟩ = ${an} vs FD ${fd}`).toBeLessThanOrEqual(
    s.rtol * Math.max(norm, Math.abs(fd)) + (s.atolScaled * costScale(pc)) / h + 1e-7 * costScale(pc),
  );
}

/** Two divergence solvers (e.g. CPU float64 vs WebGPU float32) agree on values and gradients. */
export async function assertDivergenceSolversAgree(
  s1: DivergenceSolverUnderTest,
  s2: DivergenceSolverUnderTest,
  pc: PairCase,
  blur: number,
): Promise<void> {
  const r1 = await s1.run(pc, { blur });
  const r2 = await s2.run(pc, { blur });
  const tol = Math.max(tolOf(s1, pc, r1.value), tolOf(s2, pc, r1.value));
  expect(Math.abs(r1.value - r2.value), `${s1.name} vs ${s2.name}: value`).toBeLessThanOrEqual(2 * tol);
  const gscale = Math.max(1e-12, ...Array.from(r1.gradX, Math.abs), ...Array.from(r1.gradY, Math.abs));
  const rt = Math.max(s1.rtol, s2.rtol);
  const at = Math.max(s1.atolScaled, s2.atolScaled) * Math.sqrt(costScale(pc));
  expect(maxAbsDiff(r1.gradX, r2.gradX), `${s1.name} vs ${s2.name}: grad x`).toBeLessThanOrEqual(
    2 * (rt * gscale + at),
  );
  expect(maxAbsDiff(r1.gradY, r2.gradY), `${s1.name} vs ${s2.name}: grad y`).toBeLessThanOrEqual(
    2 * (rt * gscale + at),
  );
}
