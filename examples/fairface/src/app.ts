/**
 * The fairface app: the reproducibility study's FairFace experiments (fairclip.md §5): zero-shot gender
 * classification ("A picture of a female person" / "... male person"), CLIP fine-tuning and FairCLIP+ over age and
 * race, by preset name, once per seed; metrics per age and race group.
 */
import { cpSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  baseOverrides,
  computeFor,
  EMBEDDED_FAIRFACE,
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

export const FAIRFACE_PRESETS = ['fairface-clip-zeroshot', 'fairface-clip-finetune', 'fairface-fairclip-plus'] as const;

export const HELP = `Usage: fairclip-fairface [--preset NAME] [options]

The reproducibility study's FairFace experiments: zero-shot gender classification by CLIP, fine-tuning, and
FairCLIP+ over age and race (presets ${FAIRFACE_PRESETS.join(', ')}; default fairface-clip-zeroshot), once per seed,
with AUC, ES-AUC, DPD, DEOdds, ES-Acc and group AUCs for age (9 groups) and race (7 groups), ×100, mean ± std over
seeds. Without --data: the embedded synthetic FairFace (its validation labels also serve as test labels, copied into
<out>/embedded-fairface). Outputs in --out (default runs/fairface): <preset>/seed-<s>/, summary.md, summary.json;
rerun to resume.

${COMMON_HELP}`;

/** The embedded FairFace has no test label file: a copy in the output folder uses its val labels as test labels. */
function embeddedWithTest(out: string): string {
  const dir = join(resolve(out), 'embedded-fairface');
  if (!existsSync(join(dir, 'fairface_label_test.csv'))) {
    cpSync(EMBEDDED_FAIRFACE, dir, { recursive: true });
    cpSync(join(dir, 'fairface_label_val.csv'), join(dir, 'fairface_label_test.csv'));
  }
  return dir;
}

export async function runApp(argv: readonly string[], io: Io): Promise<number> {
  return runMain('fairclip-fairface', io, async () => {
    const args = parseRunArgs(argv, { preset: 'fairface-clip-zeroshot', out: 'runs/fairface' });
    if (args.help) {
      io.stdout(HELP);
      return 0;
    }
    if (args.rest.length > 0) throw new CliError(`unexpected argument "${args.rest[0]}" (see --help)`);
    if (args.weights.length > 1) throw new CliError('--weights: give one weights file');
    if (!(FAIRFACE_PRESETS as readonly string[]).includes(args.preset))
      throw new CliError(`--preset: expected one of ${FAIRFACE_PRESETS.join(', ')}, got "${args.preset}"`);
    if (args.data === null) args.data = embeddedWithTest(args.out);
    const overrides = baseOverrides(args, 'fairface');
    const cfg = resolveConfig(args.preset, [...overrides, ...args.overrides]);
    const compute = await computeFor(args);
    const runs = await runSeeds({ preset: args.preset, args, overrides, compute, io });
    const summary = summarizeSeeds(runs);
    const files = writeSummary(args.out, `${args.preset}: ${cfg.description}`, runs, summary);
    io.stdout(`${args.preset}: ${cfg.description}`);
    io.stdout(
      `${runs.length} seed(s) on ${cfg.data.path} (${compute.backend}); zero-shot gender classification, test set; ×100`,
    );
    io.stdout(textTable(METRIC_HEADER, summaryRows(summary)));
    io.stdout(`\nWritten: ${files.markdown}, ${files.json}`);
    return 0;
  });
}
