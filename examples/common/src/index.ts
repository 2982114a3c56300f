/**
 * Shared plumbing of the example apps (kept out of the libraries: apps pick backends and default paths, libraries
 * never do). Every app is: parse the common flags (parseRunArgs, ./cli.ts), check the user's paths before
 * any work, initCompute, run a preset once per seed (finished runs are reused, interrupted ones resume), aggregate.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIP_CONFIG_NAMES } from '@fairclip/clip';
import { type ComputeHandle, initCompute } from '@fairclip/compute';
import {
  EMBEDDED_FAIRFACE_OPTIONS,
  EMBEDDED_FAIRVLMED_OPTIONS,
  ensureStructuredFairVlmed,
  ensureSynthFairFace,
} from '@fairclip/datasets';
import { aggregateRuns, formatMeanStd, type RunSummary } from '@fairclip/fairness';
import { isFairclipError } from '@fairclip/io';
import {
  configHash,
  resolveModelFiles,
  resolvePresetConfig,
  runTraining,
  type SplitEval,
  type TrainConfig,
} from '@fairclip/train';
import { CliError, checkPath, clip, clipPath, type RunArgs } from './cli.ts';

/** The repository root (this file is examples/common/src/index.ts; bundled apps are examples/<app>/dist/cli.js). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The embedded synthetic Harvard-FairVLMed (48 / 16 / 32 samples). */
export const EMBEDDED_FAIRVLMED = join(REPO_ROOT, 'test-fixtures', 'data', 'fairvlmed-mini');
/** The embedded synthetic FairFace (its val labels serve as test labels, see the fairface app). */
export const EMBEDDED_FAIRFACE = join(REPO_ROOT, 'test-fixtures', 'data', 'fairface-mini');
/** The default tiny CLIP (model JSON naming its seeded weights and learned vocabulary). */
export const DEFAULT_MODEL = join(REPO_ROOT, 'test-fixtures', 'data', 'default-model', 'config.json');

/**
 * Where generated data is cached: $FAIRCLIP_CACHE_DIR, else $XDG_CACHE_HOME/fairclip-ts, else ~/.cache/fairclip-ts.
 */
export function fairclipCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FAIRCLIP_CACHE_DIR) return absolute(env.FAIRCLIP_CACHE_DIR);
  if (env.XDG_CACHE_HOME) return join(absolute(env.XDG_CACHE_HOME), 'fairclip-ts');
  return join(homedir(), '.cache', 'fairclip-ts');
}

/** The generated embedded default of a dataset: its folder, whether this call generated it, and in how long. */
export interface EmbeddedDefault {
  root: string;
  generated: boolean;
  seconds: number;
}

/**
 * The main job's embedded default data: the structured synthetic Harvard-FairVLMed (EMBEDDED_FAIRVLMED_OPTIONS) or
 * the synthetic FairFace (EMBEDDED_FAIRFACE_OPTIONS), generated at first use into the cache (deterministic in the
 * seed; the generator version is in the folder name) and reused afterwards. Reports the generation on stderr.
 */
export function embeddedDefault(
  dataset: 'fairvlmed' | 'fairface',
  io?: Io,
  cacheRoot = fairclipCacheRoot(),
): EmbeddedDefault {
  let r: { dir: string; generated: boolean; seconds: number };
  try {
    r =
      dataset === 'fairvlmed'
        ? ensureStructuredFairVlmed(cacheRoot, EMBEDDED_FAIRVLMED_OPTIONS)
        : ensureSynthFairFace(cacheRoot, EMBEDDED_FAIRFACE_OPTIONS);
  } catch (e) {
    throw new CliError(
      `cannot write the embedded default data into ${clipPath(cacheRoot)} (${clip((e as Error).message)}); set FAIRCLIP_CACHE_DIR to a writable folder`,
      'CLI_PATH',
    );
  }
  io?.stderr(
    r.generated
      ? `embedded default: generated ${clipPath(r.dir)} in ${r.seconds.toFixed(1)} s (first use)`
      : `embedded default: ${clipPath(r.dir)} (generated earlier)`,
  );
  return { root: r.dir, generated: r.generated, seconds: r.seconds };
}

