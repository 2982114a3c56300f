// The run's outputs, rewritten after every evaluated epoch and at the end: the official-order per-epoch CSVs, the
// per-step CSV, result.json (configuration, versions, backend, data, model, selection, every epoch) and summary.md.
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { writeFileAtomic } from '../checkpoint.ts';
import { distancePath } from '../distance.ts';
import { markdownSummary, officialCsvHeader, officialCsvRow, type SplitEval } from '../outputs.ts';
import { packageVersions } from '../versions.ts';
import type { RunContext } from './context.ts';
import { distanceColumns } from './context.ts';
import { csvText, SCORES_FILE } from './epochs.ts';
import type { RunState } from './state.ts';
import type { TrainRunResult } from './types.ts';

export function writeOutputs(
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
      cfg.linearProbe?.augmentation === 'original'
        ? "linear probe: training features recomputed every epoch from the original's augmentation (RandomResizedCrop(R, scale (0.5, 1)) + horizontal flip, seeded); val/test features with Resize((R, R)); AMP is not reproduced (features are float32)"
        : 'linear probe: features extracted once with the evaluation transform Resize((R, R)) for every split (linearProbe.augmentation none: the original RandomResizedCrop + flip is not applied); AMP is not reproduced (features are float32)',
    );
  const precision = cfg.training.precision;
  if (precision === 'fp16-emulated' && cfg.mode === 'finetune')
    notes.push(
      'precision fp16-emulated: the official fp16 GPU runs are emulated on float32 kernels (weights rounded to float16 after each fp32 Adam step; matmul outputs, logits and scores rounded to float16 where the original computes in fp16); not native fp16 arithmetic',
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
    precision: { mode: precision, float16: precision === 'fp16-emulated' ? 'emulated' : null },
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

/** What runTraining returns once a mode has finished: the final outputs written, the epochs and the selection. */
export function finishRun(
  ctx: RunContext,
  state: RunState,
  resumedFromStep: number | null,
  model: TrainRunResult['model'],
): TrainRunResult {
  const files = writeOutputs(ctx, state, 'complete', resumedFromStep);
  return {
    outDir: ctx.outDir,
    configHash: ctx.hash,
    config: ctx.cfg,
    epochs: state.history.map((h) => h.record),
    selectedEpoch: state.best?.epoch ?? null,
    resumedFromStep,
    files,
    model,
  };
}
