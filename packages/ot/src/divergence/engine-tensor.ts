/**
 * The 'tensor' engine: the Sinkhorn loop on float32 tensors (tensor-divergence.ts) on the active backend, behind a
 * tfjs custom-gradient op. Problems of equal shape and equal ε schedule run as one batched loop: dense cost for small
 * problems, @fairclip/compute's fused online soft-min for large ones. Runs on WebGPU without any read-back once the
 * diameters are known.
 */
import * as tf from '@tensorflow/tfjs-core';
import { OtInputError } from '../errors.ts';
import { checkPositive } from '../inputs.ts';
import { backendReadsSync, getRouting, type RoutingConfig } from '../routing.ts';
import { epsilonSchedule } from '../schedule.ts';
import { tensorDivergence } from '../tensor-divergence.ts';
import type { TensorCostMode } from '../tensor-seam.ts';
import { flatten } from './problems.ts';
import type { DivergenceInfo, DivergenceOptions, DivergenceProblem, Shape } from './types.ts';

let warnedFloat32 = false;
/** The smallest ε the float32 tensor engine uses (schedules are clamped to it; such ε is never float32-resolved). */
const F32_MIN_EPS = 1e-30;

interface TensorPlan {
  p: number;
  eps: number;
  rho: number | undefined;
  debias: boolean;
  float32Resolved: boolean;
}

function tensorPlan(
  opts: DivergenceOptions,
  diameters: readonly number[],
  routing: Readonly<RoutingConfig>,
): TensorPlan {
  const p = opts.p ?? 2;
  const blur = opts.blur ?? 0.05;
  checkPositive('blur', blur);
  if (!(p >= 1 && Number.isFinite(p)))
    throw new OtInputError('INVALID_OPTION', `p must be a finite number >= 1, got ${p}`);
  if (opts.solver === 'exact-1d') {
    throw new OtInputError(
      'UNSUPPORTED',
      "solver 'exact-1d' runs on the float64 engine only (engine 'cpu-f64' or solveDivergence)",
    );
  }
  if (opts.loss !== undefined && opts.loss !== 'sinkhorn') {
    throw new OtInputError('UNSUPPORTED', `the tensor engine implements loss 'sinkhorn' only (got '${opts.loss}')`);
  }
  if (opts.reach !== undefined) checkPositive('reach', opts.reach);
  const eps = blur ** p;
  if (!(eps > 0)) throw new OtInputError('INVALID_EPSILON', `blur^p underflows to ${eps}; use a larger blur`);
  const maxDiam = Math.max(...diameters);
  const float32Resolved = eps >= routing.float32MinRelativeEps * maxDiam ** p;
  if (!float32Resolved && !warnedFloat32) {
    warnedFloat32 = true;
    console.warn(
      `[@fairclip/ot] tensor engine (float32): ε = ${eps} is below ${routing.float32MinRelativeEps}·diameter^p = ` +
        `${routing.float32MinRelativeEps * maxDiam ** p}; float32 cannot resolve the entropic smoothing there ` +
        '(values are accurate only to ~1e-7·diameter^p). Use solveDivergence() (routes such problems to float64) ' +
        "or engine 'cpu-f64'.",
    );
  }
  return {
    p,
    eps: Math.max(eps, F32_MIN_EPS),
    rho: opts.reach === undefined ? undefined : opts.reach ** p,
    debias: opts.debias ?? true,
    float32Resolved,
  };
}

