// Zero-shot evaluation: no training, one evaluation of val and test with the prompts (CLIP zero-shot, the study's
// zero-shot rows). Nothing to checkpoint: a run either finishes or is redone.

import { zeroShotScorer } from '../evaluate.ts';
import { progressFor, promptTokens, type RunContext } from './context.ts';
import { evaluateSplits, recordEpoch } from './epochs.ts';
import { finishRun, writeOutputs } from './result.ts';
import { emptyAcc, freshState } from './state.ts';
import type { TrainRunResult } from './types.ts';

/** Evaluates the loaded model zero-shot on val and test (reported as epoch 0) and writes the outputs. */
export async function runZeroShot(ctx: RunContext): Promise<TrainRunResult> {
  const { cfg, signal } = ctx;
  const { model } = ctx.loaded;
  const prompts = promptTokens(ctx);
  const state = freshState(ctx.hash);
  const progress = progressFor(ctx, 0);
  signal?.throwIfAborted();
  const t0 = performance.now();
  const ev = await evaluateSplits(ctx, zeroShotScorer(model, prompts, cfg.eval, signal));
  const record = await recordEpoch(ctx, state, { epoch: 0, ev, seconds: (performance.now() - t0) / 1000 });
  state.epoch = 1;
  state.acc = emptyAcc();
  writeOutputs(ctx, state, 'running', null);
  await ctx.options.hooks?.onEpoch?.(record);
  progress.finish();
  return finishRun(ctx, state, null, model);
}
