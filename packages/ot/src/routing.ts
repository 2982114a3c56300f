/**
 * Routing: which engine and which cost evaluation a problem runs on. Every threshold is configurable, globally with
 * `configureRouting` (for instance with the crossover measured by `pnpm bench` on the machine at hand) and per call
 * with the `routing` option of samplesLoss / the tfjs ops / solveDivergence.
 *
 * Rules (N·M = entries of one problem's cost matrix, K problems per call):
 *  - float64 core, cost evaluation: dense (materialised, geomloss's "tensorized") when max(N, M)² <= f64DenseMaxEntries,
 *    else online (recomputed on the fly, linear memory).
 *  - 1-D balanced Sinkhorn with solver 'auto': the exact sorted-quantile solver when its error bound on the entropic
 *    value is <= exactTolerance · W (see samples-loss.ts), else Sinkhorn.
 *  - tfjs ops, engine 'auto', problems where the exact 1-D path applies (1-D, balanced, not geomlossCompatible, solver
 *    not 'sinkhorn'): the float64 core on the CPU whatever the size and the backend (synchronous ops on cpu/wasm,
 *    solveDivergence everywhere): on an H100 the device never beat read-back + exact 1-D (N = M = 32 … 8192).
 *  - other problems on backends that read synchronously (cpu, wasm): the float64 core when max N·M <= f64MaxEntries,
 *    else the float32 tensor engine on the backend.
 *  - on backends that read asynchronously (WebGPU): the synchronous ops run the tensor engine (they cannot read); the
 *    async `solveDivergence` reads the points back and runs the float64 core when Σ N·M <= gpuMinEntries (where the
 *    GPU loses to the CPU: measured by `pnpm bench`, crossover section), or when float32 cannot resolve ε
 *    (ε < float32MinRelativeEps · diameter^p) and max N·M <= f64MaxEntries; otherwise the tensor engine on the device.
 *  - tensor engine, cost evaluation: dense when K·N·M <= tensorDenseMaxEntries, else @fairclip/compute's fused online
 *    soft-min (never materialises N×M).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Engine } from './divergence/types.ts';
import { OtInputError } from './errors.ts';
import type { SamplesLossOptions } from './samples-loss.ts';

export interface RoutingConfig {
  /** Largest max(N, M)² for which the float64 core materialises its cost matrices (default 4·10⁶). */
  f64DenseMaxEntries: number;
  /** Largest N·M that engine 'auto' sends to the float64 core on cpu/wasm (default 4·10⁶). */
  f64MaxEntries: number;
  /** Largest K·N·M for which the tensor engine materialises its cost (default 2²²). */
  tensorDenseMaxEntries: number;
  /**
   * On WebGPU, `solveDivergence` with engine 'auto' solves on the CPU in float64 when Σ N·M <= gpuMinEntries
   * (default 2¹⁷ = 131 072). Measured on an H100 (bench/RESULTS.md) with geomloss's schedule on both sides, three 1-D
   * problems: the CPU wins 2.6× at Σ N·M = 49 152, the GPU wins 9× at 786 432; log-interpolated crossover ≈ 1.1·10⁵.
   */
  gpuMinEntries: number;
  /** The exact 1-D fast path is taken when its error bound is <= exactTolerance · W (default 1e-6). */
  exactTolerance: number;
  /** float32 cannot resolve ε below float32MinRelativeEps · diameter^p (default 1e-6). */
  float32MinRelativeEps: number;
}

export const DEFAULT_ROUTING: Readonly<RoutingConfig> = Object.freeze({
  f64DenseMaxEntries: 4_000_000,
  f64MaxEntries: 4_000_000,
  tensorDenseMaxEntries: 1 << 22,
  gpuMinEntries: 1 << 17,
  exactTolerance: 1e-6,
  float32MinRelativeEps: 1e-6,
});

let current: RoutingConfig = { ...DEFAULT_ROUTING };

function validate(partial: Partial<RoutingConfig>): void {
  for (const [key, value] of Object.entries(partial)) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_ROUTING)) {
      throw new OtInputError(
        'INVALID_OPTION',
        `routing.${key} is not a routing setting (known: ${Object.keys(DEFAULT_ROUTING).join(', ')})`,
      );
    }
    if (!(typeof value === 'number' && value >= 0 && !Number.isNaN(value))) {
      throw new OtInputError('INVALID_OPTION', `routing.${key} must be a number >= 0, got ${String(value)}`);
    }
  }
}

/** Sets routing defaults for the whole process (unnamed settings keep their values); returns the new config. */
export function configureRouting(partial: Partial<RoutingConfig>): Readonly<RoutingConfig> {
  validate(partial);
  current = { ...current, ...definedOnly(partial) };
  return { ...current };
}

/** Restores DEFAULT_ROUTING. */
export function resetRouting(): void {
  current = { ...DEFAULT_ROUTING };
}