export const LAYOUTS = {
  fairvlmed:
    'a Harvard-FairVLMed folder holding Training/, Validation/ and Test/ (data_XXXXX.npz files with slo_fundus, ' +
    'glaucoma, race, gender, ethnicity, language, ...) and data_summary.csv or gpt-4_summarized_notes.csv ' +
    '(the training texts), as released by FairCLIP',
  fairface:
    'a FairFace folder holding train/ and val/ (face crops) and fairface_label_train.csv, fairface_label_val.csv ' +
    'and fairface_label_test.csv (columns file, age, gender, race, service_test)',
  weights:
    'a CLIP weights file: .safetensors (OpenAI or Hugging Face parameter names, e.g. a best.safetensors written by ' +
    'the finetune app) or a PyTorch .pt/.pth state dict (e.g. FairCLIP released checkpoints)',
} as const;

/** What the apps print to (injectable so tests run the apps in-process). */
export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Where the progress bars go (default process.stderr); ignored with --quiet. */
  readonly progress?: { write(s: string): unknown; isTTY?: boolean };
}

export const processIo: Io = {
  stdout: (t) => process.stdout.write(`${t}\n`),
  stderr: (t) => process.stderr.write(`${t}\n`),
};

const absolute = (p: string) => (isAbsolute(p) ? p : resolve(p));

/** Checks a dataset folder (the given one or the embedded default) and returns its absolute path. */
export function checkDataset(data: string | null, dataset: 'fairvlmed' | 'fairface'): string {
  const root = absolute(data ?? (dataset === 'fairvlmed' ? EMBEDDED_FAIRVLMED : EMBEDDED_FAIRFACE));
  const layout = LAYOUTS[dataset];
  checkPath(root, 'dir', 'dataset folder', layout);
  const dirs = dataset === 'fairvlmed' ? ['Training', 'Validation', 'Test'] : ['train', 'val'];
  for (const d of dirs) checkPath(join(root, d), 'dir', `dataset split folder ${d}/`, layout);
  if (dataset === 'fairvlmed') {
    if (!['data_summary.csv', 'gpt-4_summarized_notes.csv'].some((f) => existsSync(join(root, f))))
      throw new CliError(
        `no data_summary.csv or gpt-4_summarized_notes.csv in ${clipPath(root)} (expected: ${layout})`,
        'CLI_PATH',
      );
  } else {
    for (const f of ['fairface_label_train.csv', 'fairface_label_val.csv', 'fairface_label_test.csv'])
      checkPath(join(root, f), 'file', `label file ${f}`, layout);
  }
  return root;
}

/** Checks a weights file and returns its absolute path. */
export function checkWeightsFile(file: string): string {
  const p = absolute(file);
  checkPath(p, 'file', 'weights file', LAYOUTS.weights);
  return p;
}

/** Parameter names and shapes of a safetensors file (reads only its header), or null for other formats. */
export function safetensorsShapes(file: string): Map<string, number[]> | null {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(8);
    if (readSync(fd, head, 0, 8, 0) < 8) return null;
    const n = Number(head.readBigUInt64LE(0));
    if (!(n > 1 && n < 100_000_000)) return null;
    const bytes = Buffer.alloc(8 + n);
    readSync(fd, bytes, 0, 8 + n, 0);
    if (bytes[8] !== 0x7b) return null; // '{': not safetensors
    let header: Record<string, { shape?: number[] }>;
    try {
      header = JSON.parse(bytes.subarray(8).toString('utf8'));
    } catch {
      return null;
    }
    return new Map(
      Object.entries(header).flatMap(([k, v]) => (k === '__metadata__' || !v.shape ? [] : [[k, v.shape]])),
    );
  } finally {
    closeSync(fd);
  }
}

/** Whether a weights file has exactly the parameters of the default tiny model (e.g. a best.safetensors of it). */
export function sameShapesAsDefaultModel(file: string): boolean {
  const mine = safetensorsShapes(file);
  const tiny = safetensorsShapes(join(DEFAULT_MODEL, '..', 'weights.safetensors'));
  if (mine === null || tiny === null || mine.size !== tiny.size) return false;
  for (const [k, shape] of tiny) if (mine.get(k)?.join(',') !== shape.join(',')) return false;
  return true;
}

