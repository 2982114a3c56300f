// Optimisers with PyTorch semantics, on tfjs variables.
//  - Adam: torch.optim.Adam (L2 weight decay added to the gradient, not AdamW), constant learning rate.
//  - LARS: the MAE linear-probe LARS (facebookresearch/mae util/lars.py semantics) with the warm-up +
//    half-cosine learning-rate schedule of its adjust_learning_rate.
import { roundToFloat16 } from '@fairclip/clip';
import * as tf from '@tensorflow/tfjs-core';

/** One parameter group: the variables it owns and its hyperparameters. */
export interface ParamGroup {
  readonly name: string;
  readonly params: readonly tf.Variable[];
  /**
   * Stable names of `params` (same order) used as keys of the serialised state, e.g. the state-dict names of a CLIP
   * model, so that a state saved by one process loads into a freshly built model. Default: the variables' names.
   */
  readonly keys?: readonly string[];
  /** Multiplies the optimiser's learning rate for this group (default 1). */
  readonly lrScale?: number;
  /**
   * Per parameter (same order as `params`): stored in float16, so rounded to float16 after each step (the official
   * FairCLIP code on a GPU steps in float32 and casts back with `clip.model.convert_weights`). The optimiser state
   * stays float32. Default: none.
   */
  readonly half?: readonly boolean[];
}

/** The state key of parameter `i` of a group. */
function keyOf(group: ParamGroup, i: number): string {
  return group.keys?.[i] ?? group.params[i]!.name;
}

function checkGroups(groups: readonly ParamGroup[]): void {
  const seen = new Set<string>();
  const keys = new Set<string>();
  for (const g of groups) {
    if (g.keys !== undefined && g.keys.length !== g.params.length)
      throw new Error(`optimizer: group "${g.name}" has ${g.params.length} params but ${g.keys.length} keys`);
    if (g.half !== undefined && g.half.length !== g.params.length)
      throw new Error(`optimizer: group "${g.name}" has ${g.params.length} params but ${g.half.length} half flags`);
    g.params.forEach((p, i) => {
      if (seen.has(p.name)) throw new Error(`optimizer: variable "${p.name}" appears in more than one parameter group`);
      seen.add(p.name);
      const k = keyOf(g, i);
      if (keys.has(k)) throw new Error(`optimizer: state key "${k}" appears twice`);
      keys.add(k);
    });
  }
}

export interface AdamOptions {
  lr: number;
  betas?: readonly [number, number];
  eps?: number;
  /** L2 penalty added to the gradient (torch.optim.Adam's weight_decay). */
  weightDecay?: number;
}

/** Serializable optimiser state (moment buffers by variable name + step count). */
export interface OptimizerState {
  readonly kind: 'adam' | 'lars';
  readonly step: number;
  readonly buffers: Record<string, { shape: number[]; data: Float32Array }>;
}

function checkBufferShape(key: string, got: readonly number[], want: readonly number[]): void {
  if (got.length !== want.length || got.some((d, i) => d !== want[i]))
    throw new Error(`optimizer: state of "${key}" has shape [${got.join(', ')}], the parameter [${want.join(', ')}]`);
}

/** The state of an optimizer: its step and every buffer map, keyed "<parameter key>/<buffer name>". */
async function saveState(
  kind: OptimizerState['kind'],
  step: number,
  maps: Record<string, ReadonlyMap<string, tf.Variable>>,
): Promise<OptimizerState> {
  const buffers: OptimizerState['buffers'] = {};
  for (const [name, map] of Object.entries(maps))
    for (const [k, b] of map)
      buffers[`${k}/${name}`] = { shape: b.shape.slice(), data: (await b.data()) as Float32Array };
  return { kind, step, buffers };
}

/**
 * Restores the buffer maps of a saved state (the caller has checked its kind; parameters without saved buffers keep
 * none: they start fresh), checking every buffer's shape against its parameter.
 */
function restoreBuffers(
  state: OptimizerState,
  groups: readonly ParamGroup[],
  maps: Record<string, Map<string, tf.Variable>>,
): void {
  const names = Object.keys(maps);
  for (const group of groups)
    group.params.forEach((p, i) => {
      const key = keyOf(group, i);
      const saved = names.map((n) => state.buffers[`${key}/${n}`]);
      if (saved.some((b) => b === undefined)) return;
      names.forEach((n, j) => {
        const b = saved[j]!;
        checkBufferShape(key, b.shape, p.shape);
        maps[n]!.set(key, tf.variable(tf.tensor(b.data, b.shape), false));
      });
    });
}

/** The buffers each optimiser keeps per parameter (the suffix of a state key "<parameter key>/<buffer>"). */
const BUFFERS: Record<OptimizerState['kind'], readonly string[]> = { adam: ['m', 'v'], lars: ['mu'] };

const cut = (s: string): string => (s.length <= 80 ? s : `${s.slice(0, 80)}…`);

