/**
 * Log-domain Sinkhorn on a cost matrix with tfjs tensors (float32 on the active backend: cpu, wasm or WebGPU), with
 * POT's update order and stopping rule (see sinkhorn.ts): v = log b − LSE_i(−C/ε + u), u = log a − LSE_j(−C/ε + v);
 * every 10 iterations the L2 column-marginal error is read back (async) and compared with tol.
 */
import * as tf from '@tensorflow/tfjs-core';
import { OtInputError } from './errors.ts';
import { checkEpsilon, checkEqualMass, checkInteger, type MatrixInput, toMatrix, toWeights } from './inputs.ts';

export interface TensorSinkhornOptions {
  maxIter?: number;
  tol?: number;
  massTolerance?: number;
}

export interface TensorSinkhornResult {
  plan: Float64Array;
  rows: number;
  cols: number;
  /** KL-convention potentials (P = a_i b_j exp((f_i + g_j − C_ij)/ε)). */
  f: Float64Array;
  g: Float64Array;
  transportCost: number;
  /** ⟨P, C⟩ + ε·KL(P | a⊗b). */
  value: number;
  marginalError: number;
  errors: number[];
  iterations: number;
  converged: boolean;
  epsilon: number;
}

export async function sinkhornTensor(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  cost: MatrixInput,
  eps: number,
  options: TensorSinkhornOptions = {},
): Promise<TensorSinkhornResult> {
  const C = toMatrix('cost', cost);
  const wa = toWeights('a', a, C.rows);
  const wb = toWeights('b', b, C.cols);
  checkEpsilon('eps', eps);
  checkEqualMass(wa, wb, options.massTolerance ?? 1e-6);
  const maxIter = options.maxIter ?? 1000;
  const tol = options.tol ?? 1e-6;
  checkInteger('maxIter', maxIter, 1);
  if (!(tol >= 0)) throw new OtInputError('INVALID_OPTION', `tol must be >= 0, got ${tol}`);
  const n = C.rows;
  const m = C.cols;
  const Mr = tf.tidy(() => tf.div(tf.tensor2d(Float32Array.from(C.data), [n, m]), -eps));
  const la = tf.tidy(() => tf.log(tf.tensor1d(Float32Array.from(wa))));
  const lb = tf.tidy(() => tf.log(tf.tensor1d(Float32Array.from(wb))));
  const bT = tf.tensor1d(Float32Array.from(wb));
  let u: tf.Tensor1D = tf.zeros([n]);
  let v: tf.Tensor1D = tf.zeros([m]);
  const errors: number[] = [];
  let converged = false;
  let ii = 0;
  try {
    for (ii = 0; ii < maxIter; ii++) {
      const nv = tf.tidy(() => tf.sub(lb, tf.logSumExp(tf.add(Mr, tf.expandDims(u, 1)), 0)) as tf.Tensor1D);
      v.dispose();
      v = nv;
      const nu = tf.tidy(() => tf.sub(la, tf.logSumExp(tf.add(Mr, tf.expandDims(v, 0)), 1)) as tf.Tensor1D);
      u.dispose();
      u = nu;
      if (ii % 10 === 0) {
        const errT = tf.tidy(() => {
          const P = tf.exp(tf.add(tf.add(Mr, tf.expandDims(u, 1)), tf.expandDims(v, 0)));
          return tf.norm(tf.sub(tf.sum(P, 0), bT));
        });
        const err = (await errT.data())[0]!;
        errT.dispose();
        errors.push(err);
        if (err < tol) {
          converged = true;
          break;
        }
      }
    }
    if (ii === maxIter) ii = maxIter - 1;
    const [uv, vv] = await Promise.all([u.data(), v.data()]);
    const logU = Float64Array.from(uv);
    const logV = Float64Array.from(vv);
    const plan = new Float64Array(n * m);
    let transportCost = 0;
    let kl = 0;
    let mass = 0;
    const cols = new Float64Array(m);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) {
        const lp = logU[i]! - C.data[i * m + j]! / eps + logV[j]!;
        const pij = Math.exp(lp);
        plan[i * m + j] = pij;
        transportCost += pij * C.data[i * m + j]!;
        if (pij > 0) kl += pij * (lp - Math.log(wa[i]!) - Math.log(wb[j]!));
        mass += pij;
        cols[j] = cols[j]! + pij;
      }
    }
    let massA = 0;
    for (const w of wa) massA += w;
    let massB = 0;
    for (const w of wb) massB += w;
    kl += -mass + massA * massB;
    let ce = 0;
    for (let j = 0; j < m; j++) ce += (cols[j]! - wb[j]!) ** 2;
    return {
      plan,
      rows: n,
      cols: m,
      f: logU.map((x, i) => eps * (x - Math.log(wa[i]!))),
      g: logV.map((x, j) => eps * (x - Math.log(wb[j]!))),
      transportCost,
      value: transportCost + eps * kl,
      marginalError: Math.sqrt(ce),
      errors,
      iterations: ii + 1,
      converged,
      epsilon: eps,
    };
  } finally {
    tf.dispose([Mr, la, lb, bT, u, v]);
  }
}
