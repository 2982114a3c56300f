/**
 * The zero-shot app: pretrained CLIP scored zero-shot on FairVLMed's test set (preset clip-zeroshot: raw cosine to
 * "A photo of non-glaucoma" / "A photo of glaucoma", p₁ = softmax₁), with every fairness metric per attribute.
 * Free of process globals so that tests run it in-process.
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

export const HELP = `Usage: fairclip-zero-shot [options]

CLIP zero-shot glaucoma classification on Harvard-FairVLMed's test set with AUC, ES-AUC, DPD, DEOdds, ES-Acc and
group AUCs for race, gender, ethnicity and language (×100, mean ± std over --seeds). Without options it runs the
default tiny CLIP on the embedded synthetic FairVLMed. Outputs in --out (default runs/zero-shot):
<preset>/seed-<s>/ (result.json, epochs_test.csv, summary.md of each run), summary.md and summary.json.

${COMMON_HELP}`;

export async function runApp(argv: readonly string[], io: Io): Promise<number> {
  return runMain('fairclip-zero-shot', io, async () => {
    const args = parseRunArgs(argv, { preset: 'clip-zeroshot', out: 'runs/zero-shot' });
    if (args.help) {
      io.stdout(HELP);
      return 0;
    }
    if (args.rest.length > 0) throw new CliError(`unexpected argument "${args.rest[0]}" (see --help)`);
    if (args.weights.length > 1) throw new CliError('--weights: give one weights file');
    const overrides = baseOverrides(args, 'fairvlmed');
    resolveConfig(args.preset, [...overrides, ...args.overrides]); // a bad preset or override: refused before initCompute
    const compute = await computeFor(args);
    const runs = await runSeeds({ preset: args.preset, args, overrides, compute, io });
    const summary = summarizeSeeds(runs);
    const files = writeSummary(args.out, `${args.preset}: zero-shot test metrics`, runs, summary);
    io.stdout(`${args.preset} on ${runs[0]?.result.config.data.path} (${compute.backend}), test set, ×100`);
    io.stdout(textTable(METRIC_HEADER, summaryRows(summary)));
    io.stdout(`\nWritten: ${files.markdown}, ${files.json}`);
    return 0;
  });
}
