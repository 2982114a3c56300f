// The state of a run, as written with every checkpoint: position in the data order, the running sums of the current
// epoch, the evaluated epochs and the selected one.
import type { EpochEntry, StepRow } from './types.ts';

export interface Accumulator {
  count: number;
  sums: Record<string, number>;
  counts: Record<string, number>;
  seconds: number;
}

export interface RunState {
  configHash: string;
  /** Next epoch to run. */
  epoch: number;
  /** Next step within `epoch`. */
  stepInEpoch: number;
  globalStep: number;
  /** Group batches drawn per "attribute:group" (the endless loaders' positions). */
  groupDrawn: Record<string, number>;
  acc: Accumulator;
  history: EpochEntry[];
  steps: StepRow[];
  best: { epoch: number; value: number } | null;
  /**
   * The data-order (and only) random state, written with every checkpoint for inspection: epoch orders are
   * permutation(n, mixSeed(seed, epoch)), group batches permutation(n_g, mixSeed(seed, stream, pass)).
   */
  dataOrder?: {
    seed: number;
    epoch: number;
    stepInEpoch: number;
    groups: { attribute: string; group: number; stream: number; size: number; drawn: number }[];
  };
  /** Linear probing: the head's BatchNorm running statistics. */
  probe?: { runningMean: number[]; runningVar: number[] };
}

export function emptyAcc(): Accumulator {
  return { count: 0, sums: {}, counts: {}, seconds: 0 };
}

export function addTerms(acc: Accumulator, terms: Record<string, number>): void {
  acc.count++;
  for (const [k, v] of Object.entries(terms)) {
    acc.sums[k] = (acc.sums[k] ?? 0) + v;
    acc.counts[k] = (acc.counts[k] ?? 0) + 1;
  }
}

export function meanTerms(acc: Accumulator): Record<string, number> {
  return Object.fromEntries(Object.entries(acc.sums).map(([k, v]) => [k, v / acc.counts[k]!]));
}

export /** The state of a run that starts from scratch. */
function freshState(configHash: string): RunState {
  return {
    configHash,
    epoch: 0,
    stepInEpoch: 0,
    globalStep: 0,
    groupDrawn: {},
    acc: emptyAcc(),
    history: [],
    steps: [],
    best: null,
  };
}

/** What a resumed state must agree with: the run's configuration and data. */
export interface StateExpectations {
  /** Epochs the configuration trains (training.epochs, or linearProbe.epochs). */
  epochs: number;
  /** Optimisation steps per epoch (batches of the training split). */
  stepsPerEpoch: number;
  /** Whether a checkpoint may sit inside an epoch (fine-tuning's step checkpoints); else only at epoch ends. */
  midEpoch: boolean;
  /** The epochs the history holds when `epoch` is the next one to run (ascending). */
  recorded: (epoch: number) => number[];
  optimizer: 'adam' | 'lars';
  /** The per-group loaders' keys ("attribute:group") a fine-tuning state counts draws for. */
  groupKeys: readonly string[];
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Why a stored run state (state.json, as read: any JSON) cannot be resumed by this run (null when it can): its
 * position (epoch, step within the epoch, global step) must lie in the configured run and agree with each other, with
 * the history of evaluated epochs, the per-step rows, the running sums, the selected epoch and the optimiser's
 * step count. The configuration hash is checked by the caller (another configuration is a different refusal).
 */
export function runStateProblem(
  value: unknown,
  optimizer: { kind: string; step: number } | null,
  x: StateExpectations,
): string | null {
  if (!isObject(value)) return 'the run state is not an object';
  const s = value as Partial<Record<keyof RunState, unknown>>;
  if (!isCount(s.epoch) || s.epoch > x.epochs)
    return `epoch ${String(s.epoch).slice(0, 40)} is outside this run's 0…${x.epochs}`;
  const epoch = s.epoch;
  const lastStep = x.midEpoch && epoch < x.epochs ? x.stepsPerEpoch - 1 : 0;
  if (!isCount(s.stepInEpoch) || s.stepInEpoch > lastStep)
    return `step ${String(s.stepInEpoch).slice(0, 40)} of epoch ${epoch} is outside 0…${lastStep}`;
  const globalStep = epoch * x.stepsPerEpoch + s.stepInEpoch;
  if (s.globalStep !== globalStep)
    return `global step ${String(s.globalStep).slice(0, 40)} disagrees with epoch ${epoch} step ${s.stepInEpoch} (${globalStep} with ${x.stepsPerEpoch} steps per epoch)`;
  if (!Array.isArray(s.steps) || s.steps.length !== globalStep)
    return `${Array.isArray(s.steps) ? s.steps.length : 'no'} step rows for ${globalStep} steps`;
  for (let i = 0; i < s.steps.length; i++) {
    const r = s.steps[i] as unknown;
    if (!isObject(r) || r.globalStep !== i + 1) return `step row ${i} is not step ${i + 1}`;
  }
  const want = x.recorded(epoch);
  if (!x.midEpoch && epoch > 0 && want.at(-1) !== epoch - 1)
    return `epoch ${epoch} does not follow an evaluated epoch (checkpoints are written after evaluations)`;
  if (!Array.isArray(s.history) || s.history.length !== want.length)
    return `${Array.isArray(s.history) ? s.history.length : 'no'} recorded epochs, epoch ${epoch} needs ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const h = s.history[i] as unknown;
    if (!isObject(h) || !isObject(h.record) || h.record.epoch !== want[i])
      return `recorded epoch ${i} is not epoch ${want[i]}`;
  }
  const acc = s.acc as unknown;
  if (!isObject(acc) || !isCount(acc.count) || !isObject(acc.sums) || !isObject(acc.counts))
    return 'the running sums are malformed';
  if (x.midEpoch && acc.count !== s.stepInEpoch)
    return `the running sums count ${acc.count} steps, the epoch is at step ${s.stepInEpoch}`;
  for (const [k, v] of Object.entries(acc.sums))
    if (typeof v !== 'number' || !isCount(acc.counts[k])) return `the running sum of ${k.slice(0, 80)} is malformed`;
  const best = s.best as unknown;
  if (best !== null) {
    if (!isObject(best) || typeof best.value !== 'number' || !want.includes(best.epoch as number))
      return 'the selected epoch is not one of the recorded epochs';
  }
  if (!isObject(s.groupDrawn)) return 'the group loaders positions are malformed';
  for (const [k, v] of Object.entries(s.groupDrawn)) {
    if (!x.groupKeys.includes(k)) return `the group loader ${k.slice(0, 80)} is not one of this run's`;
    if (!isCount(v)) return `the group loader ${k.slice(0, 80)} has drawn ${String(v).slice(0, 40)} batches`;
  }
  if (optimizer === null) return 'the optimizer state is missing';
  if (optimizer.kind !== x.optimizer) return `the optimizer state is ${optimizer.kind}, this run uses ${x.optimizer}`;
  if (optimizer.step !== globalStep) return `the optimizer made ${optimizer.step} steps, the run ${globalStep}`;
  return null;
}
