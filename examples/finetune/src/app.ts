/**
 * The finetune app: fine-tunes CLIP on FairVLMed by preset name (plain CLIP, FairCLIP as the official code computes
 * it, the study's debugged version, A-FairCLIP, FairCLIP+), once per seed, and prints the selected epoch's test
 * metrics (mean ± std over seeds). Free of process globals so that tests run it in-process.
 */
import { COMMON_HELP, type Io, type PresetApp, runPresetApp, seedsLine } from '@fairclip/example-common';

/** The fine-tuning presets on FairVLMed (linear probing and FairFace have their own apps). */
export const FINETUNE_PRESETS = [
  'clip-finetune',
  'fairclip-official-2024',
  'fairclip-official-2025',
  'fairclip-debugged',
  'a-fairclip',
  'fairclip-plus',
] as const;

export const HELP = `Usage: fairclip-finetune [--preset NAME] [options]

Fine-tunes CLIP on Harvard-FairVLMed with a variant preset, once per seed, and prints the test metrics of the
selected epoch (AUC, ES-AUC, DPD, DEOdds, ES-Acc, group AUCs; ×100, mean ± std over seeds). Presets:
${FINETUNE_PRESETS.join(', ')} (default clip-finetune). Without options it trains the default tiny CLIP on the
embedded synthetic FairVLMed. Outputs in --out (default runs/finetune): <preset>/seed-<s>/ (checkpoints/,
best.safetensors, epochs_val.csv, epochs_test.csv, steps.csv, result.json, summary.md), summary.md, summary.json.
Rerun with the same --out to resume: finished seeds are reused, an interrupted one continues from its checkpoint.

${COMMON_HELP}`;

export const APP: PresetApp = {
  name: 'fairclip-finetune',
  defaults: { preset: 'clip-finetune', out: 'runs/finetune' },
  dataset: 'fairvlmed',
  help: HELP,
  weights: 'initial weights file',
  presets: FINETUNE_PRESETS,
  header: (run) => [
    run.title,
    seedsLine(
      run,
      `test metrics at the epoch selected on ${run.cfg.eval.selection}` +
        (run.cfg.eval.selection === 'test-auc' ? ' (optimistic, as the official code)' : ''),
    ),
  ],
};

export const runApp = (argv: readonly string[], io: Io): Promise<number> => runPresetApp(APP, argv, io);
