/**
 * The finetune app: fine-tunes CLIP on FairVLMed by preset name (plain CLIP, FairCLIP as the official code computes
 * it, the study's debugged version, A-FairCLIP, FairCLIP+), once per seed, and prints the selected epoch's test
 * metrics (mean ± std over seeds). Free of process globals so that tests run it in-process.
 */
import {
  baseOverrides,
  computeFor,
  type Io,
  METRIC_HEADER,
  runMain,
  runSeeds,
  summarizeSeeds,
  summaryRows,
  textTable,
  writeSummary,
} from '@fairclip/example-common';
import { CliError, COMMON_HELP, parseRunArgs, resolveConfig } from '@fairclip/train';

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

export async function runApp(argv: readonly string[], io: Io): Promise<number> {
  return runMain('fairclip-finetune', io, async () => {
    const args = parseRunArgs(argv, { preset: 'clip-finetune', out: 'runs/finetune' });
    if (args.help) {
      io.stdout(HELP);
      return 0;
    }
    if (args.rest.length > 0) throw new CliError(`unexpected argument "${args.rest[0]}" (see --help)`);
    if (args.weights.length > 1) throw new CliError('--weights: give one initial weights file');
    if (!(FINETUNE_PRESETS as readonly string[]).includes(args.preset))
      throw new CliError(`--preset: expected one of ${FINETUNE_PRESETS.join(', ')}, got "${args.preset}"`);
    const overrides = baseOverrides(args, 'fairvlmed');
    const cfg = resolveConfig(args.preset, [...overrides, ...args.overrides]); // refuse bad overrides before initCompute
    const compute = await computeFor(args);
    const runs = await runSeeds({ preset: args.preset, args, overrides, compute, io });
    const summary = summarizeSeeds(runs);
    const files = writeSummary(args.out, `${args.preset}: ${cfg.description}`, runs, summary);
    io.stdout(`${args.preset}: ${cfg.description}`);
    io.stdout(
      `${runs.length} seed(s) on ${cfg.data.path} (${compute.backend}); test metrics at the epoch selected on ` +
        `${cfg.eval.selection}${cfg.eval.selection === 'test-auc' ? ' (optimistic, as the official code)' : ''}; ×100`,
    );
    io.stdout(textTable(METRIC_HEADER, summaryRows(summary)));
    io.stdout(`\nWritten: ${files.markdown}, ${files.json}`);
    return 0;
  });
}
