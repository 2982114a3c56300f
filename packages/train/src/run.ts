// The training and evaluation loop: every preset (zero-shot, fine-tuning with or without the fairness regulariser,
// linear probing) is a configuration of `runTraining`. Seeded and deterministic on the CPU backends, checkpointed
// every epoch (and optionally every N steps) so that a run killed at any moment resumes exactly where its last
// checkpoint stopped, with the same final weights as an uninterrupted run.
//
// Library code never picks a backend: call initCompute from @fairclip/compute first.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, isAbsolute, join, resolve } from 'node:path';
import {
  type ClipModel,
  clipToSafetensors,
  extractFeatures,
  type FeatureBatch,
  type HostTensor,
  TextTooLongError,
} from '@fairclip/clip';
import { mixSeed, Rng } from '@fairclip/datasets';
import type { FairnessReport } from '@fairclip/fairness';
import type { DivergenceInfo } from '@fairclip/ot';
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, readLatestCheckpoint, writeCheckpoint, writeFileAtomic } from './checkpoint.ts';
import { ConfigError, type TrainConfig, validateConfig } from './config.ts';
import { batchPlan, epochOrder, GroupSampler, ImageCache, openRunData, type RunData, type SplitData } from './data.ts';
import { distancePath, solvedGroupDistance, syncGroupDistance } from './distance.ts';
import { evaluateScores, type SplitResult, zeroShotSplitScores } from './evaluate.ts';
import { LinearProbeHead, trainLinearProbe } from './linear-probe.ts';
import { type LoadedModel, loadModel, paramGroups, resolveModelFiles } from './model.ts';
import { Adam } from './optim.ts';
import {
  configHash,
  type EpochRecord,
  joinCsv,
  markdownSummary,
  officialCsvHeader,
  officialCsvRow,
  type SplitEval,
} from './outputs.ts';
import { Progress } from './progress.ts';
import { type GroupPart, groupScoresFromLoaders, type HostBatch, scoresForDistance, stepLoss } from './step.ts';

export type TrainErrorCode = 'NON_FINITE_LOSS' | 'NO_CAPTION' | 'TEXT_TOO_LONG' | 'BAD_DATA';

/** A problem found while running (the configuration itself was valid). */
export class TrainError extends Error {
  readonly code: TrainErrorCode;
  constructor(code: TrainErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TrainError';
    this.code = code;
  }
}

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
}