/**
 * The model overrides of the common flags: no --weights (and no model.arch override) selects the default tiny model;
 * --weights FILE sets model.weights; the architecture stays the preset's (e.g. ViT-B/16) unless --arch is given or
 * the file holds exactly the default tiny model's parameters (a checkpoint of it), which selects the tiny model;
 * --vocab sets model.vocab.
 */
export function modelOverrides(args: RunArgs, weights: string | null = args.weights[0] ?? null): string[] {
  const out: string[] = [];
  const userArch = args.overrides.some((o) => o.startsWith('model.arch='));
  const file = weights === null ? null : checkWeightsFile(weights);
  if (!userArch && (file === null || sameShapesAsDefaultModel(file)))
    out.push(`model.arch=${JSON.stringify(DEFAULT_MODEL)}`);
  if (file !== null) out.push(`model.weights=${JSON.stringify(file)}`);
  if (args.vocab !== null) {
    const v = absolute(args.vocab);
    checkPath(v, 'file', 'vocabulary file', 'bpe_simple_vocab_16e6.txt.gz (OpenAI CLIP) or a BPE merges file');
    out.push(`model.vocab=${JSON.stringify(v)}`);
  }
  return out;
}

/** The data and model overrides of the common flags (data.path is set so that the data folder is in the hash). */
export function baseOverrides(args: RunArgs, dataset: 'fairvlmed' | 'fairface'): string[] {
  return [`data.path=${JSON.stringify(checkDataset(args.data, dataset))}`, ...modelOverrides(args)];
}

/** initCompute with the --backend and --allow-software-gpu flags. */
export function computeFor(args: RunArgs): Promise<ComputeHandle> {
  return initCompute({ backend: args.backend, allowSoftwareAdapter: args.allowSoftwareAdapter });
}

/** The part of a run's result.json the apps read. */
export interface RunResult {
  status: 'running' | 'complete';
  preset: string;
  configHash: string;
  seed: number;
  config: TrainConfig;
  selection: { criterion: string; epoch: number | null; value: number | null; optimistic: boolean };
  selected: { val: SplitEval | null; test: SplitEval | null } | null;
  epochs: { record: { epoch: number; trainLoss: number | null; terms: Record<string, number> } }[];
  steps: number;
  backend: { name: string };
}

export interface SeedRun {
  seed: number;
  outDir: string;
  config: TrainConfig;
  result: RunResult;
  /** True when a finished run of the same configuration was found and reused (nothing recomputed). */
  reused: boolean;
}

/** Reads the result.json of a run folder, or null when there is none (a damaged one is a CliError naming it). */
export function readResult(outDir: string): RunResult | null {
  const p = join(outDir, 'result.json');
  if (!existsSync(p)) return null;
  let r: unknown;
  try {
    r = JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    throw new CliError(
      `${clipPath(p)} is not valid JSON (${clip((e as Error).message)}); delete the run folder ${clipPath(outDir)} to rerun it`,
      'CLI_PATH',
      { cause: e },
    );
  }
  const o = r as Partial<RunResult> | null;
  if (typeof o !== 'object' || o === null || typeof o.status !== 'string' || typeof o.configHash !== 'string')
    throw new CliError(
      `${clipPath(p)} is not a run result (no status or configHash); delete the run folder ${clipPath(outDir)} to rerun it`,
      'CLI_PATH',
    );
  return o as RunResult;
}

const STAMP_FILE = 'inputs-stamp.txt';

/** Size and modification time of a file (what tells a replaced file at the same path). */
function fileStamp(file: string): { file: string; size: number; mtimeMs: number } {
  const st = statSync(file);
  return { file, size: st.size, mtimeMs: st.mtimeMs };
}

/**
 * A cheap fingerprint of a dataset folder: the names, sizes and modification times of its CSV files and of the
 * .npz / .csv / image files of its sub-folders (one level down: FairVLMed's Training/, Validation/, Test/; FairFace's
 * train/ and val/ hold images one level further, whose folder listing counts). No file is read.
 */
