// Linear probing on frozen CLIP features (the study's linear-probe experiments).
import { join } from 'node:path';
import { extractFeatures, type FeatureBatch, type HostTensor } from '@fairclip/clip';
import { epochOrder } from '@fairclip/datasets';
import { mixSeed, SeededRng } from '@fairclip/io';
import * as tf from '@tensorflow/tfjs-core';
import { type FoundCheckpoints, writeCheckpoint } from '../checkpoint.ts';
import { ConfigError } from '../config.ts';
import type { SplitData } from '../data.ts';
import { LinearProbeHead, trainLinearProbe } from '../linear-probe.ts';
import { progressFor, type RunContext, tokenizeCaptions } from './context.ts';
import { evaluateSplits, recordEpoch } from './epochs.ts';
import { finishRun, writeOutputs } from './result.ts';
import { modelTensorsProblem, optimizerProblem, resumeFrom } from './resume.ts';
import { addTerms, emptyAcc, freshState, type RunState } from './state.ts';
import type { TrainRunResult } from './types.ts';

/**
 * Features of a split through the frozen encoder. With `epoch` (training features under linearProbe.augmentation
 * 'original'), each image is that epoch's RandomResizedCrop + flip (SplitData.augmentedImage); otherwise the
 * evaluation transform Resize((R, R)).
 */
async function splitFeatures(ctx: RunContext, split: SplitData, epoch?: number): Promise<Float32Array> {
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
      const imgs = await Promise.all(
        Array.from({ length: n }, (_, k) =>
          epoch === undefined
            ? split.image(start + k, 'square')
            : split.augmentedImage(start + k, ctx.cfg.training.seed, epoch),
        ),
      );
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

/** Why a checkpoint's BatchNorm running statistics do not fit a head of `dim` features (null when they do). */
function probeStatsProblem(probe: RunState['probe'] | undefined, dim: number): string | null {
  if (typeof probe !== 'object' || probe === null) return 'state.json holds no running statistics of the head';
  for (const [name, v] of [
    ['runningMean', probe.runningMean],
    ['runningVar', probe.runningVar],
  ] as const) {
    if (!Array.isArray(v) || v.length !== dim) return `state.json: probe.${name} does not hold ${dim} values`;
    const bad = v.findIndex((x) => typeof x !== 'number' || !Number.isFinite(x) || (name === 'runningVar' && x < 0));
    if (bad >= 0) return `state.json: probe.${name}[${bad}] is ${String(v[bad]).slice(0, 40)}`;
  }
  return null;
}

/**
 * Linear probing: features of every split extracted once from the frozen model, then a BatchNorm + Linear head
 * trained with LARS (MAE's recipe), evaluated every evalEvery epochs and checkpointed with its running statistics.
 */
export async function runLinearProbe(
  ctx: RunContext,
  existing: FoundCheckpoints<RunState> | null,
): Promise<TrainRunResult> {
  const { cfg, data } = ctx;
  const lp = cfg.linearProbe!;
  const { model } = ctx.loaded;
  const dim = model.config.embed_dim * (lp.features === 'multimodal' ? 2 : 1);
  // Under 'original' augmentation the training features are recomputed every epoch (fresh crops and flips through
  // the frozen encoder, as the original's loader does every step); with 'none' they are extracted once.
  const augment = lp.augmentation === 'original';
  const trainF = augment ? null : await splitFeatures(ctx, data.train);
  const [valF, testF] = [await splitFeatures(ctx, data.val), await splitFeatures(ctx, data.test)];
  const rng = new SeededRng(mixSeed(cfg.training.seed, 0x11e4));
  const head = new LinearProbeHead(dim, { random: () => rng.nextFloat() });
  let state = freshState(ctx.hash);
  let resumedFromStep: number | null = null;
  let lastCheckpoint: string | null = null;
  const headSpecs = [
    { name: 'head.weight', shape: head.weight.shape },
    { name: 'head.bias', shape: head.bias.shape },
  ];
  const headGroups = [{ name: 'head', params: [head.weight, head.bias], keys: ['head.weight', 'head.bias'] }];
  let ckpt: ReturnType<typeof resumeFrom>;
  try {
    ckpt = resumeFrom(
      existing,
      ctx.options,
      (c) =>
        modelTensorsProblem(c.model, headSpecs, join(c.path, 'model.safetensors')) ??
        probeStatsProblem(c.state.probe, dim) ??
        optimizerProblem(c, 'lars', headGroups),
    );
  } catch (e) {
    head.dispose();
    throw e;
  }
  if (ckpt) {
    const existing = ckpt;
    state = existing.state;
    lastCheckpoint = existing.name;
    const w = existing.model.get('head.weight')!;
    const b = existing.model.get('head.bias')!;
    tf.tidy(() => {
      head.weight.assign(tf.tensor(w.data as Float32Array, w.shape as number[]));
      head.bias.assign(tf.tensor(b.data as Float32Array, b.shape as number[]));
    });
    head.runningMean = Float64Array.from(state.probe!.runningMean);
    head.runningVar = Float64Array.from(state.probe!.runningVar);
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
      await trainLinearProbe(head, trainF ?? new Float32Array(data.train.size * dim), labels, {
        ...(augment
          ? {
              featuresForEpoch: (e: number) => splitFeatures(ctx, data.train, e),
            }
          : {}),
        epochs: lp.epochs,
        batchSize: lp.batchSize,
        blr: lp.blr,
        minLr: lp.minLr,
        warmupEpochs: lp.warmupEpochs,
        weightDecay: lp.weightDecay,
        dropLast: true,
        order: (e) => epochOrder(data.train.size, cfg.training.seed, e),
        startEpoch: state.epoch,
        ...(ckpt?.optimizer ? { optimizerState: ckpt.optimizer } : {}),
        onStep: async ({ epoch, loss, lr }) => {
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
          await ctx.options.hooks?.onStep?.({
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
            headScores(
              sp === data.val ? valF : sp === data.test ? testF : (trainF ?? (await splitFeatures(ctx, data.train))),
              sp.size,
            ),
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
          const name = `epoch-${String(epoch).padStart(5, '0')}`;
          writeCheckpoint(
            ctx.ckptDir,
            name,
            { state, model: tensors, optimizer: await optimizerState(), modelMetadata: { configHash: ctx.hash } },
            { keep: lastCheckpoint },
          );
          lastCheckpoint = name;
          writeOutputs(ctx, state, 'running', resumedFromStep);
          await ctx.options.hooks?.onEpoch?.(record);
        },
      });
  } finally {
    head.dispose();
  }
  progress.finish();
  return finishRun(ctx, state, resumedFromStep, null);
}
