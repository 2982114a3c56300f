/**
 * The run plan of a reproduce grid: one entry per run (preset, the app's and the user's overrides, seed, run folder,
 * configuration hash and the stamp of its inputs), written as JSON into <out>/executor/plan.json, so that any process
 * — a local child (`--jobs N`) or a Slurm array task — runs exactly one entry with `fairclip-reproduce --run-entry
 * <plan> <index>` (./worker.ts, on @fairclip/example-common's runSeeds: finished runs reused, interrupted ones resumed,
 * stale inputs moved aside). Each worker writes its status file (<out>/executor/status/<index>.json) when it starts and
 * when it ends: the marker that the output folder is visible where the run executes, and the run's outcome.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError, clip, clipPath, inputsStamp, readResult } from '@fairclip/example-common';
import { configHash, resolvePresetConfig, type TrainConfig } from '@fairclip/train';

export const PLAN_VERSION = 1;
/** The folder of the executors' files inside --out. */
export const EXECUTOR_DIR = 'executor';
/** The environment variable naming the file descriptor a parent reads progress bars from (local executor). */
export const PROGRESS_FD_ENV = 'FAIRCLIP_PROGRESS_FD';
/** The stamp file runSeeds writes into each run folder (examples/common). */
const STAMP_FILE = 'inputs-stamp.txt';

/** One run of the grid. */
export interface PlanEntry {
  index: number;
  /** The cell's key (report.ts cellKey), e.g. "a-fairclip/race". */
  cell: string;
  /** The cell's label, e.g. "A-FairCLIP [race]". */
  label: string;
  preset: string;
  seed: number;
  mode: TrainConfig['mode'];
  /** The app's overrides (data, model, embedded profile, the regularised attribute), before the user's. */
  overrides: string[];
  /** The user's --set overrides that apply to this preset. */
  userOverrides: string[];
  /** runSeeds' folder under --out, e.g. "runs/a-fairclip/race". */
  folder: string;
  /** The run folder (absolute): <out>/<folder>/seed-<seed>. */
  outDir: string;
  configHash: string;
  /** inputsStamp of the run's configuration when the plan was written. */
  stamp: string;
  /** Whether the worker also computes the study's Sinkhorn distances of the run's checkpoint. */
  distances: boolean;
}

export interface RunPlan {
  version: number;
  /** A hash of everything the runs depend on (entries and settings), not of when the plan was written. */
  id: string;
  /** Absolute --out. */
  out: string;
  /** The dataset root (absolute). */
  dataRoot: string;
  backend: string;
  allowSoftwareAdapter: boolean;
  quiet: boolean;
  entries: PlanEntry[];
}

/** One cell of the grid as the app resolved it. */
export interface PlanCell {
  key: string;
  label: string;
  preset: string;
  mode: TrainConfig['mode'];
  overrides: string[];
  userOverrides: string[];
  seeds: readonly number[];
  /** Whether its runs get the study's Sinkhorn distances. */
  distances: boolean;
}

export interface PlanInput {
  out: string;
  dataRoot: string;
  backend: string;
  allowSoftwareAdapter: boolean;
  quiet: boolean;
  cells: readonly PlanCell[];
}

/** The configuration runSeeds resolves for one seed of a cell (same overrides, same order). */
export function entryConfig(e: Pick<PlanEntry, 'preset' | 'overrides' | 'userOverrides' | 'seed'>): TrainConfig {
  return resolvePresetConfig(e.preset, [...e.overrides, ...e.userOverrides, `training.seed=${e.seed}`]);
}

/** The plan of a grid: one entry per cell and seed, in the app's order. */
export function buildPlan(input: PlanInput): RunPlan {
  const out = resolve(input.out);
  const stamps = new Map<string, string>(); // inputsStamp reads the data folder's listing: once per distinct inputs
  const entries: PlanEntry[] = [];
  for (const c of input.cells)
    for (const seed of c.seeds) {
      const base = { preset: c.preset, overrides: [...c.overrides], userOverrides: [...c.userOverrides], seed };
      const config = entryConfig(base);
      const inputsKey = JSON.stringify([config.model, config.data.path]);
      const stamp = stamps.get(inputsKey) ?? inputsStamp(config);
      stamps.set(inputsKey, stamp);
      entries.push({
        index: entries.length,
        cell: c.key,
        label: c.label,
        mode: c.mode,
        ...base,
        folder: join('runs', c.key),
        outDir: join(out, 'runs', c.key, `seed-${seed}`),
        configHash: configHash(config),
        stamp,
        distances: c.distances,
      });
    }
  const settings = {
    version: PLAN_VERSION,
    out,
    dataRoot: input.dataRoot,
    backend: input.backend,
    allowSoftwareAdapter: input.allowSoftwareAdapter,
    quiet: input.quiet,
    entries,
  };
  const id = createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 16);
  return { ...settings, id };
}