/**
 * Why a saved state cannot be restored into `groups` by a `kind` optimiser (null when it can): the kind, a step
 * count that is not a non-negative safe integer, a buffer of no parameter or of another optimiser, a parameter with
 * only some of its buffers, a shape or length that differs from the parameter's, a value that is not finite, or a
 * negative Adam second moment (its square root would make every later update NaN).
 */
export function optimizerStateProblem(
  state: OptimizerState,
  kind: OptimizerState['kind'],
  groups: readonly ParamGroup[],
): string | null {
  if (state.kind !== kind) return `it is a ${cut(String(state.kind))} state, the run uses ${kind}`;
  if (!Number.isSafeInteger(state.step) || state.step < 0)
    return `step count ${cut(String(state.step))} is not a non-negative integer`;
  const names = BUFFERS[kind];
  const shapes = new Map<string, readonly number[]>();
  for (const g of groups) g.params.forEach((p, i) => shapes.set(keyOf(g, i), p.shape));
  const seen = new Map<string, number>();
  for (const [k, b] of Object.entries(state.buffers)) {
    const slash = k.lastIndexOf('/');
    const key = k.slice(0, slash);
    const name = k.slice(slash + 1);
    const want = shapes.get(key);
    if (slash < 0 || !names.includes(name) || want === undefined)
      return `buffer "${cut(k)}" belongs to no trainable parameter of this run`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    if (b.shape.length !== want.length || b.shape.some((d, i) => d !== want[i]))
      return `buffer "${cut(k)}" has shape [${cut(b.shape.join(', '))}], the parameter [${want.join(', ')}]`;
    const n = want.reduce((a, d) => a * d, 1);
    if (!(b.data instanceof Float32Array) || b.data.length !== n)
      return `buffer "${cut(k)}" holds ${b.data?.length ?? 0} values, the parameter ${n}`;
    for (let i = 0; i < b.data.length; i++) {
      const x = b.data[i]!;
      if (!Number.isFinite(x)) return `buffer "${cut(k)}" holds ${x} at index ${i}`;
      if (name === 'v' && x < 0)
        return `buffer "${cut(k)}" (a second moment) holds the negative value ${x} at index ${i}`;
    }
  }
  for (const [key, count] of seen)
    if (count !== names.length) return `parameter "${cut(key)}" has ${count} of its ${names.length} buffers`;
  return null;
}

function checkPositive(name: string, v: number, allowZero = false): void {
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new RangeError(
      `optimizer: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} finite number, got ${v}`,
    );
  }
}

/** torch.optim.Adam. */
export class Adam {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly groups: readonly ParamGroup[];
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private t = 0;

  constructor(groups: readonly ParamGroup[], opts: AdamOptions) {
    const [b1, b2] = opts.betas ?? [0.9, 0.999];
    checkPositive('lr', opts.lr, true);
    if (!(b1 >= 0 && b1 < 1) || !(b2 >= 0 && b2 < 1))
      throw new RangeError(`optimizer: betas must be in [0, 1), got [${b1}, ${b2}]`);
    this.lr = opts.lr;
    this.beta1 = b1;
    this.beta2 = b2;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    checkPositive('eps', this.eps, true);
    checkPositive('weightDecay', this.weightDecay, true);
    checkGroups(groups);
    this.groups = groups;
  }

  get step(): number {
    return this.t;
  }