export function tensorOp(
  problems: readonly DivergenceProblem[],
  shapes: readonly Shape[],
  diameters: readonly number[],
  opts: DivergenceOptions,
  route: string,
): tf.Tensor1D {
  const routing = getRouting(opts.routing);
  const plan = tensorPlan(opts, diameters, routing);
  const scaling = opts.scaling ?? 0.5;
  const sync = backendReadsSync();
  // Groups: equal (n, m, d) and equal diameter (hence equal ε schedule) share one batched loop.
  const groups = new Map<string, number[]>();
  shapes.forEach((sh, k) => {
    const key = `${sh.n}|${sh.m}|${sh.d}|${diameters[k]}`;
    const g = groups.get(key);
    if (g) g.push(k);
    else groups.set(key, [k]);
  });
  const costOpt = opts.tensorCost ?? 'auto';
  if (costOpt !== 'auto' && costOpt !== 'dense' && costOpt !== 'online') {
    throw new OtInputError('INVALID_OPTION', `tensorCost must be 'auto', 'dense' or 'online', got ${String(costOpt)}`);
  }
  const { inputs, slots } = flatten(problems);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const ins = args as tf.Tensor[];
    const values: tf.Tensor[] = new Array(problems.length);
    const saved: tf.Tensor[] = new Array(4 * problems.length);
    const infos: DivergenceInfo[] = new Array(problems.length);
    for (const ks of groups.values()) {
      const sh = shapes[ks[0]!]!;
      const B = ks.length;
      const diameter = diameters[ks[0]!]!;
      // float32 has no ε below ~1e-38 (a diameter of 1e-20 squares to 0 there): clamp the schedule at 1e-30.
      const epsList = epsilonSchedule(plan.p, diameter, opts.blur ?? 0.05, scaling).map((e) =>
        Math.max(e, F32_MIN_EPS),
      );
      const mode: TensorCostMode =
        costOpt === 'auto' ? (B * sh.n * sh.m <= routing.tensorDenseMaxEntries ? 'dense' : 'online') : costOpt;
      if (mode === 'online' && plan.p !== 2) {
        throw new OtInputError(
          'UNSUPPORTED',
          `the online tensor cost computes gradients for p = 2 only (got p = ${plan.p}); use tensorCost 'dense'`,
        );
      }
      const stackPts = (which: 'xi' | 'yi', n: number) =>
        tf.stack(ks.map((k) => tf.reshape(ins[slots[k]![which]]!, [n, sh.d]))) as tf.Tensor3D;
      const stackW = (which: 'ai' | 'bi', side: 'a' | 'b', n: number) =>
        tf.stack(
          ks.map((k) => {
            const s = slots[k]![which];
            if (s >= 0) return tf.cast(ins[s]!, 'float32');
            const w = problems[k]![side];
            return w === undefined ? tf.fill([n], 1 / n) : tf.tensor1d(Float32Array.from(w as ArrayLike<number>));
          }),
        ) as tf.Tensor2D;
      const x3 = stackPts('xi', sh.n);
      const y3 = stackPts('yi', sh.m);
      const a2 = stackW('ai', 'a', sh.n);
      const b2 = stackW('bi', 'b', sh.m);
      const r = tensorDivergence(x3, a2, y3, b2, {
        p: plan.p,
        eps: plan.eps,
        epsList,
        rho: plan.rho,
        debias: plan.debias,
        mode,
      });
      tf.dispose([x3, y3, a2, b2]);
      const vs = tf.unstack(r.value);
      const gx = tf.unstack(r.gradX);
      const gy = tf.unstack(r.gradY);
      const ga = tf.unstack(r.gradA);
      const gb = tf.unstack(r.gradB);
      const residual = sync ? r.residual.dataSync() : undefined;
      tf.dispose([r.value, r.gradX, r.gradY, r.gradA, r.gradB, r.f, r.g, r.residual]);
      ks.forEach((k, i) => {
        values[k] = vs[i]!;
        saved[4 * k] = gx[i]!;
        saved[4 * k + 1] = gy[i]!;
        saved[4 * k + 2] = ga[i]!;
        saved[4 * k + 3] = gb[i]!;
        const res = residual ? residual[i]! : Number.NaN;
        // float32 floor: potentials carry ~2⁻²⁴·diameter^p of rounding, i.e. that over ε in the residual's exponent;
        // above 1 % the residual says nothing (converged: undefined).
        const floor = (64 * 2 ** -24 * diameter ** plan.p) / plan.eps;
        const tol = Math.max(opts.tol ?? 1e-9, floor);
        infos[k] = {
          engine: 'tensor',
          route,
          solver: 'sinkhorn',
          value: sync ? vs[i]!.dataSync()[0] : undefined,
          epsilon: plan.eps,
          epsList,
          diameter,
          iterations: epsList.length,
          converged: residual && floor < 1e-2 ? res <= tol : undefined,
          residual: res,
          errorBound: 0,
          float32Resolved: plan.float32Resolved,
          costMode: mode,
          batch: B,
        };
      });
    }
    save(saved);
    opts.onInfo?.(infos);
    return {
      value: tf.stack(values) as tf.Tensor1D,
      gradFunc: (dy: tf.Tensor, sv: tf.Tensor[]) => {
        const dys = tf.unstack(dy);
        const grads: tf.Tensor[] = new Array(ins.length);
        slots.forEach((s, k) => {
          const dk = dys[k]!;
          grads[s.xi] = tf.reshape(tf.mul(dk, sv[4 * k]!), ins[s.xi]!.shape);
          grads[s.yi] = tf.reshape(tf.mul(dk, sv[4 * k + 1]!), ins[s.yi]!.shape);
          if (s.ai >= 0) grads[s.ai] = tf.reshape(tf.mul(dk, sv[4 * k + 2]!), ins[s.ai]!.shape);
          if (s.bi >= 0) grads[s.bi] = tf.reshape(tf.mul(dk, sv[4 * k + 3]!), ins[s.bi]!.shape);
        });
        return grads;
      },
    };
  });
  return op(...inputs) as tf.Tensor1D;
}