/** The routing in effect: the process defaults overridden by `override` (a call's `routing` option). */
export function getRouting(override?: Partial<RoutingConfig>): Readonly<RoutingConfig> {
  if (override === undefined) return { ...current };
  validate(override);
  return { ...current, ...definedOnly(override) };
}

function definedOnly(partial: Partial<RoutingConfig>): Partial<RoutingConfig> {
  const out: Partial<RoutingConfig> = {};
  for (const [k, v] of Object.entries(partial) as [keyof RoutingConfig, number | undefined][]) {
    if (v !== undefined) out[k] = v;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The engine decision of the tfjs ops (the rules in this file's header)

/** Whether the active backend can read tensors synchronously (cpu, wasm). */
export function backendReadsSync(backend: string = tf.getBackend()): boolean {
  return backend === 'cpu' || backend === 'wasm';
}

export interface EngineChoice {
  engine: 'cpu-f64' | 'tensor';
  /** The rule that fired, in words. */
  reason: string;
}

export interface RouteQuery {
  /** tfjs backend name ('cpu', 'wasm', 'webgpu', ...). */
  backend: string;
  /** Whether the caller can wait for asynchronous reads (solveDivergence) or not (the synchronous ops). */
  async: boolean;
  /** Largest N·M of the problems, and their sum. */
  maxEntries: number;
  totalEntries: number;
  loss: SamplesLossOptions['loss'];
  /** Every problem is 1-D and balanced. */
  oneDimBalanced: boolean;
  /**
   * The exact 1-D path applies (1-D, balanced, loss 'sinkhorn', solver not 'sinkhorn', not geomlossCompatible):
   * such problems stay on the CPU whatever their size (O(n log n) after an O(n) read-back).
   */
  exactEligible?: boolean;
  /** Whether float32 resolves ε for every problem (undefined: not known yet). */
  float32Resolved?: boolean;
  engine?: Engine;
}

/** The engine routing of routing.ts, as a pure function (exported for tests and for callers that plan ahead). */
export function chooseEngine(q: RouteQuery, routing: Readonly<RoutingConfig> = getRouting()): EngineChoice {
  const engine = q.engine ?? 'auto';
  const sync = backendReadsSync(q.backend);
  if (engine === 'cpu-f64') {
    if (!sync && !q.async) {
      throw new OtInputError(
        'SYNC_READ_UNAVAILABLE',
        `engine 'cpu-f64' reads tensors synchronously, which the '${q.backend}' backend cannot do; ` +
          "use engine 'tensor' (float32 on this backend, with a given diameter) or the async solveDivergence()",
      );
    }
    return { engine: 'cpu-f64', reason: 'engine cpu-f64 requested' };
  }
  if (engine === 'tensor') {
    if (q.loss !== undefined && q.loss !== 'sinkhorn') {
      throw new OtInputError('UNSUPPORTED', `the tensor engine implements loss 'sinkhorn' only (got '${q.loss}')`);
    }
    return { engine: 'tensor', reason: 'engine tensor requested' };
  }
  if (engine !== 'auto') {
    throw new OtInputError('INVALID_OPTION', `engine must be 'auto', 'cpu-f64' or 'tensor', got ${String(engine)}`);
  }
  if (q.loss !== undefined && q.loss !== 'sinkhorn') {
    if (sync || q.async) return { engine: 'cpu-f64', reason: `loss '${q.loss}' runs on the float64 core only` };
    throw new OtInputError(
      'UNSUPPORTED',
      `loss '${q.loss}' runs on the float64 core only, which needs to read the points: use solveDivergence() on '${q.backend}'`,
    );
  }
  if ((sync || q.async) && q.exactEligible) {
    return {
      engine: 'cpu-f64',
      reason:
        '1-D balanced: the exact sorted-quantile path on the CPU (O(n log n); a GPU never beat it, see pnpm bench)',
    };
  }
  if (sync) {
    return q.maxEntries <= routing.f64MaxEntries
      ? {
          engine: 'cpu-f64',
          reason: `max N·M = ${q.maxEntries} <= f64MaxEntries (${routing.f64MaxEntries}) on ${q.backend}`,
        }
      : { engine: 'tensor', reason: `max N·M = ${q.maxEntries} > f64MaxEntries (${routing.f64MaxEntries})` };
  }
  if (!q.async) return { engine: 'tensor', reason: `the '${q.backend}' backend cannot read synchronously` };
  if (q.totalEntries <= routing.gpuMinEntries) {
    return {
      engine: 'cpu-f64',
      reason: `Σ N·M = ${q.totalEntries} <= gpuMinEntries (${routing.gpuMinEntries}): the CPU is faster for small problems`,
    };
  }
  if (q.float32Resolved === false && (q.oneDimBalanced || q.maxEntries <= routing.f64MaxEntries)) {
    return { engine: 'cpu-f64', reason: 'float32 cannot resolve ε: float64 on the CPU instead' };
  }
  return { engine: 'tensor', reason: `Σ N·M = ${q.totalEntries} > gpuMinEntries (${routing.gpuMinEntries})` };
}