export function dataFingerprint(root: string): string {
  const h = createHash('sha256');
  const add = (dir: string, depth: number) => {
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of entries) {
      const p = join(dir, name);
      let st: ReturnType<typeof statSync>;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      const rel = relative(root, p);
      if (st.isDirectory()) {
        if (depth < 2) add(p, depth + 1);
        else h.update(`d ${rel} ${st.mtimeMs}\n`);
      } else if (/\.(csv|npz|npy|jpe?g|png)$/i.test(name)) h.update(`f ${rel} ${st.size} ${st.mtimeMs}\n`);
    }
  };
  add(root, 0);
  return h.digest('hex');
}

/**
 * What a run's outputs depend on besides its configuration: the weights file, the vocabulary and the model file
 * (size and modification time each; a replaced file at the same path changes the stamp) and the data folder
 * (dataFingerprint). Apps compare it with the stamp of a run folder before reusing or resuming anything there.
 */
export function inputsStamp(config: TrainConfig): string {
  const files = resolveModelFiles(config);
  const arch = config.model.arch;
  const archFile = (CLIP_CONFIG_NAMES as readonly string[]).includes(arch) ? null : absolute(arch);
  const stamp = {
    weights: files.weights === null ? null : fileStamp(files.weights),
    vocab: fileStamp(files.vocab),
    arch: archFile === null ? arch : fileStamp(archFile),
    data: config.data.path === null ? null : { path: config.data.path, files: dataFingerprint(config.data.path) },
  };
  return `${JSON.stringify(stamp)}\n`;
}

function readStamp(outDir: string): string | null {
  const p = join(outDir, STAMP_FILE);
  return existsSync(p) ? readFileSync(p, 'utf8') : null;
}

/** "20250102T030405Z": a UTC time for folder names. */
const utcStamp = (d = new Date()) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

/**
 * Moves a run folder made from other inputs aside (<dir>.stale-<UTC time>[-k]) and returns the new path; the folder
 * is kept, never deleted.
 */
export function moveAside(dir: string, now = new Date()): string {
  const base = `${dir}.stale-${utcStamp(now)}`;
  let target = base;
  for (let k = 2; existsSync(target); k++) target = `${base}-${k}`;
  renameSync(dir, target);
  return target;
}

export interface SeedsOptions {
  preset: string;
  args: RunArgs;
  /** App overrides (model, data), applied before the user's --set overrides. */
  overrides: readonly string[];
  compute: ComputeHandle;
  io: Io;
  /** Sub-folder of --out for this preset's runs (default: the preset name). */
  folder?: string;
}

/**
 * Runs a preset once per seed (--seeds; default the preset's seed) into <out>/<folder>/seed-<s>/. Each run folder
 * carries the stamp of its inputs (inputsStamp: weights, vocabulary, model file, data folder), written before the
 * run starts. A folder whose stamp differs (or that has contents but no stamp) holds work done on other inputs: it is
 * moved aside (<folder>.stale-<UTC time>, said on stderr) and the run starts afresh, so nothing is ever reused or
 * resumed across a change of input. With the same stamp, a finished run of the same configuration (same hash) is
 * reused and an interrupted one resumes from its last checkpoint (runTraining); a folder holding another
 * configuration is refused by runTraining.
 */
export async function runSeeds(o: SeedsOptions): Promise<SeedRun[]> {
  const base = [...o.overrides, ...o.args.overrides];
  const seeds = o.args.seeds.length > 0 ? o.args.seeds : [resolvePresetConfig(o.preset, base).training.seed];
  const runs: SeedRun[] = [];
  let stamp: string | null = null; // the same inputs for every seed: computed once
  for (const [k, seed] of seeds.entries()) {
    const config = resolvePresetConfig(o.preset, [...base, `training.seed=${seed}`]);
    const outDir = join(absolute(o.args.out), o.folder ?? o.preset, `seed-${seed}`);
    const hash = configHash(config);
    const label = `${o.preset} seed ${seed} (${k + 1}/${seeds.length})`;
    stamp ??= inputsStamp(config);
    if (existsSync(outDir) && readdirSync(outDir).length > 0 && readStamp(outDir) !== stamp) {
      const aside = moveAside(outDir);
      o.io.stderr(
        `${label}: ${outDir} was made from other inputs (weights, vocabulary, model or data changed); moved aside to ${aside}, starting afresh`,
      );
    }
    const found = readResult(outDir);
    if (found?.status === 'complete' && found.configHash === hash) {
      o.io.stderr(`${label}: finished run found in ${outDir}, reused`);
      runs.push({ seed, outDir, config, result: found, reused: true });
      continue;
    }
    o.io.stderr(`${label}: running into ${outDir}`);
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, STAMP_FILE), stamp);
    const run = await runTraining({
      config,
      outDir,
      compute: o.compute,
      progress: o.args.quiet ? false : (o.io.progress ?? true),
    });
    run.model?.dispose();
    const result = readResult(outDir);
    if (result === null) throw new Error(`${outDir}: the run finished without a result.json`);
    runs.push({ seed, outDir, config, result, reused: false });
  }
  return runs;
}

