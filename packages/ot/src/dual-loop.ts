/**
 * geomloss's symmetric, ε-annealed Sinkhorn loop, written ONCE against a soft-min seam. The float64 CPU core
 * (softmin-f64.ts) and the tfjs tensor path (tensor-seam.ts) both run this function.
 *
 * Notation (four dual potentials, as in geomloss 0.2.6's `sinkhorn_loop`):
 *   fBA on x and gAB on y  — OT(α, β)  (geomloss b_x, a_y)
 *   fAA on x               — OT(α, α)  (geomloss a_x), only when debiasing
 *   gBB on y               — OT(β, β)  (geomloss b_y), only when debiasing
 * and the soft-min over the cost C_k of a pair kind k ∈ {xx, yy, xy, yx} (rows first):
 *   softmin_k(ε, pot)_i = −ε · log Σ_j w_j · exp((pot_j − C_k(i, j)) / ε)
 * where w is the measure on the columns of C_k (α for xx and yx, β for yy and xy). With unbalanced transport
 * (reach ρ) every update is damped by λ = 1 / (1 + ε/ρ).
 */

export type PairKind = 'xx' | 'yy' | 'xy' | 'yx';

/** What the loop needs from a backend. V is the potential type (Float64Array, tf.Tensor, ...). */
export interface SoftminSeam<V> {
  /**
   * λ · softmin_k(ε, pot), computed as λ·(−ε)·logsumexp_j(log w_j + pot_j/ε − C_k(i, j)/ε); without `pot`, the
   * potential is taken as 0 (geomloss's initialisation).
   */
  softmin(kind: PairKind, eps: number, damping: number, pot?: V): V;
  /** ½(a + b). */
  average(a: V, b: V): V;
  /** (1 − w)·a + w·b (over-relaxation in the convergence phase; without it that phase uses no momentum). */
  mix?(a: V, b: V, w: number): V;
  /**
   * Fixed-point residual of an update on the rows of C_k: Σ_i r_i · |exp((old_i − updated_i)/ε) − 1| with r the
   * row measure. For balanced problems this is the L1 marginal violation of the plan built from (old, column
   * potential). Needed only for the convergence loop; seams that cannot read values synchronously omit it.
   */
  residual?(kind: PairKind, old: V, updated: V, eps: number): number;
  /** Frees a potential that is no longer used (tensors); no-op for arrays. */
  release?(v: V): void;
}

export interface DualPotentials<V> {
  fBA: V;
  gAB: V;
  fAA?: V;
  gBB?: V;
}

export interface LoopOptions {
  debias: boolean;
  /** ρ = reach^p for unbalanced transport; undefined for balanced. */
  rho?: number | undefined;
  /**
   * After the schedule, keep iterating at the last ε until the residual is <= tol (needs seam.residual), at most
   * maxIter extra updates (Gauss–Seidel with adaptive over-relaxation, see below). Omit for geomloss's exact behaviour
   * (no extra iterations).
   */
  converge?: { tol: number; maxIter: number } | undefined;
}

export interface LoopResult<V> {
  /** Potentials after the loop (before the final extrapolation step). */
  potentials: DualPotentials<V>;
  /** Symmetric updates run: the schedule length plus extra convergence iterations. */
  iterations: number;
  /** Extra iterations run at the last ε (0 without `converge`). */
  extraIterations: number;
  /** Last measured residual (NaN when never measured). */
  residual: number;
  /** true when `converge` was given and the residual reached tol; undefined without `converge`. */
  converged: boolean | undefined;
}

/** geomloss's damping factor λ = 1/(1 + ε/ρ) (1 when balanced). */
export function damping(eps: number, rho: number | undefined): number {
  return rho === undefined ? 1 : 1 / (1 + eps / rho);
}

