/** The public types of the differentiable divergence ops (api.ts), shared by the engines and routing. */
import type * as tf from '@tensorflow/tfjs-core';
import type { SamplesLossOptions, SolverUsed } from '../samples-loss.ts';
import type { TensorCostMode } from '../tensor-seam.ts';

export type Engine = 'auto' | 'cpu-f64' | 'tensor';

export interface DivergenceOptions extends Omit<SamplesLossOptions, 'a' | 'b' | 'costMode'> {
  /** 'auto' (default), 'cpu-f64' or 'tensor'. */
  engine?: Engine;
  /** Tensor engine cost: 'auto' (dense when K·N·M <= routing.tensorDenseMaxEntries), 'dense' or 'online' (p = 2). */
  tensorCost?: 'auto' | TensorCostMode;
  /** float64 core cost: 'auto' (dense when max(N, M)² <= routing.f64DenseMaxEntries), 'dense' or 'online'. */
  costMode?: NonNullable<SamplesLossOptions['costMode']>;
  /**
   * Several problems: 'per-problem' (default) estimates one diameter per problem, as separate geomloss calls do
   * (FairCLIP's per-group terms); 'shared' uses one diameter over all of them, as one batched geomloss call does.
   */
  diameterMode?: 'per-problem' | 'shared';
  /** Called with what each problem's solve did (engine, solver, ε list, convergence, float32 resolution). */
  onInfo?: (info: DivergenceInfo[]) => void;
}

export interface DivergenceInfo {
  engine: 'cpu-f64' | 'tensor';
  /** Why this engine: the routing rule that fired (see routing.ts). */
  route: string;
  solver: SolverUsed;
  /** The value (undefined when it stays on the device: tensor engine on WebGPU). */
  value: number | undefined;
  epsilon: number;
  epsList: number[];
  diameter: number;
  iterations: number;
  /**
   * Whether the marginal residual met tol·mass (see SamplesLossResult.converged). undefined when not measured (tensor
   * engine on a backend that cannot read synchronously: reading would stall the device) or not measurable (tensor
   * engine where float32 rounding of the potentials alone exceeds a 1 % marginal error: ε < ~4·10⁻⁴·diameter^p).
   */
  converged: boolean | undefined;
  /** The marginal residual (NaN when not measured or not applicable). */
  residual: number;
  /** exact-1d: bound on |value − S_ε|. */
  errorBound: number;
  /**
   * false when ε < routing.float32MinRelativeEps · diameter^p on the float32 tensor engine: the entropic smoothing is
   * below float32 resolution there (a warning is printed once). Always true for cpu-f64.
   */
  float32Resolved: boolean;
  /** Cost evaluation: 'dense' or 'online' (Sinkhorn), 'none' (exact-1d, kernels). */
  costMode: 'dense' | 'online' | 'none';
  /** How many problems ran in the same batched loop (1 for cpu-f64). */
  batch: number;
}

/** One problem of a `sinkhornDivergenceMany` call: points [N] or [N, D], optional weights [N] (tensor or array). */
export interface DivergenceProblem {
  x: tf.Tensor;
  y: tf.Tensor;
  a?: tf.Tensor | ArrayLike<number>;
  b?: tf.Tensor | ArrayLike<number>;
}

/** Sizes of one problem: x has n points, y has m, both in dimension d. */
export interface Shape {
  n: number;
  m: number;
  d: number;
}