/** One attribute's test metrics over seeds. */
export interface AttributeSummary {
  attribute: string;
  auc: RunSummary;
  esAuc: RunSummary;
  dpd: RunSummary;
  deodds: RunSummary;
  esAcc: RunSummary;
  groups: { name: string; auc: RunSummary }[];
}

const mv = (v: number | null | undefined) =>
  v === null || v === undefined ? { value: null, code: 'UNDEFINED', reason: 'undefined in this run' } : v;

/** Mean ± std (ddof 1) over seeds of the selected epoch's test metrics, per evaluated attribute. */
export function summarizeSeeds(runs: readonly SeedRun[], split: 'test' | 'val' = 'test'): AttributeSummary[] {
  const evals = runs.map((r) => {
    const e = r.result.selected?.[split];
    if (!e) throw new Error(`${r.outDir}: result.json has no selected ${split} evaluation`);
    return e;
  });
  const first = evals[0];
  if (!first) return [];
  const agg = (f: (e: SplitEval) => number | null | undefined) =>
    aggregateRuns(evals.map((e) => mv(f(e)) as Parameters<typeof aggregateRuns>[0][number]));
  return first.attributes.map((a, i) => ({
    attribute: a.name,
    auc: agg((e) => e.auc),
    esAuc: agg((e) => e.attributes[i]?.esAuc),
    dpd: agg((e) => e.attributes[i]?.dpd),
    deodds: agg((e) => e.attributes[i]?.deodds),
    esAcc: agg((e) => e.attributes[i]?.esAcc),
    groups: a.groups.map((name, g) => ({ name, auc: agg((e) => e.attributes[i]?.groupAuc[g]) })),
  }));
}

export const METRIC_HEADER = ['Attribute', 'AUC', 'ES-AUC', 'DPD', 'DEOdds', 'ES-Acc', 'Group AUCs'] as const;

/** The rows of the README-style table (×100, "mean ± std" over seeds, "–" where undefined). */
export function summaryRows(summary: readonly AttributeSummary[]): string[][] {
  return summary.map((s) => [
    s.attribute,
    formatMeanStd(s.auc),
    formatMeanStd(s.esAuc),
    formatMeanStd(s.dpd),
    formatMeanStd(s.deodds),
    formatMeanStd(s.esAcc),
    s.groups.map((g) => `${g.name} ${formatMeanStd(g.auc)}`).join(', '),
  ]);
}

