/**
 * Sinkhorn divergence of B problems on tfjs tensors (float32 on any backend): geomloss's loop through the tensor
 * seam, then the same value/gradient assembly as the float64 core (samples-loss.ts), in tf ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import { damping, symmetricSinkhornLoop } from './dual-loop.ts';
import { type TensorCostMode, TensorSeam } from './tensor-seam.ts';

export interface TensorDivergenceParams {
  p: number;
  /** The final ε (blur^p). */
  eps: number;
  epsList: readonly number[];
  rho?: number | undefined;
  debias: boolean;
  mode: TensorCostMode;
}

export interface TensorDivergenceResult {
  value: tf.Tensor1D;
  gradX: tf.Tensor3D;
  gradY: tf.Tensor3D;
  gradA: tf.Tensor2D;
  gradB: tf.Tensor2D;
  /** geomloss potentials (debiased: f_ba − f_aa, g_ab − g_bb). */
  f: tf.Tensor2D;
  g: tf.Tensor2D;
  /** [B]: the L1 marginal residual the fixed schedule left (worst of the problems' OT terms; +∞ on overflow). */
  residual: tf.Tensor1D;
}

/** Runs the loop for x [B,N,D], a [B,N], y [B,M,D], b [B,M]; every returned tensor belongs to the caller. */
export function tensorDivergence(
  x: tf.Tensor3D,
  a: tf.Tensor2D,
  y: tf.Tensor3D,
  b: tf.Tensor2D,
  params: TensorDivergenceParams,
): TensorDivergenceResult {
  const { eps, rho, debias } = params;
  const seam = new TensorSeam(x, a, y, b, params.p, debias, params.mode);
  try {
    const loop = symmetricSinkhornLoop(seam, params.epsList, { debias, rho });
    const pot = loop.potentials;
    const lam = damping(eps, rho);
    const out = tf.tidy(() => {
      const xy = seam.softminWithGrad('xy', eps, lam, pot.gAB);
      const yx = seam.softminWithGrad('yx', eps, lam, pot.fBA);
      const xx = debias ? seam.softminWithGrad('xx', eps, lam, pot.fAA) : undefined;
      const yy = debias ? seam.softminWithGrad('yy', eps, lam, pot.gBB) : undefined;
      const side = (
        w: tf.Tensor2D,
        cross: { value: tf.Tensor2D; grad: tf.Tensor3D },
        self: { value: tf.Tensor2D; grad: tf.Tensor3D } | undefined,
      ) => {
        const fc = cross.value;
        const potOut = self ? tf.sub(fc, self.value) : tf.clone(fc);
        let phi: tf.Tensor;
        let grad: tf.Tensor;
        if (rho === undefined) {
          phi = tf.clone(potOut);
          grad = self ? tf.sub(cross.grad, self.grad) : cross.grad;
        } else {
          const uw = rho + eps / 2;
          const ec = tf.exp(tf.div(fc, -rho));
          const dCross = tf.mul(ec, uw / rho);
          if (self) {
            const es = tf.exp(tf.div(self.value, -rho));
            phi = tf.mul(tf.sub(es, ec), uw);
            const dSelf = tf.mul(es, -uw / rho);
            grad = tf.add(tf.mul(tf.expandDims(dCross, 2), cross.grad), tf.mul(tf.expandDims(dSelf, 2), self.grad));
          } else {
            phi = tf.mul(tf.sub(1, ec), uw);
            grad = tf.mul(tf.expandDims(dCross, 2), cross.grad);
          }
        }
        return {
          value: tf.sum(tf.mul(w, phi), 1),
          grad: tf.mul(tf.expandDims(w, 2), grad) as tf.Tensor3D,
          gradW: phi as tf.Tensor2D,
          pot: potOut as tf.Tensor2D,
        };
      };
      const sx = side(a, xy, xx);
      const sy = side(b, yx, yy);
      const res = [
        seam.residualTensor('xy', pot.fBA, xy.value, eps),
        seam.residualTensor('yx', pot.gAB, yx.value, eps),
      ];
      if (xx && pot.fAA) res.push(seam.residualTensor('xx', pot.fAA, xx.value, eps));
      if (yy && pot.gBB) res.push(seam.residualTensor('yy', pot.gBB, yy.value, eps));
      // NaN (∞ − ∞ after an overflow) reads as +∞: far from converged.
      const worst = tf.max(tf.stack(res), 0);
      const residual = tf.where(
        tf.isNaN(worst),
        tf.fill([worst.shape[0]!], Number.POSITIVE_INFINITY),
        worst,
      ) as tf.Tensor1D;
      return {
        residual,
        value: tf.add(sx.value, sy.value) as tf.Tensor1D,
        gradX: sx.grad,
        gradY: sy.grad,
        gradA: sx.gradW,
        gradB: sy.gradW,
        f: sx.pot,
        g: sy.pot,
      };
    });
    for (const v of [pot.fAA, pot.gBB, pot.fBA, pot.gAB]) v?.dispose();
    return out;
  } finally {
    seam.dispose();
  }
}
