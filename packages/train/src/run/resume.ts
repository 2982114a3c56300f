// Resuming: which checkpoint of the output folder a run may continue from. Preflight keeps the checkpoints whose
// state agrees with the configuration and the data (position, history, optimiser step); the mode then loads the
// newest of them whose files match their checksums and whose tensors fit the model and the optimiser, and falls back
// to the previous one, with a warning, when the newest is unusable.
import { join } from 'node:path';
import type { HostTensor } from '@fairclip/clip';
import { CheckpointError, type FoundCheckpoints, type LoadedCheckpoint, loadCheckpoint } from '../checkpoint.ts';
import type { TrainConfig } from '../config.ts';
import type { RunData } from '../data.ts';
import { bounded } from '../errors.ts';
import { type OptimizerState, optimizerStateProblem, type ParamGroup } from '../optim.ts';
import { type RunState, runStateProblem, type StateExpectations } from './state.ts';
import type { TrainRunOptions } from './types.ts';

/** What a checkpoint's state must agree with in a run of `cfg` on `data` (null for zero-shot: nothing to resume). */
export function stateExpectations(cfg: TrainConfig, data: RunData): StateExpectations | null {
  const n = data.train.size;
  if (cfg.mode === 'linear-probe') {
    const lp = cfg.linearProbe!;
    const evaluated = (k: number) => (k + 1) % lp.evalEvery === 0 || k + 1 === lp.epochs;
    return {
      epochs: lp.epochs,
      stepsPerEpoch: Math.floor(n / lp.batchSize),
      midEpoch: false,
      recorded: (epoch) => Array.from({ length: epoch }, (_, k) => k).filter(evaluated),
      optimizer: 'lars',
      groupKeys: [],
    };
  }
  if (cfg.mode !== 'finetune') return null;
  const { batchSize, dropLast, epochs } = cfg.training;
  const f = cfg.fairness;
  const groupKeys =
    f && f.groupSource === 'loaders'
      ? Object.entries(f.attributes)
          .filter(([, w]) => w > 0)
          .flatMap(([a]) =>
            (data.groupNames[a] ?? []).flatMap((_, g) =>
              data.train.groupIndices(a, g).length > 0 ? [`${a}:${g}`] : [],
            ),
          )
      : [];
  return {
    epochs,
    stepsPerEpoch: dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize),
    midEpoch: true,
    recorded: (epoch) => Array.from({ length: epoch }, (_, k) => k),
    optimizer: 'adam',
    groupKeys,
  };
}

/**
 * Checks the checkpoints preflight found against this run: refuses a folder holding another configuration's run
 * (CheckpointError), and marks the checkpoints whose state does not fit this run's configuration as unusable.
 */
export function screenCheckpoints(
  found: FoundCheckpoints<RunState>,
  hash: string,
  expect: StateExpectations | null,
  outDir: string,
): void {
  const first = found.entries.find((e) => e.candidate)?.candidate;
  const hashOf = (s: RunState) => (typeof s.configHash === 'string' ? bounded(s.configHash, 40) : 'none');
  if (first && first.state.configHash !== hash) {
    throw new CheckpointError(
      first.path,
      `${outDir} holds a run of another configuration (hash ${hashOf(first.state)}, this one ${hash}); ` +
        'use another output folder',
    );
  }
  for (const e of found.entries) {
    const c = e.candidate;
    if (!c) continue;
    let problem: string | null;
    if (!expect) problem = 'this mode does not resume';
    else if (c.state.configHash !== hash) problem = `it belongs to another configuration (hash ${hashOf(c.state)})`;
    else {
      problem = runStateProblem(c.state, c.optimizer, expect);
      if (problem) problem = `state.json does not fit this run: ${problem}`;
    }
    if (problem) {
      e.candidate = null;
      e.problem = problem;
    }
  }
}

/** Why the tensors of a checkpoint do not fit a model of `specs` (null when they do). */
export function modelTensorsProblem(
  tensors: ReadonlyMap<string, HostTensor>,
  specs: readonly { name: string; shape: readonly number[]; integer?: boolean }[],
  file: string,
): string | null {
  const byName = new Map(specs.map((s) => [s.name, s]));
  for (const name of tensors.keys())
    if (!byName.has(name)) return `${file} holds ${bounded(name)}, which the model does not have`;
  for (const spec of specs) {
    const t = tensors.get(spec.name);
    if (!t) {
      if (spec.integer) continue;
      return `${file} lacks ${spec.name}`;
    }
    const same = t.shape.length === spec.shape.length && t.shape.every((d, i) => d === spec.shape[i]);
    if (!same) return `${file}: ${spec.name} has shape [${t.shape.join(', ')}], the model [${spec.shape.join(', ')}]`;
    if (t.data instanceof Float32Array) {
      for (let i = 0; i < t.data.length; i++)
        if (!Number.isFinite(t.data[i]!)) return `${file}: ${spec.name} holds ${t.data[i]} at index ${i}`;
    } else if (!spec.integer) return `${file}: ${spec.name} is not float32`;
  }
  return null;
}

/** Why a checkpoint's optimizer state cannot be restored into `groups` ('optimizer state in <file> is corrupt: …'). */
export function optimizerProblem(
  ckpt: LoadedCheckpoint<RunState>,
  kind: OptimizerState['kind'],
  groups: readonly ParamGroup[],
): string | null {
  const file = join(ckpt.path, 'optimizer.safetensors');
  if (!ckpt.optimizer) return `the checkpoint has no optimizer state (${file})`;
  const p = optimizerStateProblem(ckpt.optimizer, kind, groups);
  return p ? `optimizer state in ${file} is corrupt: ${p}` : null;
}

/** One line to the run's warnings: the onWarning hook, else the progress stream, else stderr. */
export function warnFor(options: TrainRunOptions): (message: string) => void {
  const hook = options.hooks?.onWarning;
  if (hook) return hook;
  const p = options.progress;
  const stream = p && p !== true ? p : process.stderr;
  return (message) => void stream.write(`warning: ${message.replace(/\s+/g, ' ')}\n`);
}

/** Loads the newest usable checkpoint of `found` that `check` accepts (see loadCheckpoint), or null when none exist. */
export function resumeFrom(
  found: FoundCheckpoints<RunState> | null,
  options: TrainRunOptions,
  check: (c: LoadedCheckpoint<RunState>) => string | null,
): LoadedCheckpoint<RunState> | null {
  return found ? loadCheckpoint(found, { check, warn: warnFor(options) }) : null;
}