export interface TrainRunOptions {
  /** A configuration (validated here again, so plain objects are fine), e.g. from resolveConfig(preset, overrides). */
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

interface Accumulator {
  count: number;
  sums: Record<string, number>;
  counts: Record<string, number>;
  seconds: number;
}

interface RunState {
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

const PACKAGES = ['train', 'clip', 'ot', 'datasets', 'fairness', 'compute'] as const;

/** Versions of the @fairclip packages and tfjs-core, as installed. */
export function packageVersions(): Record<string, string> {
  const out: Record<string, string> = { 'tfjs-core': tf.version_core };
  const req = createRequire(import.meta.url);
  for (const p of PACKAGES) {
    try {
      out[`@fairclip/${p}`] = (
        JSON.parse(readFileSync(req.resolve(`@fairclip/${p}/package.json`), 'utf8')) as {
          version: string;
        }
      ).version;
    } catch {
      out[`@fairclip/${p}`] = 'unknown';
    }
  }
  return out;
}

function absPath(p: string, base: string): string {
  return isAbsolute(p) ? p : resolve(base, p);
}

/** Everything that can be checked without training: data, model files, attributes. Throws ConfigError. */
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

function tokenizeCaptions(loaded: LoadedModel, split: SplitData, context: number): Int32Array {
  const texts = split.samples.map((s, i) => {
    if (s.caption === undefined)
      throw new TrainError('NO_CAPTION', `${split.split} sample ${i} (${s.file}) has no training text`);
    return s.caption;
  });
  try {
    return loaded.tokenizer.tokenize(texts, { contextLength: context }).data;
  } catch (e) {
    if (e instanceof TextTooLongError) {
      const s = split.samples[e.index];
      throw new TrainError(
        'TEXT_TOO_LONG',
        `${split.split} sample ${e.index} (${s?.file}): its text needs ${e.tokenCount} tokens, the context is ${context}`,
        { cause: e },
      );
    }
    throw e;
  }
}

async function hostBatch(
  split: SplitData,
  indices: readonly number[],
  tokens: Int32Array,
  model: ClipModel,
): Promise<HostBatch> {
  const r = model.config.image_resolution;
  const l = model.config.context_length;
  const per = 3 * r * r;
  const images = new Float32Array(indices.length * per);
  const rows = new Int32Array(indices.length * l);
  const loaded = await Promise.all(indices.map((i) => split.image(i)));
  loaded.forEach((img, k) => {
    if (img.length !== per)
      throw new TrainError(
        'BAD_DATA',
        `image of ${split.samples[indices[k]!]!.file} has ${img.length} values, expected ${per}`,
      );
    images.set(img, k * per);
    const i = indices[k]!;
    rows.set(tokens.subarray(i * l, (i + 1) * l), k * l);
  });
  return { images, tokens: rows, n: indices.length };
}

function emptyAcc(): Accumulator {
  return { count: 0, sums: {}, counts: {}, seconds: 0 };
}

function addTerms(acc: Accumulator, terms: Record<string, number>): void {
  acc.count++;
  for (const [k, v] of Object.entries(terms)) {
    acc.sums[k] = (acc.sums[k] ?? 0) + v;
    acc.counts[k] = (acc.counts[k] ?? 0) + 1;
  }
}

function meanTerms(acc: Accumulator): Record<string, number> {
  return Object.fromEntries(Object.entries(acc.sums).map(([k, v]) => [k, v / acc.counts[k]!]));
}

/** The selection criterion of an epoch (val or test AUC), null when undefined. */
function criterion(cfg: TrainConfig, e: EpochRecord): number | null {
  const ev = cfg.eval.selection === 'test-auc' ? e.test : e.val;
  return ev?.auc ?? null;
}

function csvText(rows: string[][], header: string[]): string {
  return `${[joinCsv(header), ...rows.map(joinCsv)].join('\n')}\n`;
}

/**
 * Runs a configuration end to end: checks everything that can be checked before training (configuration, data,
 * model files, attributes), resumes a checkpoint of the same configuration found in `outDir`, trains, evaluates
 * val and test every epoch, selects the epoch, and writes the outputs (see README "Outputs").
 */
export async function runTraining(options: TrainRunOptions): Promise<TrainRunResult> {
  const cfg = validateConfig(options.config);
  const baseDir = options.baseDir ?? process.cwd();
  const outDir = absPath(options.outDir, baseDir);
  const signal = options.signal;
  const hash = configHash(cfg);
  // ---- everything checkable before training
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
  mkdirSync(outDir, { recursive: true });
  const existing = readLatestCheckpoint<RunState>(ckptDir);
  if (existing) {
    if (options.resume === 'never')
      throw new CheckpointError(existing.path, `${outDir} already holds a run; use another output folder`);
    if (existing.state.configHash !== hash)
      throw new CheckpointError(
        existing.path,
        `${outDir} holds a run of another configuration (hash ${existing.state.configHash}, this one ${hash}); ` +
          'use another output folder',
      );
  }
  const loaded = await loadModel(files, cfg.training.seed);
  const { model } = loaded;
  try {
    const ctx: RunContext = { cfg, hash, outDir, ckptDir, data, loaded, options, signal, root, started: Date.now() };
    if (cfg.mode === 'linear-probe') {
      const r = await runLinearProbe(ctx, existing);
      model.dispose();
      return r;
    }
    return await runFinetune(ctx, existing);
  } catch (e) {
    model.dispose();
    throw e;
  }
}

interface RunContext {
  cfg: TrainConfig;
  hash: string;
  outDir: string;
  ckptDir: string;
  data: RunData;
  loaded: LoadedModel;
  options: TrainRunOptions;
  signal: AbortSignal | undefined;
  root: string;
  started: number;
}

function promptTokens(ctx: RunContext): { data: Int32Array; shape: [number, number] } {
  const l = ctx.loaded.model.config.context_length;
  return { data: ctx.loaded.tokenizer.tokenize(ctx.cfg.eval.prompts, { contextLength: l }).data, shape: [2, l] };
}

/** The state of a run that starts from scratch. */
function freshState(ctx: RunContext): RunState {
  return {
    configHash: ctx.hash,
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

interface SplitsEvaluation {
  val: SplitResult;
  test: SplitResult;
  /** The test set's per-sample scores (probability of the positive class), for scores_test.csv. */
  testScores: Float64Array;
}

async function evaluateSplits(
  ctx: RunContext,
  scoresOf: (s: SplitData) => Promise<Float64Array>,
): Promise<SplitsEvaluation> {
  const val = evaluateScores(await scoresOf(ctx.data.val), ctx.data.val, ctx.cfg.eval, ctx.data.groupNames);
  const testScores = await scoresOf(ctx.data.test);
  const test = evaluateScores(testScores, ctx.data.test, ctx.cfg.eval, ctx.data.groupNames);
  return { val, test, testScores };
}

/** The per-sample test scores of the selected epoch: file, label, score and the group id of every attribute. */
export const SCORES_FILE = 'scores_test.csv';

function scoresCsv(ctx: RunContext, epoch: number, scores: Float64Array): string {
  const attrs = ctx.cfg.eval.attributes;
  const rows = ctx.data.test.samples.map((s, i) => [
    String(epoch),
    basename(s.file),
    String(s.label),
    String(scores[i]),
    ...attrs.map((a) => String(s.groups[a] ?? -1)),
  ]);
  return csvText(rows, ['epoch', 'file', 'label', 'score', ...attrs]);
}

/**
 * Records an evaluated epoch (both training modes): appends it to the history and, when it improves the selection
 * criterion, makes it the selected epoch, writes its test scores and calls `onBest` (fine-tuning writes
 * best.safetensors there).
 */
async function recordEpoch(
  ctx: RunContext,
  state: RunState,
  fields: { epoch: number; seconds: number; ev: SplitsEvaluation | null },
  onBest?: () => Promise<void>,
): Promise<EpochRecord> {
  const { epoch, ev } = fields;
  const acc = state.acc;
  const record: EpochRecord = {
    epoch,
    trainLoss: acc.count ? acc.sums.loss! / acc.counts.loss! : null,
    terms: meanTerms(acc),
    val: ev?.val.eval ?? null,
    test: ev?.test.eval ?? null,
    seconds: fields.seconds,
  };
  state.history.push({ record, valReport: ev?.val.report ?? null, testReport: ev?.test.report ?? null });
  const c = criterion(ctx.cfg, record);
  if (ev && c !== null && (state.best === null || c > state.best.value)) {
    state.best = { epoch, value: c };
    writeFileAtomic(join(ctx.outDir, SCORES_FILE), scoresCsv(ctx, epoch, ev.testScores));
    await onBest?.();
  }
  return record;
}

function progressFor(ctx: RunContext, total: number): Progress {
  const p = ctx.options.progress ?? false;
  return new Progress({
    label: ctx.cfg.preset,
    total,
    unit: 'samples',
    silent: p === false,
    ...(p === true || p === false ? {} : { stream: p }),
  });
}

/** The (attribute, group) terms of the regulariser: attributes in configuration order, groups ascending. */
function distanceColumns(ctx: RunContext): { attribute: string; group: number; name: string }[] {
  const f = ctx.cfg.fairness;
  if (!f) return [];
  return Object.entries(f.attributes)
    .filter(([, w]) => w > 0)
    .flatMap(([a]) =>
      (ctx.data.groupNames[a] ?? []).flatMap((name, g) =>
        ctx.data.train.groupIndices(a, g).length > 0 ? [{ attribute: a, group: g, name: `dist/${a}/${name}` }] : [],
      ),
    );
}

// ------------------------------------------------------------------------------------------------- fine-tuning

async function runFinetune(
  ctx: RunContext,
  existing: ReturnType<typeof readLatestCheckpoint<RunState>>,
): Promise<TrainRunResult> {
  const { cfg, data, signal } = ctx;
  const { model } = ctx.loaded;
  const fairness = cfg.fairness;
  const l = model.config.context_length;
  const prompts = promptTokens(ctx);
  const finetune = cfg.mode === 'finetune';
  const trainTokens = finetune ? tokenizeCaptions(ctx.loaded, data.train, l) : new Int32Array(0);
  const columns = distanceColumns(ctx);
  const groupSource = fairness?.groupSource ?? 'loaders';
  const samplers =
    finetune && fairness && groupSource === 'loaders'
      ? columns.map(
          (c) =>
            new GroupSampler(
              c.attribute,
              c.group,
              data.train.groupIndices(c.attribute, c.group),
              fairness.groupBatchSize,
              cfg.training.seed,
              data.stream(c.attribute, c.group),
            ),
        )
      : [];
  const groups = finetune ? paramGroups(model, cfg.optim.trainable) : [];
  const optimizer = finetune
    ? new Adam(groups, {
        lr: cfg.optim.lr,
        betas: cfg.optim.betas,
        eps: cfg.optim.eps,
        weightDecay: cfg.optim.weightDecay,
      })
    : null;
  const trainVars = groups.flatMap((g) => [...g.params]);
  let state = freshState(ctx);
  let resumedFromStep: number | null = null;
  if (existing) {
    model.loadStateDict(existing.model, { source: join(existing.path, 'model.safetensors') });
    if (optimizer) {
      if (!existing.optimizer) throw new CheckpointError(existing.path, 'no optimizer state');
      optimizer.loadState(existing.optimizer);
    }
    state = existing.state;
    resumedFromStep = state.globalStep;
  }
  for (const s of samplers) s.drawn = state.groupDrawn[`${s.attribute}:${s.group}`] ?? 0;
  const epochs = finetune ? cfg.training.epochs : 1;
  const plans = (epoch: number) =>
    batchPlan(epochOrder(data.train.size, cfg.training.seed, epoch), cfg.training.batchSize, cfg.training.dropLast);
  const stepsPerEpoch = finetune ? plans(0).length : 0;
  if (finetune && stepsPerEpoch === 0)
    throw new ConfigError(
      'training.batchSize',
      `${data.train.size} training samples make no batch of ${cfg.training.batchSize} with dropLast`,
    );
  const progress = progressFor(ctx, Math.max(0, epochs * stepsPerEpoch - state.globalStep));
  const path = distancePath(ctx.options.distancePath);
  const infos: DivergenceInfo[] = [];
  const onInfo = (i: DivergenceInfo[]) => {
    infos.splice(0, infos.length, ...i);
  };
  const checkpoint = async (name: string) => {
    state.groupDrawn = Object.fromEntries(samplers.map((s) => [`${s.attribute}:${s.group}`, s.drawn]));
    state.dataOrder = {
      seed: cfg.training.seed,
      epoch: state.epoch,
      stepInEpoch: state.stepInEpoch,
      groups: samplers.map((s) => ({
        attribute: s.attribute,
        group: s.group,
        stream: s.stream,
        size: s.indices.length,
        drawn: s.drawn,
      })),
    };
    const sd = await model.stateDict();
    writeCheckpoint(ctx.ckptDir, name, {
      state,
      model: sd,
      optimizer: optimizer ? await optimizer.state() : null,
      modelMetadata: { config: JSON.stringify(model.config), configHash: ctx.hash },
    });
  };
  try {
    for (let epoch = state.epoch; epoch < epochs; epoch++) {
      const plan = finetune ? plans(epoch) : [];
      for (let s = state.stepInEpoch; s < plan.length; s++) {
        signal?.throwIfAborted();
        const t0 = performance.now();
        const batchIdx = plan[s]!;
        const batch = await hostBatch(data.train, batchIdx, trainTokens, model);
        let parts: GroupPart[] = [];
        let groupBatch: HostBatch | null = null;
        if (fairness && groupSource === 'loaders') {
          const idx: number[] = [];
          parts = samplers.map((sm) => {
            const b = sm.next();
            const positions = b.map((_, k) => idx.length + k);
            idx.push(...b);
            return { attribute: sm.attribute, group: sm.group, positions };
          });
          groupBatch = await hostBatch(data.train, idx, trainTokens, model);
        } else if (fairness) {
          parts = columns.flatMap((c) => {
            const positions = batchIdx.flatMap((i, k) =>
              data.train.samples[i]!.groups[c.attribute] === c.group ? [k] : [],
            );
            return positions.length ? [{ attribute: c.attribute, group: c.group, positions }] : [];
          });
        }
        const groupScores = groupBatch ? groupScoresFromLoaders(model, groupBatch, parts, fairness!) : null;
        let distance = syncGroupDistance(fairness?.distance ?? DUMMY_DISTANCE, onInfo);
        if (fairness && parts.length && path === 'two-phase') {
          const pre = scoresForDistance(model, batch, fairness, parts, groupScores);
          try {
            distance = await solvedGroupDistance(pre.x, pre.groups, fairness.distance, onInfo);
          } finally {
            tf.dispose([pre.x, ...(groupScores ? [] : pre.groups)]);
          }
        }
        let kept: tf.Tensor[] = [];
        const { value, grads } = tf.variableGrads(() => {
          const t = stepLoss(model, batch, fairness, parts, groupScores, distance);
          kept = [tf.keep(t.clip), tf.keep(t.penalty), tf.keep(t.distances)];
          return t.total;
        }, trainVars);
        const [lossArr, clipArr, penArr, distArr] = await Promise.all([value.data(), ...kept.map((k) => k.data())]);
        const loss = lossArr![0]!;
        if (!Number.isFinite(loss)) {
          tf.dispose([value, ...Object.values(grads), ...kept, ...(groupScores ?? [])]);
          throw new TrainError(
            'NON_FINITE_LOSS',
            `epoch ${epoch} step ${s}: the loss is ${loss} (clip ${clipArr![0]}, fairness ${penArr![0]}); ` +
              'the last checkpoint is intact. Check λ, the normalisation (a group-score sum near 0 divides by 0) and the learning rate',
          );
        }
        optimizer!.applyGradients(grads);
        tf.dispose([value, ...Object.values(grads), ...kept, ...(groupScores ?? [])]);
        const terms: Record<string, number> = { clip: clipArr![0]!, fairness: penArr![0]! };
        const distances: (number | null)[] = columns.map(() => null);
        parts.forEach((p, k) => {
          const col = columns.findIndex((c) => c.attribute === p.attribute && c.group === p.group);
          const v = distArr![k]!;
          distances[col] = v;
          terms[columns[col]!.name] = v;
        });
        const seconds = (performance.now() - t0) / 1000;
        addTerms(state.acc, { loss, ...terms });
        state.acc.seconds += seconds;
        state.globalStep++;
        state.stepInEpoch = s + 1;
        state.steps.push({
          epoch,
          step: s,
          globalStep: state.globalStep,
          samples: batchIdx.length,
          loss,
          clip: terms.clip!,
          fairness: terms.fairness!,
          distances,
        });
        progress.tick(1, { epoch, loss, clip: terms.clip!, fair: terms.fairness! }, batchIdx.length);
        await ctx.options.hooks?.onStep?.({
          epoch,
          step: s,
          globalStep: state.globalStep,
          samples: batchIdx.length,
          loss,
          terms,
        });
        const every = ctx.options.checkpointEverySteps ?? 0;
        if (every > 0 && state.globalStep % every === 0 && s + 1 < plan.length)
          await checkpoint(`step-${String(state.globalStep).padStart(8, '0')}`);
      }
      // ---- evaluation of the epoch (every eval.every epochs and after the last)
      signal?.throwIfAborted();
      const t0 = performance.now();
      const evaluate = (epoch + 1) % cfg.eval.every === 0 || epoch + 1 === epochs;
      const ev = evaluate
        ? await evaluateSplits(ctx, (sp) => zeroShotSplitScores(model, sp, prompts, cfg.eval.batchSize, signal))
        : null;
      const record = await recordEpoch(
        ctx,
        state,
        { epoch, ev, seconds: state.acc.seconds + (performance.now() - t0) / 1000 },
        finetune
          ? async () =>
              writeFileAtomic(
                join(ctx.outDir, 'best.safetensors'),
                await clipToSafetensors(model, { metadata: { epoch: String(epoch), configHash: ctx.hash } }),
              )
          : undefined,
      );
      state.epoch = epoch + 1;
      state.stepInEpoch = 0;
      state.acc = emptyAcc();
      if (finetune) await checkpoint(`epoch-${String(epoch).padStart(4, '0')}`);
      writeOutputs(ctx, state, 'running', resumedFromStep);
      await ctx.options.hooks?.onEpoch?.(record);
    }
  } finally {
    optimizer?.dispose();
  }
  progress.finish();
  const filesOut = writeOutputs(ctx, state, 'complete', resumedFromStep);
  return {
    outDir: ctx.outDir,
    configHash: ctx.hash,
    config: cfg,
    epochs: state.history.map((h) => h.record),
    selectedEpoch: state.best?.epoch ?? null,
    resumedFromStep,
    files: filesOut,
    model,
  };
}

const DUMMY_DISTANCE = {
  loss: 'sinkhorn',
  p: 2,
  blur: 0.05,
  scaling: 0.5,
  diameter: null,
  debias: true,
  solver: 'auto',
} as const;

// ------------------------------------------------------------------------------------------------- linear probing

async function splitFeatures(ctx: RunContext, split: SplitData): Promise<Float32Array> {
  const { model } = ctx.loaded;
  const lp = ctx.cfg.linearProbe!;
  const r = model.config.image_resolution;
  const l = model.config.context_length;
  const per = 3 * r * r;
  const bs = ctx.cfg.eval.batchSize;
  const multimodal = lp.features === 'multimodal';
  const tokens = multimodal ? tokenizeCaptions(ctx.loaded, split, l) : null;
  async function* batches(): AsyncGenerator<FeatureBatch> {
    for (let start = 0; start < split.size; start += bs) {
      ctx.signal?.throwIfAborted();
      const n = Math.min(bs, split.size - start);
      const images = new Float32Array(n * per);
      // The official linear probe evaluates with Resize((224, 224)); features are extracted once (no augmentation).
      const imgs = await Promise.all(Array.from({ length: n }, (_, k) => split.image(start + k, 'square')));
      imgs.forEach((im, k) => images.set(im, k * per));
      const t = tf.tensor4d(images, [n, 3, r, r]);
      try {
        yield tokens
          ? { images: t, tokens: { data: tokens.subarray(start * l, (start + n) * l), shape: [n, l] } }
          : { images: t };
      } finally {
        t.dispose();
      }
    }
  }
  const f = await extractFeatures(model, batches(), { mode: multimodal ? 'image+text' : 'image' });
  return f.data;
}

async function runLinearProbe(
  ctx: RunContext,
  existing: ReturnType<typeof readLatestCheckpoint<RunState>>,
): Promise<TrainRunResult> {
  const { cfg, data } = ctx;
  const lp = cfg.linearProbe!;
  const { model } = ctx.loaded;
  const dim = model.config.embed_dim * (lp.features === 'multimodal' ? 2 : 1);
  const [trainF, valF, testF] = [
    await splitFeatures(ctx, data.train),
    await splitFeatures(ctx, data.val),
    await splitFeatures(ctx, data.test),
  ];
  const rng = new Rng(mixSeed(cfg.training.seed, 0x11e4));
  const head = new LinearProbeHead(dim, { random: () => rng.next() });
  let state = freshState(ctx);
  let resumedFromStep: number | null = null;
  if (existing) {
    state = existing.state;
    const w = existing.model.get('head.weight');
    const b = existing.model.get('head.bias');
    if (!w || !b || !state.probe) throw new CheckpointError(existing.path, 'not a linear-probe checkpoint');
    tf.tidy(() => {
      head.weight.assign(tf.tensor(w.data as Float32Array, w.shape as number[]));
      head.bias.assign(tf.tensor(b.data as Float32Array, b.shape as number[]));
    });
    head.runningMean = Float64Array.from(state.probe.runningMean);
    head.runningVar = Float64Array.from(state.probe.runningVar);
    resumedFromStep = state.globalStep;
  }
  const labels = Uint8Array.from(data.train.samples, (s) => s.label);
  const itersPerEpoch = Math.floor(data.train.size / lp.batchSize);
  if (itersPerEpoch === 0)
    throw new ConfigError(
      'linearProbe.batchSize',
      `${data.train.size} training samples make no batch of ${lp.batchSize} (the linear probe drops the last partial batch)`,
    );
  const progress = progressFor(ctx, Math.max(0, lp.epochs * itersPerEpoch - state.globalStep));
  const headScores = async (f: Float32Array, n: number) => Float64Array.from(await head.scores(f, n));
  try {
    if (state.epoch < lp.epochs)
      await trainLinearProbe(head, trainF, labels, {
        epochs: lp.epochs,
        batchSize: lp.batchSize,
        blr: lp.blr,
        minLr: lp.minLr,
        warmupEpochs: lp.warmupEpochs,
        weightDecay: lp.weightDecay,
        dropLast: true,
        order: (e) => epochOrder(data.train.size, cfg.training.seed, e),
        startEpoch: state.epoch,
        ...(existing?.optimizer ? { optimizerState: existing.optimizer } : {}),
        onStep: ({ epoch, loss, lr }) => {
          ctx.signal?.throwIfAborted();
          state.globalStep++;
          addTerms(state.acc, { loss });
          state.steps.push({
            epoch,
            step: state.globalStep - 1 - epoch * itersPerEpoch,
            globalStep: state.globalStep,
            samples: lp.batchSize,
            loss,
            clip: Number.NaN,
            fairness: 0,
            distances: [],
          });
          progress.tick(1, { epoch, loss, lr }, lp.batchSize);
          void ctx.options.hooks?.onStep?.({
            epoch,
            step: state.globalStep - 1 - epoch * itersPerEpoch,
            globalStep: state.globalStep,
            samples: lp.batchSize,
            loss,
            terms: { lr },
          });
        },
        onEpoch: async (epoch, { optimizerState }) => {
          const last = epoch + 1 === lp.epochs;
          if ((epoch + 1) % lp.evalEvery !== 0 && !last) return;
          const ev = await evaluateSplits(ctx, async (sp) =>
            headScores(sp === data.val ? valF : sp === data.test ? testF : trainF, sp.size),
          );
          const record = await recordEpoch(ctx, state, { epoch, ev, seconds: state.acc.seconds });
          state.epoch = epoch + 1;
          state.acc = emptyAcc();
          state.probe = { runningMean: Array.from(head.runningMean), runningVar: Array.from(head.runningVar) };
          const [w, b] = await Promise.all([head.weight.data(), head.bias.data()]);
          const tensors = new Map<string, HostTensor>([
            ['head.weight', { shape: [...head.weight.shape], data: new Float32Array(w as Float32Array) }],
            ['head.bias', { shape: [...head.bias.shape], data: new Float32Array(b as Float32Array) }],
          ]);
          writeCheckpoint(ctx.ckptDir, `epoch-${String(epoch).padStart(5, '0')}`, {
            state,
            model: tensors,
            optimizer: await optimizerState(),
            modelMetadata: { configHash: ctx.hash },
          });
          writeOutputs(ctx, state, 'running', resumedFromStep);
          await ctx.options.hooks?.onEpoch?.(record);
        },
      });
  } finally {
    head.dispose();
  }
  progress.finish();
  const filesOut = writeOutputs(ctx, state, 'complete', resumedFromStep);
  return {
    outDir: ctx.outDir,
    configHash: ctx.hash,
    config: cfg,
    epochs: state.history.map((h) => h.record),
    selectedEpoch: state.best?.epoch ?? null,
    resumedFromStep,
    files: filesOut,
    model: null,
  };
}

// ------------------------------------------------------------------------------------------------- outputs

function writeOutputs(
  ctx: RunContext,
  state: RunState,
  status: 'running' | 'complete',
  resumedFromStep: number | null,
): TrainRunResult['files'] {
  const { cfg, data, outDir } = ctx;
  const files = {
    testCsv: join(outDir, 'epochs_test.csv'),
    valCsv: join(outDir, 'epochs_val.csv'),
    stepsCsv: join(outDir, 'steps.csv'),
    testScores: join(outDir, SCORES_FILE),
    result: join(outDir, 'result.json'),
    summary: join(outDir, 'summary.md'),
    checkpoints: ctx.ckptDir,
  };
  const groupsPer = cfg.eval.attributes.map((a) => (data.groupNames[a] ?? []).length);
  const header = officialCsvHeader(groupsPer);
  const rowsOf = (which: 'val' | 'test') =>
    state.history.flatMap((h) => {
      const ev = h.record[which];
      return ev ? [officialCsvRow(h.record.epoch, ev, outDir)] : [];
    });
  writeFileAtomic(files.testCsv, csvText(rowsOf('test'), header));
  writeFileAtomic(files.valCsv, csvText(rowsOf('val'), header));
  const columns = distanceColumns(ctx);
  const fmt = (v: number | null) => (v === null || !Number.isFinite(v) ? 'nan' : String(v));
  writeFileAtomic(
    files.stepsCsv,
    csvText(
      state.steps.map((r) => [
        String(r.epoch),
        String(r.step),
        String(r.globalStep),
        String(r.samples),
        fmt(r.loss),
        fmt(r.clip),
        fmt(r.fairness),
        ...r.distances.map(fmt),
      ]),
      ['epoch', 'step', 'global_step', 'samples', 'loss', 'clip', 'fairness', ...columns.map((c) => c.name)],
    ),
  );
  const selected =
    state.best === null ? null : (state.history.find((h) => h.record.epoch === state.best!.epoch) ?? null);
  const optimistic = cfg.eval.selection === 'test-auc' && cfg.mode !== 'zeroshot';
  const notes: string[] = [];
  if (optimistic)
    notes.push(
      'epoch selected on TEST AUC as the official FairCLIP code does: the selected test metrics are optimistic',
    );
  if (cfg.mode === 'linear-probe')
    notes.push(
      'linear probe: features extracted once with the evaluation transform Resize((R, R)) for every split (the official training augmentation, RandomResizedCrop + flip, is not applied)',
    );
  const { model, files: mf, initSeed } = ctx.loaded;
  const result = {
    status,
    preset: cfg.preset,
    description: cfg.description,
    source: cfg.source,
    mode: cfg.mode,
    config: cfg,
    configHash: ctx.hash,
    seed: cfg.training.seed,
    versions: packageVersions(),
    runtime: { node: process.version, platform: `${process.platform}-${process.arch}` },
    backend: {
      name: tf.getBackend(),
      ...(ctx.options.compute
        ? {
            initCompute: ctx.options.compute.backend,
            adapter: ctx.options.compute.adapterInfo ?? null,
            fallbackReasons: ctx.options.compute.fallbackReasons ?? [],
          }
        : {}),
      distancePath: distancePath(ctx.options.distancePath),
    },
    data: {
      dataset: cfg.data.dataset,
      root: ctx.root,
      sizes: { train: data.train.size, val: data.val.size, test: data.test.size },
    },
    model: {
      arch: mf.arch,
      constructorArgs: model.config,
      weights: mf.weights,
      vocab: mf.vocab,
      initSeed,
      numParameters: model.numParameters(),
      trainable: cfg.mode === 'finetune' ? cfg.optim.trainable : 'none',
    },
    selection: {
      criterion: cfg.eval.selection,
      epoch: state.best?.epoch ?? null,
      value: state.best?.value ?? null,
      optimistic,
    },
    selected: selected ? { val: selected.record.val, test: selected.record.test } : null,
    epochs: state.history,
    steps: state.globalStep,
    resumedFromStep,
    notes,
    wallSeconds: (Date.now() - ctx.started) / 1000,
  };
  writeFileAtomic(
    files.result,
    `${JSON.stringify(result, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`,
  );
  const md = markdownSummary({
    title: `${cfg.preset}: ${cfg.description}`,
    configHash: ctx.hash,
    selection: cfg.eval.selection,
    selectedEpoch: state.best?.epoch ?? null,
    evaluation: (selected?.record.test as SplitEval | null | undefined) ?? null,
    optimisticSelection: optimistic,
    extra: [
      `status: ${status}; ${state.globalStep} optimisation steps; seed ${cfg.training.seed}; backend ${tf.getBackend()}`,
      `model: ${mf.arch} (${model.numParameters()} parameters); data: ${cfg.data.dataset} at ${ctx.root} (train ${data.train.size}, val ${data.val.size}, test ${data.test.size})`,
      ...notes.map((n) => `- ${n}`),
    ],
  });
  writeFileAtomic(files.summary, md);
  return files;
}
