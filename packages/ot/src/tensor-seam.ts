/**
 * The tfjs soft-min seam: the same symmetric loop (dual-loop.ts) on float32 tensors, for B problems at once
 * (x [B,N,D], y [B,M,D], weights [B,N], [B,M]) sharing one ε schedule. Two cost evaluations:
 *  - 'dense': materialised cost tensors [B,N,M] and tf.logSumExp (small problems; any backend);
 *  - 'online': @fairclip/compute's fused soft-min (never materialises N×M; WGSL on WebGPU).
 *
 * float32 limits (log domain, so nothing overflows): the soft-min evaluates h_j − C_ij/ε with |h_j| ≈ |pot_j|/ε, so
 * potentials and values carry an absolute error of a few float32 ulps of max(C, |pot|) ≈ 1e-7 · diameter^p / p,
 * whatever ε is. Values (and divergences, which are differences of such terms) below ~1e-6 · diameter^p / p are not
 * resolved in float32, and once ε < ~1e-6 · diameter^p the entropic smoothing itself is below float32 resolution
 * (the soft-min becomes a hard min). Use the float64 CPU engine there.
 */
import { softminBatched } from '@fairclip/compute';
import * as tf from '@tensorflow/tfjs-core';
import type { PairKind, SoftminSeam } from './dual-loop.ts';

export type TensorCostMode = 'dense' | 'online';

interface TensorPair {
  rows: tf.Tensor3D;
  cols: tf.Tensor3D;
  colLogW: tf.Tensor2D;
  rowW: tf.Tensor2D;
  cost?: tf.Tensor3D;
}

/** Pairwise cost |x − y|^p / p as a [B, N, M] tensor (differences, not the |x|² − 2x·y + |y|² expansion). */
export function pairwiseCost(x: tf.Tensor3D, y: tf.Tensor3D, p: number): tf.Tensor3D {
  return tf.tidy(() => {
    const diff = tf.sub(tf.expandDims(x, 2), tf.expandDims(y, 1)); // [B,N,M,D]
    const r2 = tf.sum(tf.square(diff), 3) as tf.Tensor3D;
    if (p === 2) return tf.mul(r2, 0.5) as tf.Tensor3D;
    const r = tf.sqrt(r2);
    if (p === 1) return r as tf.Tensor3D;
    return tf.div(tf.pow(r, p), p) as tf.Tensor3D;
  });
}

/** log w with −100000 where w <= 0 (geomloss). */
export function tensorLogWeights(w: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(
    () => tf.where(tf.greater(w, 0), tf.log(tf.maximum(w, 1e-38)), tf.fill(w.shape, -100000)) as tf.Tensor2D,
  );
}

export class TensorSeam implements SoftminSeam<tf.Tensor2D> {
  readonly mode: TensorCostMode;
  private readonly pairs: Record<PairKind, TensorPair>;
  private readonly p: number;
  private readonly owned: tf.Tensor[] = [];
  /**
   * Scalars as tensors, one per distinct value for the seam's lifetime: an op with a JS number creates and uploads a
   * new scalar tensor each time, which dominates small problems on WebGPU (~0.5 ms an upload on Dawn vs ~0.1 ms a
   * dispatch); the loop needs only 1/ε, −ε·λ and ½ per ε of the schedule.
   */
  private readonly scalars = new Map<number, tf.Scalar>();

  constructor(
    x: tf.Tensor3D,
    a: tf.Tensor2D,
    y: tf.Tensor3D,
    b: tf.Tensor2D,
    p: number,
    debias: boolean,
    mode: TensorCostMode,
  ) {
    this.p = p;
    this.mode = mode;
    const la = tensorLogWeights(a);
    const lb = tensorLogWeights(b);
    this.owned.push(la, lb);
    this.pairs = {
      xx: { rows: x, cols: x, colLogW: la, rowW: a },
      yy: { rows: y, cols: y, colLogW: lb, rowW: b },
      xy: { rows: x, cols: y, colLogW: lb, rowW: a },
      yx: { rows: y, cols: x, colLogW: la, rowW: b },
    };
    if (mode === 'dense') {
      const cxy = pairwiseCost(x, y, p);
      const cyx = tf.transpose(cxy, [0, 2, 1]) as tf.Tensor3D;
      this.pairs.xy.cost = cxy;
      this.pairs.yx.cost = cyx;
      this.owned.push(cxy, cyx);
      if (debias) {
        const cxx = pairwiseCost(x, x, p);
        const cyy = pairwiseCost(y, y, p);
        this.pairs.xx.cost = cxx;
        this.pairs.yy.cost = cyy;
        this.owned.push(cxx, cyy);
      }
    }
  }

  private s(v: number): tf.Scalar {
    let t = this.scalars.get(v);
    if (t === undefined) {
      t = tf.keep(tf.scalar(v));
      this.scalars.set(v, t);
    }
    return t;
  }

  private h(kind: PairKind, eps: number, pot?: tf.Tensor2D): tf.Tensor2D {
    const lw = this.pairs[kind].colLogW;
    return pot === undefined ? tf.clone(lw) : (tf.add(lw, tf.mul(pot, this.s(1 / eps))) as tf.Tensor2D);
  }

