// Everything that can be checked before any training: the configuration, the dataset folder, the model files, the
// regularised attributes, the texts the linear probe needs, and a run already in the output folder.
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { CheckpointError, ensureDir, type FoundCheckpoints, findCheckpoints } from '../checkpoint.ts';
import { ConfigError, type TrainConfig, validateConfig } from '../config.ts';
import { ImageCache, openRunData, type RunData } from '../data.ts';
import { type ModelFiles, resolveModelFiles } from '../model.ts';
import { configHash } from '../outputs.ts';
import { screenCheckpoints, stateExpectations } from './resume.ts';
import type { RunState } from './state.ts';
import type { TrainRunOptions } from './types.ts';

/** What preflight found: the validated configuration, its hash, the opened data and a checkpoint to resume. */
export interface Preflight {
  cfg: TrainConfig;
  hash: string;
  outDir: string;
  ckptDir: string;
  root: string;
  files: ModelFiles;
  data: RunData;
  /**
   * The checkpoints of this configuration in outDir, newest first, those whose state does not fit this run marked
   * unusable (null: start afresh). The mode loads the newest usable one (run/resume.ts).
   */
  existing: FoundCheckpoints<RunState> | null;
}

function absPath(p: string, base: string): string {
  return isAbsolute(p) ? p : resolve(base, p);
}

function resolveDataRoot(cfg: TrainConfig, options: TrainRunOptions, baseDir: string): string {
  const p = cfg.data.path ?? options.dataRoot;
  if (p === undefined)
    throw new ConfigError(
      'data.path',
      'no dataset folder: set data.path (the apps default it to the embedded synthetic FairVLMed)',
    );
  const root = absPath(p, baseDir);
  if (!existsSync(root) || !statSync(root).isDirectory())
    throw new ConfigError('data.path', `dataset folder not found: ${root}`);
  return root;
}

/** Checks everything that can be checked without training. Throws ConfigError, CheckpointError, TrainError (IO) or RangeError. */
export function preflight(options: TrainRunOptions): Preflight {
  const cfg = validateConfig(options.config);
  const baseDir = options.baseDir ?? process.cwd();
  const outDir = absPath(options.outDir, baseDir);
  const hash = configHash(cfg);
  const root = resolveDataRoot(cfg, options, baseDir);
  const files = resolveModelFiles(cfg, baseDir);
  if (
    options.checkpointEverySteps !== undefined &&
    !(Number.isInteger(options.checkpointEverySteps) && options.checkpointEverySteps >= 0)
  )
    throw new RangeError(`checkpointEverySteps must be a non-negative integer, got ${options.checkpointEverySteps}`);
  const data = openRunData(cfg, root, {
    resolution: files.config.image_resolution,
    cache: options.imageCache ?? new ImageCache(),
  });
  const fairness = cfg.fairness;
  const activeAttributes = fairness
    ? Object.entries(fairness.attributes)
        .filter(([, w]) => w > 0)
        .map(([a]) => a)
    : [];
  for (const a of activeAttributes) {
    const known = (data.groupNames[a] ?? []).some((_, g) => data.train.groupIndices(a, g).length > 0);
    if (!known)
      throw new ConfigError(`fairness.attributes.${a}`, `no training sample of ${root} has a known '${a}' group`);
  }
  if (cfg.mode === 'linear-probe' && cfg.linearProbe?.features === 'multimodal')
    for (const s of [data.train, data.val, data.test])
      if (s.samples.some((x) => x.caption === undefined))
        throw new ConfigError('linearProbe.features', `'multimodal' needs a text for every ${s.split} sample`);
  const ckptDir = join(outDir, 'checkpoints');
  ensureDir(outDir);
  const existing = findCheckpoints<RunState>(ckptDir);
  if (existing) {
    if (options.resume === 'never')
      throw new CheckpointError(ckptDir, `${outDir} already holds a run; use another output folder`);
    screenCheckpoints(existing, hash, stateExpectations(cfg, data), outDir);
  }
  return { cfg, hash, outDir, ckptDir, root, files, data, existing };
}
