// The training and evaluation loop's entry point: every preset (zero-shot, fine-tuning with or without the fairness
// regulariser, linear probing) is a configuration of `runTraining`. Preflight checks everything checkable before
// any work (run/preflight.ts); each mode has its own module (run/zero-shot.ts, run/finetune.ts, run/probe.ts); the
// outputs are written by run/result.ts.
//
// Library code never picks a backend: call initCompute from @fairclip/compute first.
import { loadModel } from './model.ts';
import type { RunContext } from './run/context.ts';
import { runFinetune } from './run/finetune.ts';
import { preflight } from './run/preflight.ts';
import { runLinearProbe } from './run/probe.ts';
import type { TrainRunOptions, TrainRunResult } from './run/types.ts';
import { runZeroShot } from './run/zero-shot.ts';

export { SCORES_FILE } from './run/epochs.ts';
export type { EpochEntry, RunHooks, StepInfo, StepRow, TrainRunOptions, TrainRunResult } from './run/types.ts';

/**
 * Runs a configuration end to end: checks everything that can be checked before training (configuration, data,
 * model files, attributes), resumes a checkpoint of the same configuration found in `outDir`, trains, evaluates
 * val and test every epoch, selects the epoch, and writes the outputs (see README "Outputs").
 */
export async function runTraining(options: TrainRunOptions): Promise<TrainRunResult> {
  const pf = preflight(options);
  const { cfg, hash, outDir, ckptDir, data, root, files, existing } = pf;
  const loaded = await loadModel(files, cfg.training.seed);
  const { model } = loaded;
  try {
    const ctx: RunContext = {
      cfg,
      hash,
      outDir,
      ckptDir,
      data,
      loaded,
      options,
      signal: options.signal,
      root,
      started: Date.now(),
    };
    switch (cfg.mode) {
      case 'linear-probe': {
        const r = await runLinearProbe(ctx, existing);
        model.dispose();
        return r;
      }
      case 'zeroshot':
        return await runZeroShot(ctx);
      default:
        return await runFinetune(ctx, existing);
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
}
