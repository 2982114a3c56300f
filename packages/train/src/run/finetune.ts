// Fine-tuning: CLIP fine-tuned, FairCLIP (official), A-FairCLIP, FairCLIP+ and every other 'finetune' preset. Seeded
// and deterministic on the CPU backends; a run killed at any moment resumes from its last checkpoint with the same
// final weights as an uninterrupted run.
import { join } from 'node:path';
import { clipToSafetensors } from '@fairclip/clip';
import { batchPlan, epochOrder } from '@fairclip/datasets';
import type { DivergenceInfo } from '@fairclip/ot';
import * as tf from '@tensorflow/tfjs-core';
import { type FoundCheckpoints, writeCheckpoint, writeFileAtomic } from '../checkpoint.ts';
import { ConfigError } from '../config.ts';
import { GroupSampler } from '../data.ts';
import { distancePath, solvedGroupDistance, syncGroupDistance } from '../distance.ts';
import { TrainError } from '../errors.ts';
import { zeroShotScorer } from '../evaluate.ts';
import type { GroupDistance } from '../losses.ts';
import { paramGroups } from '../model.ts';
import { Adam } from '../optim.ts';
import {
  explainHalfOverflow,
  type GroupPart,
  groupScoresFromLoaders,
  type HostBatch,
  scoresForDistance,
  stepLoss,
} from '../step.ts';
import { distanceColumns, hostBatch, progressFor, promptTokens, type RunContext, tokenizeCaptions } from './context.ts';
import { evaluateSplits, recordEpoch } from './epochs.ts';
import { finishRun, writeOutputs } from './result.ts';
import { modelTensorsProblem, optimizerProblem, resumeFrom } from './resume.ts';
import { addTerms, emptyAcc, freshState, type RunState } from './state.ts';
import type { TrainRunResult } from './types.ts';

/** The group distance of a run without the fairness term: stepLoss never calls it (it returns the CLIP loss alone). */
const NO_DISTANCE: GroupDistance = () => {
  throw new Error('internal: no fairness term, so no group distance');
};

/**
 * Fine-tuning (CLIP loss, plus the fairness regulariser when the configuration has one): Adam on the trainable
 * parameter groups, checkpoints every epoch (and every N steps when asked), evaluation every eval.every epochs.
 */
