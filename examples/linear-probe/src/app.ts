/**
 * The linear-probe app: frozen CLIP image (or image + text) features, BatchNorm + linear head trained with LARS
 * (FairCLIP's mae/main_linprobe.py, preset linear-probe), once per seed; test metrics at the best validation AUC.
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

export const HELP = `Usage: fairclip-linear-probe [options]

Linear probing on Harvard-FairVLMed (preset linear-probe: frozen CLIP features, BatchNorm1d + Linear, LARS with
warm-up and half-cosine, evaluation every linearProbe.evalEvery epochs, test metrics at the best validation AUC),
once per seed: AUC, ES-AUC, DPD, DEOdds, ES-Acc and group AUCs (×100, mean ± std over seeds). Multimodal features
(image + text): --set linearProbe.features=multimodal. Without options: the default tiny CLIP on the embedded
synthetic FairVLMed. Outputs in --out (default runs/linear-probe): linear-probe/seed-<s>/, summary.md, summary.json;
rerun to resume.

${COMMON_HELP}`;

export async function runApp(argv: readonly string[], io: Io): Promise<number> {
  return runMain('fairclip-linear-probe', io, async () => {
    const args = parseRunArgs(argv, { preset: 'linear-probe', out: 'runs/linear-probe' });
    if (args.help) {
      io.stdout(HELP);
      return 0;
    }
    if (args.rest.length > 0) throw new CliError(`unexpected argument "${args.rest[0]}" (see --help)`);
    if (args.weights.length > 1) throw new CliError('--weights: give one weights file (the frozen encoder)');
    const overrides = baseOverrides(args, 'fairvlmed');
    const cfg = resolveConfig(args.preset, [...overrides, ...args.overrides]);
    if (cfg.mode !== 'linear-probe')
      throw new CliError(`--preset: ${args.preset} is not a linear-probe preset (mode ${cfg.mode})`);
    const compute = await computeFor(args);
    const runs = await runSeeds({ preset: args.preset, args, overrides, compute, io });
    const summary = summarizeSeeds(runs);
    const files = writeSummary(args.out, `${args.preset}: ${cfg.description}`, runs, summary);
    io.stdout(`${args.preset}: ${cfg.description}`);
    io.stdout(
      `${runs.length} seed(s) on ${cfg.data.path} (${compute.backend}); ${cfg.linearProbe?.features} features; ` +
        'test metrics at the best validation AUC; ×100',
    );
    io.stdout(textTable(METRIC_HEADER, summaryRows(summary)));
    io.stdout(`\nWritten: ${files.markdown}, ${files.json}`);
    return 0;
  });
}