export const executorDir = (out: string): string => join(resolve(out), EXECUTOR_DIR);
export const planFile = (out: string): string => join(executorDir(out), 'plan.json');
export const statusFile = (out: string, index: number): string => join(executorDir(out), 'status', `${index}.json`);

/** Writes a file through a temporary one and a rename (readers on other nodes never see half a file). */
export function writeAtomic(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** Writes the plan to <out>/executor/plan.json and returns the file's path. */
export function writePlan(plan: RunPlan): string {
  const file = planFile(plan.out);
  writeAtomic(file, `${JSON.stringify(plan, null, 2)}\n`);
  return file;
}

/** Reads a plan file; a missing or malformed one is a CliError naming it. */
export function readPlan(file: string): RunPlan {
  const p = resolve(file);
  if (!existsSync(p))
    throw new CliError(
      `run plan not found: ${clipPath(p)} (on ${hostName()}); the output folder must be visible here: on a cluster, put --out on a filesystem the nodes share`,
      'CLI_PATH',
    );
  let plan: Partial<RunPlan> | null;
  try {
    plan = JSON.parse(readFileSync(p, 'utf8')) as Partial<RunPlan> | null;
  } catch (e) {
    throw new CliError(`${clipPath(p)} is not a run plan (${clip((e as Error).message)})`, 'CLI_PATH', { cause: e });
  }
  if (typeof plan !== 'object' || plan === null || plan.version !== PLAN_VERSION || !Array.isArray(plan.entries))
    throw new CliError(
      `${clipPath(p)} is not a run plan of this version (${PLAN_VERSION}); rerun the reproduce command to write it again`,
      'CLI_PATH',
    );
  return plan as RunPlan;
}

/** What a worker writes about its entry: when it starts (the marker) and when it ends. */
export interface EntryStatus {
  planId: string;
  index: number;
  state: 'running' | 'finished' | 'failed' | 'interrupted';
  host: string;
  pid: number;
  /** The Slurm array job id (SLURM_ARRAY_JOB_ID) when run by Slurm. */
  slurmJob: string | null;
  startedAt: string;
  endedAt: string | null;
  /** Exit code (failed: 2 for a user error, 1 for anything else; interrupted: 128 + signal). */
  code: number | null;
  /** The last error line (failed). */
  message: string | null;
  /** Whether the run was found finished (nothing recomputed). */
  reused: boolean | null;
  /** The worker's peak resident memory in MB (what --mem and the --jobs default must allow for). */
  maxRssMb: number | null;
}

export function readStatus(out: string, index: number): EntryStatus | null {
  const f = statusFile(out, index);
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as EntryStatus;
  } catch {
    return null; // absent (or being replaced)
  }
}

export function writeStatus(out: string, s: EntryStatus): void {
  writeAtomic(statusFile(out, s.index), `${JSON.stringify(s, null, 2)}\n`);
}

export function hostName(): string {
  return process.env.SLURMD_NODENAME ?? hostname();
}

/** Why an entry's run is not finished (null when it is): the reuse rule of runSeeds, checked without running it. */
export function unfinishedReason(
  e: PlanEntry,
  distancesFresh: (outDir: string, config: TrainConfig) => boolean,
): string | null {
  let result: ReturnType<typeof readResult>;
  try {
    result = readResult(e.outDir);
  } catch (err) {
    return clip((err as Error).message, 160);
  }
  if (result === null) return 'not started';
  const stampPath = join(e.outDir, STAMP_FILE);
  const stamp = existsSync(stampPath) ? readFileSync(stampPath, 'utf8') : null;
  if (stamp !== e.stamp) return 'made from other inputs (will be moved aside)';
  if (result.configHash !== e.configHash) return 'holds another configuration';
  if (result.status !== 'complete') return 'interrupted (resumes from its last checkpoint)';
  if (e.distances && !distancesFresh(e.outDir, result.config)) return 'distances not computed';
  return null;
}

/** "A-FairCLIP [race] seed 1": an entry as the progress lines name it. */
export const entryName = (e: PlanEntry): string => `${e.label} seed ${e.seed}`;

/** Whether this code runs from its TypeScript sources (tests) rather than the built app. */
export const fromSources = (): boolean => fileURLToPath(import.meta.url).endsWith('.ts');

/**
 * The command that runs one entry in a fresh process: the built app (dist/main.js, where this code is bundled; from
 * the sources, the package's dist/main.js: tests build it first). Plain Node cannot run the workspace's sources
 * (JSON presets, tfjs-core's gradient modules), so workers always run the built app.
 */
export function workerCommand(): string[] {
  const here = fileURLToPath(import.meta.url);
  const main = here.endsWith('.ts') ? join(dirname(here), '..', '..', 'dist', 'main.js') : here;
  if (!existsSync(main))
    throw new CliError(
      `the worker processes run the built app, and ${clipPath(main)} is missing; build it first (pnpm build)`,
      'CLI_PATH',
    );
  return [process.execPath, main];
}
