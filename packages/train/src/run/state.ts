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