export async function runFinetune(
  ctx: RunContext,
  existing: FoundCheckpoints<RunState> | null,
): Promise<TrainRunResult> {
  const { cfg, data, signal } = ctx;
  const { model } = ctx.loaded;
  const fairness = cfg.fairness;
  const l = model.config.context_length;
  const prompts = promptTokens(ctx);
  const trainTokens = tokenizeCaptions(ctx.loaded, data.train, l);
  // Group batches always carry the notes in the original code (data.groupTextSource): their own captions when the
  // training captions come from another source.
  const groupTokens = data.groupTrain === data.train ? trainTokens : tokenizeCaptions(ctx.loaded, data.groupTrain, l);
  const columns = distanceColumns(ctx);
  const groupSource = fairness?.groupSource ?? 'loaders';
  const samplers =
    fairness && groupSource === 'loaders'
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
  const groups = paramGroups(model, cfg.optim.trainable);
  const optimizer = new Adam(groups, {
    lr: cfg.optim.lr,
    betas: cfg.optim.betas,
    eps: cfg.optim.eps,
    weightDecay: cfg.optim.weightDecay,
  });
  const trainVars = groups.flatMap((g) => [...g.params]);
  const epochs = cfg.training.epochs;
  const plans = (epoch: number) =>
    batchPlan(epochOrder(data.train.size, cfg.training.seed, epoch), cfg.training.batchSize, cfg.training.dropLast);
  const stepsPerEpoch = plans(0).length;
  if (stepsPerEpoch === 0) {
    optimizer.dispose();
    throw new ConfigError(
      'training.batchSize',
      `${data.train.size} training samples make no batch of ${cfg.training.batchSize} with dropLast`,
    );
  }
  let state = freshState(ctx.hash);
  let resumedFromStep: number | null = null;
  // The newest checkpoint whose files verify, whose state fits this run (preflight) and whose tensors fit the model
  // and the optimiser; the previous one, with a warning, when the newest is unusable.
  const ckpt = resumeFrom(
    existing,
    ctx.options,
    (c) =>
      modelTensorsProblem(c.model, model.stateDictSpec(), join(c.path, 'model.safetensors')) ??
      optimizerProblem(c, 'adam', groups),
  );
  /** The checkpoint kept as the previous one when the next is written (the one this run resumed or last wrote). */
  let lastCheckpoint: string | null = null;
  if (ckpt) {
    model.loadStateDict(ckpt.model, { source: join(ckpt.path, 'model.safetensors') });
    optimizer.loadState(ckpt.optimizer!);
    state = ckpt.state;
    resumedFromStep = state.globalStep;
    lastCheckpoint = ckpt.name;
  }
  for (const s of samplers) s.drawn = state.groupDrawn[`${s.attribute}:${s.group}`] ?? 0;
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
    writeCheckpoint(
      ctx.ckptDir,
      name,
      {
        state,
        model: sd,
        optimizer: await optimizer.state(),
        modelMetadata: { config: JSON.stringify(model.config), configHash: ctx.hash },
      },
      { keep: lastCheckpoint },
    );
    lastCheckpoint = name;
  };
  try {
    for (let epoch = state.epoch; epoch < epochs; epoch++) {
      const plan = plans(epoch);
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
          groupBatch = await hostBatch(data.groupTrain, idx, groupTokens, model);
        } else if (fairness) {
          parts = columns.flatMap((c) => {
            const positions = batchIdx.flatMap((i, k) =>
              data.train.samples[i]!.groups[c.attribute] === c.group ? [k] : [],
            );
            return positions.length ? [{ attribute: c.attribute, group: c.group, positions }] : [];
          });
        }
        const groupScores = groupBatch ? groupScoresFromLoaders(model, groupBatch, parts, fairness!) : null;
        let distance = fairness ? syncGroupDistance(fairness.distance, onInfo) : NO_DISTANCE;
        if (fairness && parts.length && path === 'two-phase') {
          const pre = scoresForDistance(model, batch, fairness, parts, groupScores);
          try {
            distance = await solvedGroupDistance(pre.x, pre.groups, fairness.distance, onInfo);
          } catch (e) {
            throw explainHalfOverflow(e, model, `epoch ${epoch} step ${s}`);
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
              'the last checkpoint is intact. Check λ, the normalisation (a group-score sum near 0 divides by 0) and the learning rate' +
              (model.precision === 'fp16-emulated' ? "; fp16 overflow is likely: try training.precision='fp32'" : ''),
          );
        }
        optimizer.applyGradients(grads);
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
      const ev = evaluate ? await evaluateSplits(ctx, zeroShotScorer(model, prompts, cfg.eval, signal)) : null;
      const record = await recordEpoch(
        ctx,
        state,
        { epoch, ev, seconds: state.acc.seconds + (performance.now() - t0) / 1000 },
        async () =>
          writeFileAtomic(
            join(ctx.outDir, 'best.safetensors'),
            await clipToSafetensors(model, { metadata: { epoch: String(epoch), configHash: ctx.hash } }),
          ),
      );
      state.epoch = epoch + 1;
      state.stepInEpoch = 0;
      state.acc = emptyAcc();
      await checkpoint(`epoch-${String(epoch).padStart(4, '0')}`);
      writeOutputs(ctx, state, 'running', resumedFromStep);
      await ctx.options.hooks?.onEpoch?.(record);
    }
  } finally {
    optimizer.dispose();
  }
  progress.finish();
  return finishRun(ctx, state, resumedFromStep, model);
}