  /** logsumexp_j (h_j − C_ij/ε) as [B, rows] (dense), or −softmin/ε via the fused kernel (online). */
  private lse(kind: PairKind, eps: number, h: tf.Tensor2D): tf.Tensor2D {
    const pr = this.pairs[kind];
    if (pr.cost !== undefined) {
      return tf.logSumExp(tf.sub(tf.expandDims(h, 1), tf.mul(pr.cost, this.s(1 / eps))), 2) as tf.Tensor2D;
    }
    return tf.mul(softminBatched(pr.rows, pr.cols, h, eps, this.p), this.s(-1 / eps)) as tf.Tensor2D;
  }

  softmin(kind: PairKind, eps: number, damping: number, pot?: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.mul(this.lse(kind, eps, this.h(kind, eps, pot)), this.s(-eps * damping)) as tf.Tensor2D);
  }

  average(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.mul(tf.add(a, b), this.s(0.5)) as tf.Tensor2D);
  }

  release(v: tf.Tensor2D): void {
    v.dispose();
  }

  /**
   * The L1 marginal residual Σ_i r_i |exp((old_i − updated_i)/ε) − 1| per problem ([B]), as a tensor (no read-back):
   * the float64 core's `residual`, for the potentials the loop ended with.
   */
  residualTensor(kind: PairKind, old: tf.Tensor2D, updated: tf.Tensor2D, eps: number): tf.Tensor1D {
    const w = this.pairs[kind].rowW;
    return tf.tidy(
      () => tf.sum(tf.mul(w, tf.abs(tf.expm1(tf.mul(tf.sub(old, updated), this.s(1 / eps))))), 1) as tf.Tensor1D,
    );
  }

  /**
   * Final extrapolation step with its envelope gradient w.r.t. the row points (potentials detached):
   * value = λ·softmin, grad_i = λ · Σ_j π_ij ∇ₓC(row_i, col_j), π_i· = softmax_j(h_j − C_ij/ε).
   * Online mode supports p = 2 only: the barycentre Σ_j π_ij y_j is obtained from extra soft-mins with log-shifted
   * coordinates.
   */
  softminWithGrad(
    kind: PairKind,
    eps: number,
    damping: number,
    pot?: tf.Tensor2D,
  ): { value: tf.Tensor2D; grad: tf.Tensor3D } {
    const pr = this.pairs[kind];
    return tf.tidy(() => {
      const h = this.h(kind, eps, pot);
      const lse = this.lse(kind, eps, h);
      const value = tf.mul(lse, this.s(-eps * damping)) as tf.Tensor2D;
      let grad: tf.Tensor3D;
      if (pr.cost !== undefined) {
        // π_ij ∝ exp(l_ij − max_j l_ij), normalised by its own row sum: a convex combination even when float32
        // cannot resolve l (tiny ε), so the gradient stays within the columns' hull instead of overflowing.
        const logits = tf.sub(tf.expandDims(h, 1), tf.mul(pr.cost, this.s(1 / eps)));
        const wRaw = tf.exp(tf.sub(logits, tf.max(logits, 2, true))) as tf.Tensor3D;
        const norm = tf.sum(wRaw, 2, true);
        let w = tf.div(wRaw, norm) as tf.Tensor3D;
        if (this.p !== 2) {
          const diff = tf.sub(tf.expandDims(pr.rows, 2), tf.expandDims(pr.cols, 1));
          const r = tf.sqrt(tf.sum(tf.square(diff), 3));
          const s = this.p === 1 ? tf.div(1, r) : tf.pow(r, this.p - 2);
          w = tf.mul(w, tf.where(tf.greater(r, 0), s, tf.zerosLike(s))) as tf.Tensor3D;
        }
        const rowSum = tf.sum(w, 2, true);
        grad = tf.sub(tf.mul(pr.rows, rowSum), tf.matMul(w, pr.cols)) as tf.Tensor3D;
      } else {
        // Σ_j π_ij y_jk = exp(lse'_ik − lse_i) − shift_k with y' = y + shift >= 1 and h'_j = h_j + log y'_jk, clamped
        // to [min_j y'_jk, max_j y'_jk] (the barycentre lies there; float32 may not resolve lse' − lse at tiny ε).
        const d = pr.rows.shape[2];
        const minC = tf.min(pr.cols, [1], true); // [B,1,D]
        const maxC = tf.max(pr.cols, [1], true);
        const shift = tf.sub(1, minC);
        const yPos = tf.add(pr.cols, shift); // >= 1
        const cols: tf.Tensor[] = [];
        for (let k = 0; k < d; k++) {
          const logY = tf.log(tf.squeeze(tf.slice(yPos, [0, 0, k], [-1, -1, 1]), [2]));
          const lk = tf.mul(softminBatched(pr.rows, pr.cols, tf.add(h, logY) as tf.Tensor2D, eps, 2), this.s(-1 / eps));
          cols.push(tf.exp(tf.sub(lk, lse)));
        }
        const bary = tf.minimum(tf.maximum(tf.sub(tf.stack(cols, 2), shift), minC), maxC);
        grad = tf.sub(pr.rows, bary) as tf.Tensor3D;
      }
      return { value, grad: tf.mul(grad, damping) as tf.Tensor3D };
    });
  }

  dispose(): void {
    for (const t of this.owned) t.dispose();
    this.owned.length = 0;
    for (const t of this.scalars.values()) t.dispose();
    this.scalars.clear();
  }
}
