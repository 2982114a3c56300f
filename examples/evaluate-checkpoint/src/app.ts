/**
 * The evaluate-checkpoint app: evaluates CLIP weights files (e.g. FairCLIP's released checkpoints, or the
 * best.safetensors of a finetune run) zero-shot on FairVLMed's test set and prints the table of FairCLIP's README
 * (AUC, ES-AUC per attribute, group AUCs; 4 decimals), one row per checkpoint.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  baseOverrides,
  CliError,
  COMMON_HELP,
  checkOutDir,
  checkpointLabels,
  clip,
  computeFor,
  type Io,
  markdownTable,
  modelOverrides,
  parseRunArgs,
  runMain,
  runSeeds,
  type SeedRun,
  summarizeSeeds,
  textTable,
  writeSummary,
} from '@fairclip/example-common';
import { formatMeanStd } from '@fairclip/fairness';

export const HELP = `Usage: fairclip-evaluate-checkpoint --weights FILE [--weights FILE]... [options]

Evaluates each weights file zero-shot on Harvard-FairVLMed's test set (FairCLIP's score: raw cosine to the two
prompts, softmax) and prints the table of FairCLIP's README: AUC, ES-AUC for race, gender, ethnicity and language,
and the group AUCs (4 decimals; mean ± std when several --seeds). Without --weights: the default tiny CLIP. Outputs
in --out (default runs/evaluate-checkpoint): table.md, and per checkpoint <label>/ (the zero-shot run of each seed,
summary.md, summary.json); a rerun reuses finished evaluations.

${COMMON_HELP}`;

/** One README row: the checkpoint, AUC, ES-AUC per attribute, then every group AUC (attribute order). */
export function readmeTable(
  labels: readonly string[],
  runsPer: readonly SeedRun[][],
): { header: string[]; rows: string[][] } {
  const f = (s: Parameters<typeof formatMeanStd>[0]) => formatMeanStd(s, { scale: 1, digits: 4 });
  const summaries = runsPer.map((runs) => summarizeSeeds(runs));
  const first = summaries[0] ?? [];
  const header = [
    'Checkpoint',
    'AUC',
    ...first.map((a) => `ES-AUC ${a.attribute}`),
    ...first.flatMap((a) => a.groups.map((g) => g.name)),
  ];
  const rows = summaries.map((s, k) => [
    labels[k] as string,
    s[0] ? f(s[0].auc) : '–',
    ...s.map((a) => f(a.esAuc)),
    ...s.flatMap((a) => a.groups.map((g) => f(g.auc))),
  ]);
  return { header, rows };
}

export async function runApp(argv: readonly string[], io: Io): Promise<number> {
  return runMain('fairclip-evaluate-checkpoint', io, async (ctx) => {
    const args = parseRunArgs(argv, { preset: 'clip-zeroshot', out: 'runs/evaluate-checkpoint' });
    if (args.help) {
      io.stdout(HELP);
      return 0;
    }
    ctx.watch(args);
    if (args.rest.length > 0) throw new CliError(`unexpected argument "${clip(args.rest[0] ?? '')}" (see --help)`);
    checkOutDir(args.out);
    const files: (string | null)[] = args.weights.length ? args.weights : [null];
    const data = baseOverrides(args, 'fairvlmed').filter((o) => o.startsWith('data.'));
    const overrides = files.map((w) => [...data, ...modelOverrides(args, w)]); // checks every file before any work
    const labels = checkpointLabels(files);
    const compute = await computeFor(args);
    const runsPer: SeedRun[][] = [];
    for (const [k, label] of labels.entries()) {
      const runs = await runSeeds({
        preset: args.preset,
        args,
        overrides: overrides[k] as string[],
        compute,
        io,
        folder: join(label, args.preset),
      });
      writeSummary(join(args.out, label), `${label}: ${args.preset} test metrics`, runs, summarizeSeeds(runs));
      runsPer.push(runs);
    }
    const { header, rows } = readmeTable(labels, runsPer);
    const table = join(args.out, 'table.md');
    writeFileSync(
      table,
      `# Zero-shot test metrics (${args.preset}) of each checkpoint\n\n${markdownTable(header, rows)}\n\n` +
        labels
          .map((l, k) => `- ${l}: ${files[k] ?? 'the default tiny CLIP (test-fixtures/data/default-model)'}`)
          .join('\n') +
        '\n',
    );
    io.stdout(
      `Zero-shot test metrics (${args.preset}, ${compute.backend}) on ${runsPer[0]?.[0]?.result.config.data.path}`,
    );
    io.stdout(textTable(header, rows));
    io.stdout(`\nWritten: ${table}`);
    return 0;
  });
}