/** Runs the ε-annealed symmetric loop (geomloss `sinkhorn_loop` without its multiscale jumps). */
export function symmetricSinkhornLoop<V>(
  seam: SoftminSeam<V>,
  epsList: readonly number[],
  opts: LoopOptions,
): LoopResult<V> {
  const { debias, rho } = opts;
  const release = (v: V | undefined) => {
    if (v !== undefined) seam.release?.(v);
  };
  let eps = epsList[0]!;
  const lam = damping(eps, rho);
  let fAA = debias ? seam.softmin('xx', eps, lam) : undefined;
  let gBB = debias ? seam.softmin('yy', eps, lam) : undefined;
  let gAB = seam.softmin('yx', eps, lam);
  let fBA = seam.softmin('xy', eps, lam);

  const step = (e: number): void => {
    const l = damping(e, rho);
    const ftAA = fAA !== undefined ? seam.softmin('xx', e, l, fAA) : undefined;
    const gtBB = gBB !== undefined ? seam.softmin('yy', e, l, gBB) : undefined;
    const gtAB = seam.softmin('yx', e, l, fBA); // OT(α,β) wrt. g, from f
    const ftBA = seam.softmin('xy', e, l, gAB); // OT(α,β) wrt. f, from g
    if (fAA !== undefined && ftAA !== undefined) {
      const next = seam.average(fAA, ftAA);
      release(fAA);
      release(ftAA);
      fAA = next;
    }
    if (gBB !== undefined && gtBB !== undefined) {
      const next = seam.average(gBB, gtBB);
      release(gBB);
      release(gtBB);
      gBB = next;
    }
    const nextG = seam.average(gAB, gtAB);
    const nextF = seam.average(fBA, ftBA);
    release(gAB);
    release(gtAB);
    release(fBA);
    release(ftBA);
    gAB = nextG;
    fBA = nextF;
  };

  for (const e of epsList) {
    eps = e;
    step(e);
  }
  let extra = 0;
  let residual = Number.NaN;
  let converged: boolean | undefined;
  if (opts.converge && seam.residual) {
    const { tol, maxIter } = opts.converge;
    const measure = seam.residual.bind(seam);
    const mix = (old: V, upd: V, w: number): V => (seam.mix ? seam.mix(old, upd, w) : seam.average(old, upd));
    converged = false;
    // Convergence phase at the last ε: Gauss–Seidel updates of the cross potentials (twice the rate of averaged
    // symmetric updates) with adaptive over-relaxation (Lehmann et al.; OTT's momentum): after WARMUP plain iterations
    // the rate θ of the residual gives ω = 2/(1 + √(1 − θ)), kept while it pays (see the check below).
    // The self-terms keep geomloss's averaged symmetric update (symmetric problems converge fast).
    const WARMUP = 20;
    let omega = 1;
    let relaxAllowed = seam.mix !== undefined;
    let checkpoint = Number.POSITIVE_INFINITY;
    let nextCheck = 0;
    let firstWindow = true;
    let resAtEnable = Number.POSITIVE_INFINITY;
    let resAtWarmup = Number.NaN;
    const l = damping(eps, rho);
    while (extra < maxIter) {
      const ftBA = seam.softmin('xy', eps, l, gAB);
      let res = measure('xy', fBA, ftBA, eps);
      const nextF = omega === 1 ? ftBA : mix(fBA, ftBA, omega);
      if (nextF !== ftBA) release(ftBA);
      release(fBA);
      fBA = nextF;
      const gtAB = seam.softmin('yx', eps, l, fBA);
      res = Math.max(res, measure('yx', gAB, gtAB, eps));
      const nextG = omega === 1 ? gtAB : mix(gAB, gtAB, omega);
      if (nextG !== gtAB) release(gtAB);
      release(gAB);
      gAB = nextG;
      if (fAA !== undefined) {
        const ft = seam.softmin('xx', eps, l, fAA);
        res = Math.max(res, measure('xx', fAA, ft, eps));
        const next = seam.average(fAA, ft);
        release(fAA);
        release(ft);
        fAA = next;
      }
      if (gBB !== undefined) {
        const gt = seam.softmin('yy', eps, l, gBB);
        res = Math.max(res, measure('yy', gBB, gt, eps));
        const next = seam.average(gBB, gt);
        release(gBB);
        release(gt);
        gBB = next;
      }
      extra++;
      residual = res;
      if (res <= tol) {
        converged = true;
        break;
      }
      if (omega !== 1 && (extra >= nextCheck || !(res <= 1e4 * resAtEnable))) {
        // Near ω_opt the iteration has a Jordan-like transient k·(ω − 1)^k: the residual grows for about 1/(2 − ω)
        // iterations before it decays faster than without relaxation. So ω is judged on windows of 10/(2 − ω)
        // iterations: the first one is free, each later one must lower the residual; otherwise (or on a 10⁴× blow-up)
        // back to ω = 1 for good.
        if (firstWindow) firstWindow = false;
        else if (!(res < checkpoint) || !(res <= 1e4 * resAtEnable)) {
          omega = 1;
          relaxAllowed = false;
        }
        checkpoint = res;
        nextCheck = extra + Math.ceil(10 / (2 - omega));
      }
      if (extra === WARMUP - 10) resAtWarmup = res;
      if (extra === WARMUP && relaxAllowed && resAtWarmup > 0) {
        const theta = (res / resAtWarmup) ** (1 / 10);
        if (theta < 1) omega = Math.min(1.99, 2 / (1 + Math.sqrt(1 - theta)));
        resAtEnable = res;
        nextCheck = extra + Math.ceil(10 / (2 - omega));
      }
    }
  }
  const potentials: DualPotentials<V> = { fBA, gAB };
  if (fAA !== undefined) potentials.fAA = fAA;
  if (gBB !== undefined) potentials.gBB = gBB;
  return { potentials, iterations: epsList.length + extra, extraIterations: extra, residual, converged };
}