  /** Applies one update with the given gradients (by variable name). Variables without a gradient are skipped. */
  applyGradients(grads: Record<string, tf.Tensor>): void {
    this.t += 1;
    const t = this.t;
    const bc1 = 1 - this.beta1 ** t;
    const bc2 = 1 - this.beta2 ** t;
    for (const group of this.groups) {
      const lr = this.lr * (group.lrScale ?? 1);
      group.params.forEach((p, i) => {
        const g0 = grads[p.name];
        if (!g0) return;
        const key = keyOf(group, i);
        tf.tidy(() => {
          const g = this.weightDecay !== 0 ? tf.add(g0, tf.mul(p, this.weightDecay)) : g0;
          let m = this.m.get(key);
          let v = this.v.get(key);
          if (!m) {
            m = tf.variable(tf.zerosLike(p), false);
            v = tf.variable(tf.zerosLike(p), false);
            this.m.set(key, m);
            this.v.set(key, v);
          }
          const mNew = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
          const vNew = tf.add(tf.mul(v!, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
          m.assign(mNew);
          v!.assign(vNew);
          // PyTorch: denom = sqrt(v) / sqrt(bc2) + eps; p -= (lr / bc1) * m / denom
          const denom = tf.add(tf.div(tf.sqrt(vNew), Math.sqrt(bc2)), this.eps);
          const stepped = tf.sub(p, tf.mul(tf.div(mNew, denom), lr / bc1));
          p.assign(group.half?.[i] ? roundToFloat16(stepped) : stepped);
        });
      });
    }
  }

  state(): Promise<OptimizerState> {
    return saveState('adam', this.t, { m: this.m, v: this.v });
  }

  loadState(state: OptimizerState): void {
    if (state.kind !== 'adam') throw new Error(`optimizer: cannot load a ${state.kind} state into Adam`);
    const problem = optimizerStateProblem(state, 'adam', this.groups);
    if (problem) throw new RangeError(`optimizer: the saved state is corrupt: ${problem}`);
    this.disposeBuffers();
    this.t = state.step;
    restoreBuffers(state, this.groups, { m: this.m, v: this.v });
  }

  private disposeBuffers(): void {
    for (const m of this.m.values()) m.dispose();
    for (const v of this.v.values()) v.dispose();
    this.m.clear();
    this.v.clear();
  }

  dispose(): void {
    this.disposeBuffers();
  }
}

export interface LarsOptions {
  lr: number;
  weightDecay?: number;
  momentum?: number;
  trustCoefficient?: number;
}

/**
 * LARS as in MAE's linear probing: for parameters with more than one dimension the gradient gets the weight decay
 * and is rescaled by trust_coefficient * ||p|| / ||dp|| (1 where either norm is 0); then heavy-ball momentum.
 * The learning rate is set per step with {@link Lars.setLr} (see {@link warmupCosineLr}).
 */
export class Lars {
  lr: number;
  readonly weightDecay: number;
  readonly momentum: number;
  readonly trustCoefficient: number;
  private readonly groups: readonly ParamGroup[];
  private readonly mu = new Map<string, tf.Variable>();
  private t = 0;

  constructor(groups: readonly ParamGroup[], opts: LarsOptions) {
    this.lr = opts.lr;
    this.weightDecay = opts.weightDecay ?? 0;
    this.momentum = opts.momentum ?? 0.9;
    this.trustCoefficient = opts.trustCoefficient ?? 0.001;
    checkPositive('lr', this.lr, true);
    checkPositive('weightDecay', this.weightDecay, true);
    checkGroups(groups);
    this.groups = groups;
  }

  get step(): number {
    return this.t;
  }

  setLr(lr: number): void {
    checkPositive('lr', lr, true);
    this.lr = lr;
  }

  applyGradients(grads: Record<string, tf.Tensor>): void {
    this.t += 1;
    for (const group of this.groups) {
      const lr = this.lr * (group.lrScale ?? 1);
      group.params.forEach((p, i) => {
        const g0 = grads[p.name];
        if (!g0) return;
        const key = keyOf(group, i);
        tf.tidy(() => {
          let dp: tf.Tensor = g0;
          if (p.rank > 1) {
            dp = tf.add(dp, tf.mul(p, this.weightDecay));
            const pn = tf.norm(p);
            const un = tf.norm(dp);
            const one = tf.onesLike(pn);
            const q = tf.where(
              tf.greater(pn, 0),
              tf.where(tf.greater(un, 0), tf.div(tf.mul(pn, this.trustCoefficient), un), one),
              one,
            );
            dp = tf.mul(dp, q);
          }
          let mu = this.mu.get(key);
          if (!mu) {
            mu = tf.variable(tf.zerosLike(p), false);
            this.mu.set(key, mu);
          }
          const muNew = tf.add(tf.mul(mu, this.momentum), dp);
          mu.assign(muNew);
          p.assign(tf.sub(p, tf.mul(muNew, lr)));
        });
      });
    }
  }

  state(): Promise<OptimizerState> {
    return saveState('lars', this.t, { mu: this.mu });
  }

  loadState(state: OptimizerState): void {
    if (state.kind !== 'lars') throw new Error(`optimizer: cannot load a ${state.kind} state into LARS`);
    const problem = optimizerStateProblem(state, 'lars', this.groups);
    if (problem) throw new RangeError(`optimizer: the saved state is corrupt: ${problem}`);
    this.dispose();
    this.t = state.step;
    restoreBuffers(state, this.groups, { mu: this.mu });
  }

  dispose(): void {
    for (const m of this.mu.values()) m.dispose();
    this.mu.clear();
  }
}

/**
 * MAE's adjust_learning_rate: linear warm-up for `warmupEpochs`, then half-cosine decay to `minLr`.
 * `epoch` is fractional (iteration / iterations-per-epoch + epoch), as MAE calls it once per iteration.
 */
export function warmupCosineLr(
  epoch: number,
  opts: { lr: number; minLr?: number; warmupEpochs: number; epochs: number },
): number {
  const minLr = opts.minLr ?? 0;
  if (epoch < opts.warmupEpochs) return (opts.lr * epoch) / opts.warmupEpochs;
  const span = opts.epochs - opts.warmupEpochs;
  if (span <= 0) return opts.lr;
  return minLr + (opts.lr - minLr) * 0.5 * (1 + Math.cos((Math.PI * (epoch - opts.warmupEpochs)) / span));
}
