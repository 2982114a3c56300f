// The public types of runTraining: options, hooks, what a step reports, the result.
import type { ClipModel } from '@fairclip/clip';
import type { FairnessReport } from '@fairclip/fairness';
import type { TrainConfig } from '../config.ts';
import type { ImageCache } from '../data.ts';
import type { EpochRecord } from '../outputs.ts';

/** What a step reports to hooks and the progress bar. */
export interface StepInfo {
  epoch: number;
  /** Step within the epoch (0-based). */
  step: number;
  /** Steps finished in the whole run (1-based after the first step). */
  globalStep: number;
  /** Training pairs in the batch. */
  samples: number;
  loss: number;
  /** clip, fairness and each (attribute, group) distance "dist/<attribute>/<group>". */
  terms: Record<string, number>;
}

export interface RunHooks {
  /** After every optimisation step (a thrown error stops the run; the last checkpoint stays intact). */
  onStep?: (info: StepInfo) => void | Promise<void>;
  /** After every evaluated epoch, once its checkpoint and outputs are written. */
  onEpoch?: (record: EpochRecord) => void | Promise<void>;
  /**
   * A one-line warning (e.g. the last checkpoint was unusable and the run resumes from the previous one). Default:
   * written to the progress stream when one is given, else to stderr.
   */
  onWarning?: (message: string) => void;
}

export interface TrainRunOptions {
  /** A configuration (validated here again, so plain objects are fine), e.g. from resolvePresetConfig(preset, overrides). */
  config: TrainConfig | unknown;
  /** Output folder: checkpoints, CSVs, result.json, summary.md. A run found there with the same config resumes. */
  outDir: string;
  /** Dataset folder used when `data.path` is null (apps pass the embedded synthetic FairVLMed). */
  dataRoot?: string;
  /** Folder that relative paths of the configuration are taken from (default: the working folder). */
  baseDir?: string;
  /** The handle of initCompute (recorded in the result: backend, adapter). */
  compute?: { backend: string; adapterInfo?: unknown; fallbackReasons?: readonly string[] };
  signal?: AbortSignal;
  hooks?: RunHooks;
  /** Progress bar: false (default), true (stderr) or a stream. */
  progress?: boolean | { write(s: string): unknown; isTTY?: boolean };
  /** Also checkpoint every N optimisation steps inside an epoch (default 0: at epoch ends only). */
  checkpointEverySteps?: number;
  /** Preprocessed images shared between runs (default: a cache for this run only). */
  imageCache?: ImageCache;
  /** 'auto' (default): resume a run of the same configuration found in outDir; 'never': fail if there is one. */
  resume?: 'auto' | 'never';
  /** Force the distance path ('sync' needs a backend that reads synchronously); default by backend. */
  distancePath?: 'sync' | 'two-phase';
}

/** One evaluated epoch as stored in the checkpoint and result.json. */
export interface EpochEntry {
  record: EpochRecord;
  valReport: FairnessReport | null;
  testReport: FairnessReport | null;
}

export interface StepRow {
  epoch: number;
  step: number;
  globalStep: number;
  samples: number;
  loss: number;
  clip: number;
  fairness: number;
  /** Per distance column (null when the group was absent from the step). */
  distances: (number | null)[];
}

export interface TrainRunResult {
  outDir: string;
  configHash: string;
  config: TrainConfig;
  epochs: EpochRecord[];
  /** The epoch chosen by eval.selection (null when no epoch had a defined criterion). */
  selectedEpoch: number | null;
  /** Whether this call resumed a checkpoint (and at which global step). */
  resumedFromStep: number | null;
  files: {
    testCsv: string;
    valCsv: string;
    stepsCsv: string;
    /** Per-sample test scores of the selected epoch (written when an epoch is selected). */
    testScores: string;
    result: string;
    summary: string;
    checkpoints: string;
  };
  /** The trained model (fine-tuning, zero-shot) — owned by the caller, dispose it. Null for linear probing. */
  model: ClipModel | null;
}