/** A Markdown table. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (r: readonly string[]) => `| ${r.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A plain-text table with aligned columns (first and last columns left-aligned). */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  return all
    .map((r) =>
      r
        .map((v, c) => (c === 0 || c === r.length - 1 ? v.padEnd(widths[c] ?? 0) : v.padStart(widths[c] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Operating-system error codes that are the user's to fix: what happened and what to do. */
const OS_PROBLEMS: Record<string, { what: string; fix: string }> = {
  ENOSPC: { what: 'no space left on the device', fix: 'free some space or choose another --out' },
  EDQUOT: { what: 'disk quota exceeded', fix: 'free some space or choose another --out' },
  EROFS: { what: 'the file system is read-only', fix: 'choose a writable --out' },
  EACCES: { what: 'permission denied', fix: 'choose a path you may write, or change its permissions' },
  EPERM: { what: 'operation not permitted', fix: 'choose another path, or change its permissions or attributes' },
  ENOTDIR: { what: 'a part of the path is a file, not a folder', fix: 'choose another path' },
  EEXIST: { what: 'exists and is not a folder', fix: 'remove it or choose another path' },
  EISDIR: { what: 'is a folder where a file was expected', fix: 'choose a file' },
  ENOENT: {
    what: 'not found (moved or deleted while the app ran?)',
    fix: 'restore it, or delete the run folder to start that run afresh',
  },
};

/** The paths an app was given (or defaulted to): an ENOENT at or under one of them is the user's to fix. */
export function userPaths(args: RunArgs): string[] {
  return [args.out, args.data, args.vocab, ...args.weights].filter((p): p is string => p !== null).map(absolute);
}

const under = (p: string, root: string) => p === root || p.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);

/** The one-line message of an operating-system error that is a user problem, or null (a bug: keep the stack). */
export function osProblem(e: unknown, paths: readonly string[] = []): string | null {
  const err = e as { code?: unknown; path?: unknown; dest?: unknown; syscall?: unknown } | null;
  if (typeof err !== 'object' || err === null || typeof err.code !== 'string') return null;
  const problem = OS_PROBLEMS[err.code];
  if (problem === undefined) return null;
  const path = typeof err.path === 'string' ? absolute(err.path) : null;
  const dest = typeof err.dest === 'string' ? absolute(err.dest) : null;
  if (err.code === 'ENOENT' && !(path !== null && paths.some((r) => under(path, r)))) return null;
  const where = [path, dest]
    .filter((p): p is string => p !== null)
    .map(clipPath)
    .join(' -> ');
  const op = typeof err.syscall === 'string' ? err.syscall : 'write';
  // a failed write names no path: say where the outputs go
  const out = paths[0];
  const context = where === '' && out !== undefined ? ` (the outputs go to ${clipPath(out)})` : '';
  return `cannot ${op}${where ? ` ${where}` : ''}: ${problem.what} (${err.code}); ${problem.fix}${context}`;
}

/** What runMain passes to an app's main function. */
export interface MainContext {
  /** Declares the user's paths (RunArgs), so that a file deleted under them mid-run is reported as a user problem. */
  watch(args: RunArgs): void;
}

/**
 * Runs an app's main function. Every user error prints one line "<app>: message" on stderr (no stack) and returns
 * exit code 2: any FairclipError (every package's errors, CliError included), and the operating-system errors that
 * are user problems (disk full, read-only file system, permissions, a file where a folder is expected, a path the
 * user gave that vanished: see osProblem), named with the path and the fix. Anything else is a bug: it propagates
 * with its stack.
 */
export async function runMain(app: string, io: Io, main: (ctx: MainContext) => Promise<number>): Promise<number> {
  const paths: string[] = [];
  const oneLine = (m: string) => `${app}: ${m.replace(/\s*\n\s*/g, ' ').trim()}`;
  try {
    return await main({ watch: (args) => paths.push(...userPaths(args)) });
  } catch (e) {
    if (isFairclipError(e)) {
      io.stderr(oneLine(e.message));
      return 2;
    }
    const os = osProblem(e, paths) ?? osProblem((e as { cause?: unknown } | null)?.cause, paths);
    if (os !== null) {
      io.stderr(oneLine(os));
      return 2;
    }
    throw e;
  }
}

const PSEUDO_FILE_SYSTEMS = ['/proc', '/sys', '/dev'];

/**
 * Checks an output folder before anything is created in it (Node's recursive mkdir spins forever under /proc):
 * walks up to the first existing ancestor, which must be a folder outside /proc, /sys and /dev, and writable
 * (a probe file is created there and removed). Returns the absolute path; throws a one-line CliError naming the
 * path, the problem and the fix.
 */
export function checkOutDir(out: string, flag = '--out'): string {
  const target = absolute(out);
  const bad = (what: string, fix = `choose another ${flag}`) =>
    new CliError(`${flag} ${clipPath(target)}: ${what}; ${fix}`, 'CLI_PATH');
  let p = target;
  let st: ReturnType<typeof statSync> | undefined;
  for (;;) {
    try {
      st = statSync(p);
      break;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        const problem = OS_PROBLEMS[code ?? ''];
        throw bad(`cannot inspect ${clipPath(p)}: ${problem?.what ?? clip((e as Error).message)}`);
      }
      const up = dirname(p);
      if (up === p) throw bad('no part of this path exists');
      p = up;
    }
  }
  let real = p;
  try {
    real = realpathSync(p);
  } catch {
    // keep p
  }
  const pseudo = PSEUDO_FILE_SYSTEMS.find((r) => under(real, r) || under(p, r));
  if (pseudo !== undefined) throw bad(`${pseudo} is a kernel pseudo-file system, not a place for outputs`);
  if (!st.isDirectory())
    throw bad(
      p === target ? 'is a file, not a folder' : `${clipPath(p)} is a file, not a folder`,
      `remove or rename it, or choose another ${flag}`,
    );
  const probe = join(p, `.fairclip-write-probe-${process.pid}-${Date.now()}`);
  try {
    closeSync(openSync(probe, 'wx'));
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    const problem = OS_PROBLEMS[code];
    throw bad(
      `cannot create files in ${clipPath(p)}: ${problem?.what ?? clip((e as Error).message)}${problem ? ` (${code})` : ''}`,
      problem?.fix.replace('--out', flag) ?? `choose another ${flag}`,
    );
  }
  unlinkSync(probe);
  return target;
}

/** Writes <out>/summary.md and <out>/summary.json (the table over seeds) and returns their paths. */
export function writeSummary(
  outDir: string,
  title: string,
  runs: readonly SeedRun[],
  summary: readonly AttributeSummary[],
  extra: readonly string[] = [],
): { markdown: string; json: string } {
  const dir = absolute(outDir);
  mkdirSync(dir, { recursive: true });
  const optimistic = runs.some((r) => r.result.selection.optimistic);
  const md = [
    `# ${title}`,
    '',
    `Test set, selected epoch of each run; values ×100, mean ± sample std (ddof 1) over ${runs.length} seed${runs.length === 1 ? '' : 's'}.`,
    '',
    markdownTable(METRIC_HEADER, summaryRows(summary)),
    '',
    ...(optimistic
      ? ['> **Optimistic:** epochs were selected on test AUC, as the official FairCLIP code does.', '']
      : []),
    '| seed | run folder | selected epoch | steps | backend | reused |',
    '| --- | --- | --- | --- | --- | --- |',
    ...runs.map(
      (r) =>
        `| ${r.seed} | ${r.outDir} | ${r.result.selection.epoch ?? '–'} | ${r.result.steps} | ${r.result.backend.name} | ${r.reused ? 'yes' : 'no'} |`,
    ),
    ...(extra.length ? ['', ...extra] : []),
    '',
  ].join('\n');
  const json = {
    title,
    split: 'test',
    runs: runs.map((r) => ({
      seed: r.seed,
      outDir: r.outDir,
      configHash: r.result.configHash,
      selectedEpoch: r.result.selection.epoch,
      reused: r.reused,
    })),
    attributes: summary,
  };
  const files = { markdown: join(dir, 'summary.md'), json: join(dir, 'summary.json') };
  writeFileSync(files.markdown, md);
  writeFileSync(files.json, `${JSON.stringify(json, null, 2)}\n`);
  return files;
}

/**
 * Removes an app-specific `--name VALUE` / `--name=VALUE` option from argv (before parseRunArgs, which refuses
 * unknown flags); returns its last value (or null) and the remaining arguments.
 */
export function takeOption(argv: readonly string[], name: string): { value: string | null; rest: string[] } {
  const rest: string[] = [];
  let value: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === name) {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new CliError(`${name} needs a value`);
      value = v;
      i++;
    } else if (a.startsWith(`${name}=`)) value = a.slice(name.length + 1);
    else rest.push(a);
  }
  return { value, rest };
}

/** A short unique label per checkpoint: the file name, prefixed by parent folders until the labels differ. */
export function checkpointLabels(files: readonly (string | null)[]): string[] {
  const parts = files.map((f) => (f === null ? ['default-tiny-model'] : absolute(f).split(/[\\/]/).filter(Boolean)));
  for (let depth = 1; ; depth++) {
    const labels = parts.map((p) =>
      p
        .slice(-depth)
        .join('/')
        .replace(/\.(safetensors|pth?|bin)$/, ''),
    );
    if (new Set(labels).size === labels.length || depth > 8) return labels;
  }
}
export * from './app.ts';
export * from './cli.ts';
export * from './distances.ts';
export * from './testing.ts';
