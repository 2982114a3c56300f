// The distance D of the fairness regulariser on top of @fairclip/ot: 1-D point clouds of scores, every
// (attribute, group) term of a step solved by ONE `sinkhornDivergenceMany` call (geomloss semantics, per-problem
// diameters as separate geomloss calls estimate them).
//
// Backends that read tensors synchronously (cpu, wasm) solve inside the gradient scope. Others (WebGPU) use the
// two-phase path of @fairclip/ot: the scores are computed once without gradient, `solveDivergence` reads them back
// and solves (float64 CPU core for small problems), and the gradient scope attaches that solution to the scores it
// recomputes (`divergenceFromSolution`).
import {
  backendReadsSync,
  type DivergenceInfo,
  type DivergenceOptions,
  type DivergenceProblem,
  type DivergenceSolution,
  divergenceFromSolution,
  sinkhornDivergenceMany,
  solveDivergence,
} from '@fairclip/ot';
import type * as tf from '@tensorflow/tfjs-core';
import type { DistanceConfig } from './config.ts';
import type { GroupDistance } from './losses.ts';

/** The @fairclip/ot options of a distance configuration. */
export function divergenceOptions(cfg: DistanceConfig, onInfo?: (info: DivergenceInfo[]) => void): DivergenceOptions {
  const o: DivergenceOptions = {
    loss: cfg.loss,
    p: cfg.p,
    blur: cfg.blur,
    scaling: cfg.scaling,
    debias: cfg.debias,
    diameterMode: 'per-problem',
  };
  if (cfg.diameter !== null) o.diameter = cfg.diameter;
  if (cfg.solver === 'geomloss') {
    o.solver = 'sinkhorn';
    o.geomlossCompatible = true;
  } else {
    o.solver = cfg.solver;
  }
  if (onInfo) o.onInfo = onInfo;
  return o;
}

function problems(x: tf.Tensor1D, groups: readonly tf.Tensor1D[]): DivergenceProblem[] {
  return groups.map((y) => ({ x, y }));
}

/** D for the synchronous path: one batched op over all groups. */
export function syncGroupDistance(cfg: DistanceConfig, onInfo?: (info: DivergenceInfo[]) => void): GroupDistance {
  const opts = divergenceOptions(cfg, onInfo);
  return (x, groups) => sinkhornDivergenceMany(problems(x, groups), opts);
}

/**
 * Two-phase D: solves now from the given (gradient-free) scores, returns the D to call inside the gradient scope on
 * the recomputed scores of the same values.
 */
export async function solvedGroupDistance(
  x: tf.Tensor1D,
  groups: readonly tf.Tensor1D[],
  cfg: DistanceConfig,
  onInfo?: (info: DivergenceInfo[]) => void,
): Promise<GroupDistance> {
  const solution: DivergenceSolution = await solveDivergence(problems(x, groups), divergenceOptions(cfg, onInfo));
  return (x2, groups2) => divergenceFromSolution(problems(x2, groups2), solution);
}

/** Which path a step takes: 'sync' on cpu/wasm, 'two-phase' elsewhere (or as forced). */
export function distancePath(force?: 'sync' | 'two-phase'): 'sync' | 'two-phase' {
  return force ?? (backendReadsSync() ? 'sync' : 'two-phase');
}
