/**
 * The sinkhorn-distances app: the reproducibility study's analysis (fairclip.md §6, experiments/distance/
 * distance_test.py). For each checkpoint, the per-sample similarity diag(logits_per_image) = exp(logit_scale) ·
 * cos(image_i, text_i) of the test set (text: the GPT-4 summary), then the Sinkhorn divergence between the whole test
 * set's similarities and each group's, geomloss SamplesLoss("sinkhorn", p=2, blur=1e-4, diameter=2, scaling=0.95).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import {
  baseOverrides,
  CliError,
  COMMON_HELP,
  checkDataset,
  checkOutDir,
  checkpointLabels,
  clip,
  computeFor,
  type GroupDistanceRow,
  groupDistances,
  type Io,
  inputsStamp,
  markdownTable,
  modelOverrides,
  pairSimilarities,
  parseRunArgs,
  runMain,
  STUDY_DISTANCE,
  takeOption,
  textTable,
} from '@fairclip/example-common';
import {
  configHash,
  ImageCache,
  loadModel,
  openRunData,
  Progress,
  resolveModelFiles,
  resolvePresetConfig,
} from '@fairclip/train';

export const HELP = `Usage: fairclip-sinkhorn-distances [--weights FILE]... [options]

The reproducibility study's Sinkhorn analysis: for each checkpoint (--weights, repeatable; default: the default tiny
CLIP), the similarity exp(logit_scale)·cos(image, text) of every test sample with its GPT-4 summary, then the
Sinkhorn divergence between the whole test set's similarities and each group's (race, gender, ethnicity, language),
p = 2, blur 1e-4, diameter 2, scaling 0.95. Outputs in --out (default runs/sinkhorn-distances): distances.csv,
distances.md, and per checkpoint <label>/similarities.csv and <label>/distances.json (reused on a rerun).

Options of this app:
  --solver S             geomloss (default: geomloss 0.2.6's fixed ε schedule, as the study ran it) or auto
                         (iterates to convergence, exact 1-D transport where it applies)

${COMMON_HELP}`;

export interface CheckpointDistances {
  label: string;
  weights: string | null;
  key: string;
  similarities: number[];
  distances: GroupDistanceRow[];
}

export { checkpointLabels, type GroupDistanceRow, groupDistances, STUDY_DISTANCE };

const fmt = (v: number) => (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5 ? v.toPrecision(4) : v.toExponential(3));

export async function runApp(argv: readonly string[], io: Io): Promise<number> {
  return runMain('fairclip-sinkhorn-distances', io, async (ctx) => {
    const solverOpt = takeOption(argv, '--solver');
    const solver = solverOpt.value ?? 'geomloss';
    if (solver !== 'geomloss' && solver !== 'auto')
      throw new CliError(`--solver: expected geomloss or auto, got "${clip(solver)}"`);
    const args = parseRunArgs(solverOpt.rest, { preset: 'clip-zeroshot', out: 'runs/sinkhorn-distances' });
    if (args.help) {
      io.stdout(HELP);
      return 0;
    }
    ctx.watch(args);
    if (args.rest.length > 0) throw new CliError(`unexpected argument "${clip(args.rest[0] ?? '')}" (see --help)`);
    checkOutDir(args.out);
    if (args.seeds.length > 1) throw new CliError('--seeds: the analysis uses no randomness; give one seed at most');
    const root = checkDataset(args.data, 'fairvlmed');
    const files: (string | null)[] = args.weights.length ? args.weights : [null];
    const configs = files.map((w) =>
      resolvePresetConfig(args.preset, [
        ...baseOverrides(args, 'fairvlmed').filter((o) => !o.startsWith('model.')),
        ...modelOverrides(args, w),
        ...args.overrides,
      ]),
    );
    const labels = checkpointLabels(files);
    const compute = await computeFor(args);
    const cache = new ImageCache();
    const out = resolve(args.out);
    const results: CheckpointDistances[] = [];
    for (const [k, cfg] of configs.entries()) {
      const label = labels[k] as string;
      const dir = join(out, label);
      const w = cfg.model.weights;
      const key = createHash('sha256')
        .update(
          JSON.stringify({
            config: configHash(cfg),
            inputs: inputsStamp(cfg), // weights, vocabulary, model file and data folder
            distance: STUDY_DISTANCE,
            solver,
          }),
        )
        .digest('hex')
        .slice(0, 16);
      const cached = join(dir, 'distances.json');
      if (existsSync(cached)) {
        const prev = JSON.parse(readFileSync(cached, 'utf8')) as CheckpointDistances;
        if (prev.key === key) {
          io.stderr(`${label}: finished distances found in ${dir}, reused`);
          results.push(prev);
          continue;
        }
      }
      io.stderr(`${label}: similarities of the test set (${compute.backend})`);
      const model = await loadModel(resolveModelFiles(cfg), cfg.training.seed);
      try {
        const data = openRunData(cfg, root, { resolution: model.model.config.image_resolution, cache });
        const bar = new Progress({
          label,
          total: Math.ceil(data.test.size / cfg.eval.batchSize),
          unit: 'samples',
          silent: args.quiet,
          ...(io.progress ? { stream: io.progress } : {}),
        });
        const sims = await pairSimilarities(model, data.test, cfg.eval.batchSize, bar);
        bar.finish();
        const distances = groupDistances(sims, data.test, cfg.eval.attributes, data.groupNames, solver);
        const r: CheckpointDistances = { label, weights: w, key, similarities: [...sims], distances };
        mkdirSync(dir, { recursive: true });
        const groupOf = (a: string, i: number) => data.test.samples[i]?.groups[a] ?? -1;
        writeFileSync(
          join(dir, 'similarities.csv'),
          `file,similarity,label,${cfg.eval.attributes.join(',')}\n${[...sims]
            .map(
              (v, i) =>
                `${basename(data.test.samples[i]?.file ?? '')},${v},${data.test.samples[i]?.label},${cfg.eval.attributes.map((a) => groupOf(a, i)).join(',')}`,
            )
            .join('\n')}\n`,
        );
        writeFileSync(cached, `${JSON.stringify(r, null, 2)}\n`);
        results.push(r);
      } finally {
        model.model.dispose();
      }
    }
    // ---- tables: one row per (attribute, group), one column per checkpoint
    const first = results[0]?.distances ?? [];
    const header = ['attribute', 'group', 'n', ...results.map((r) => r.label)];
    const rows = first.map((d, i) => [
      d.attribute,
      d.group,
      String(d.n),
      ...results.map((r) => {
        const x = r.distances[i];
        return x === undefined ? '–' : `${fmt(x.distance)}${x.converged ? '' : '*'}`;
      }),
    ]);
    const csv = [
      'checkpoint,weights,attribute,group,n,distance,converged',
      ...results.flatMap((r) =>
        r.distances.map(
          (d) => `${r.label},${r.weights ?? ''},${d.attribute},${d.group},${d.n},${d.distance},${d.converged}`,
        ),
      ),
    ].join('\n');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'distances.csv'), `${csv}\n`);
    const note =
      solver === 'geomloss'
        ? "* geomloss's fixed ε schedule stopped before the marginals converged (as in the study; --solver auto iterates on)."
        : '* not converged within the iteration budget.';
    writeFileSync(
      join(out, 'distances.md'),
      `# Sinkhorn distance of each group's similarity distribution to the whole test set\n\n` +
        `p = 2, blur 1e-4, diameter 2, scaling 0.95, solver ${solver}; data ${root}\n\n` +
        `${markdownTable(header, rows)}\n\n${note}\n`,
    );
    io.stdout(`Sinkhorn distance to the whole test set (p 2, blur 1e-4, diameter 2, scaling 0.95, ${solver})`);
    io.stdout(textTable(header, rows));
    if (rows.some((r) => r.some((c) => c.endsWith('*')))) io.stdout(note);
    io.stdout(`\nWritten: ${join(out, 'distances.csv')}, ${join(out, 'distances.md')}`);
    return 0;
  });
}
