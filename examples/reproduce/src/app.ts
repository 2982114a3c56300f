/**
 * The reproduce app: the whole study as one grid — variants × regularised attributes × seeds — run through
 * @fairclip/train presets (finished runs reused, interrupted ones resumed), the study's Sinkhorn analysis of every
 * checkpoint, and one report (report.md + SVG figures + report.json) beside the published anchors; plus the study's
 * FairFace experiments (fairclip.md §5) on --fairface-data or the embedded FairFace, in their own report section.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { CLIP_CONFIG_NAMES, clipConfig, inferClipConfig } from '@fairclip/clip';
import { FAIRFACE_AGES, FAIRFACE_RACES } from '@fairclip/datasets';
import {
  baseOverrides,
  type CellDistancesFile,
  CliError,
  COMMON_HELP,
  checkDataset,
  checkOutDir,
  checkWeightsFile,
  clip,
  computeFor,
  embeddedDefault,
  embeddedProfile,
  groupDistances,
  type Io,
  inputsStamp,
  pairSimilarities,
  parseRunArgs,
  runMain,
  runSeeds,
  type SeedRun,
  STUDY_DISTANCE,
  safetensorsShapes,
  summarizeSeeds,
  takeOption,
} from '@fairclip/example-common';
import { FAIRVLMED_EVAL_ATTRIBUTES } from '@fairclip/io';
import {
  configHash,
  ImageCache,
  loadModel,
  openRunData,
  PRESET_NAMES,
  presetObject,
  resolveModelFiles,
  resolvePresetConfig,
  SCORES_FILE,
  type TrainConfig,
} from '@fairclip/train';
import { type CellId, FAIRFACE_ANCHORS } from './anchors.ts';
import { EXECUTOR_HELP, executeGrid, planCell, takeExecutorOptions } from './executor/index.ts';
import { type EmbeddedDataFacts, embeddedReading } from './reading.ts';
import {
  buildReport,
  type CellDistances,
  type CellResult,
  cellKey,
  cellLabel,
  type EpochPoint,
  type FairFaceInput,
  summarize,
  type TestScores,
} from './report.ts';

export const DEFAULT_VARIANTS = [
  'clip-zeroshot',
  'clip-finetune',
  'fairclip-official-2025',
  'a-fairclip',
  'fairclip-plus',
  'linear-probe',
] as const;
/** The evaluated FairVLMed attributes (race, gender, ethnicity, language). */
export const ATTRIBUTES = FAIRVLMED_EVAL_ATTRIBUTES;
export const DEFAULT_SEEDS = [1, 2, 3] as const;
/** The embedded default's quick profile (on top of embeddedProfile): fine-tuning epochs. */
export const EMBEDDED_EPOCHS = 3;
/**
 * The embedded default's learning rate for every fine-tuned variant: a tenth of the default tiny CLIP's pretraining
 * rate (1e-3, packages/train/scripts/pretrain-default-model.ts), set before any run (the presets' 1e-5/1e-6 are
 * ViT-B/16's and RN50's and barely move a 0.4 M-parameter model in a few dozen steps).
 */
export const EMBEDDED_LR = 1e-4;
/** The embedded default's group batch size of the fairness term (the presets' 32 per group; see embeddedGridProfile). */
export const EMBEDDED_GROUP_BATCH = 8;

/**
 * The precision each trained cell ran in (result.json's `precision`): the official presets' 'fp16-emulated' is the
 * official fp16 GPU runs emulated on float32 kernels, which the report must say.
 */
export function precisionNotes(cells: readonly CellResult[]): string[] {
  const half: string[] = [];
  let trained = 0;
  for (const c of cells) {
    const run = c.runs[0];
    if (c.mode !== 'finetune' || !run) continue;
    trained++;
    let mode: unknown = null;
    try {
      mode = (JSON.parse(readFileSync(join(run.outDir, 'result.json'), 'utf8')) as { precision?: { mode?: unknown } })
        .precision?.mode;
    } catch {
      mode = null;
    }
    if (mode === 'fp16-emulated') half.push(c.label);
  }
  if (trained === 0) return [];
  if (half.length === 0) return ['Precision: every trained cell ran in float32 (training.precision fp32).'];
  return [
    `Precision: ${half.join(', ')} ran in fp16-emulated mode, the official code's fp16 GPU training emulated on ` +
      'float32 kernels (weights rounded to float16 after each float32 Adam step; activations, logits and scores ' +
      'rounded where the original computes in fp16), not native fp16 arithmetic; the other trained cells in float32.',
  ];
}

/** The embedded data's facts for the reading, from its synth.json. */
function embeddedFacts(root: string, testSize: number | undefined): EmbeddedDataFacts {
  let record: { options?: { bias?: number }; biasMechanism?: string } | null = null;
  try {
    record = JSON.parse(readFileSync(join(root, 'synth.json'), 'utf8'));
  } catch {
    record = null;
  }
  return {
    root,
    bias: typeof record?.options?.bias === 'number' ? record.options.bias : null,
    mechanism: typeof record?.biasMechanism === 'string' ? record.biasMechanism : null,
    testSize: testSize === undefined ? '–' : `${testSize} samples`,
  };
}

/**
 * The grid's quick profile on the embedded default, on top of embeddedProfile: fine-tuned variants run
 * EMBEDDED_EPOCHS epochs at EMBEDDED_LR in float32 (the presets' float16 emulation costs about 3× on a CPU), the regularised ones with group batches of EMBEDDED_GROUP_BATCH (each group
 * batch costs a forward and backward pass: 32 per group would multiply a race run's cost by 4); the linear probe extracts its frozen features once (augmentation 'none')
 * in batches of 64, for the 100 epochs of embeddedProfile.
 */
export function embeddedGridProfile(preset: string): string[] {
  const cfg = resolvePresetConfig(preset);
  const mode = cfg.mode;
  if (mode === 'finetune')
    return [
      `training.epochs=${EMBEDDED_EPOCHS}`,
      `optim.lr=${EMBEDDED_LR}`,
      'training.precision="fp32"',
      ...(cfg.fairness === null ? [] : [`fairness.groupBatchSize=${EMBEDDED_GROUP_BATCH}`]),
    ];
  if (mode === 'linear-probe') return ['linearProbe.augmentation="none"', 'linearProbe.batchSize=64'];
  return [];
}

const FAIRVLMED_VARIANTS = PRESET_NAMES.filter((p) => !p.startsWith('fairface'));
/** The study's FairFace experiments (fairclip.md §5), the grid's FairFace part: one cell each, per seed. */
export const FAIRFACE_VARIANTS = [
  'fairface-clip-zeroshot',
  'fairface-clip-finetune',
  'fairface-fairclip-plus',
] as const;

export const HELP = `Usage: fairclip-reproduce [options]

Runs the FairCLIP study as one grid — variants × regularised attributes × seeds — and writes one report:
report.md (per variant and evaluated attribute: AUC, ES-AUC, DPD, DEOdds and group AUCs, mean ± std over seeds,
beside the published anchors of fairclip.md §7 with their provenance; a paragraph generated from the numbers),
SVG figures (group AUCs, per-group ROC curves, Sinkhorn distances per group on a log scale, training curves) and
report.json. Single-attribute regularisers (FairCLIP, A-FairCLIP) run once per attribute; FairCLIP+ uses its preset
weights; zero-shot runs once (it has no randomness). The study's FairFace experiments (zero-shot gender
classification, CLIP fine-tuned, FairCLIP+ over age and race) run as the grid's FairFace part, in their own section.

Without --data it runs the embedded synthetic FairVLMed with the default tiny CLIP and a quick profile
(${EMBEDDED_EPOCHS} fine-tuning epochs, the small-data settings of the examples): a demonstration of the pipeline in a few
minutes, not a reproduction. With the real data and weights:
  fairclip-reproduce --data /data/FairVLMed --weights ViT-B-16.safetensors --vocab bpe_simple_vocab_16e6.txt.gz \\
    --backend webgpu --out runs/reproduce
(the architecture is read from the weights file: every variant then uses it; --arch NAME overrides).

Outputs in --out (default runs/reproduce): report.md, report.json, figures/*.svg, runs/<variant>[/<attribute>]/
seed-<s>/ (each run's own outputs, scores_test.csv, distances.json). Rerun with the same --out to resume: finished
runs and distances are reused, an interrupted run continues from its checkpoint, and the report is rebuilt.

Options of this app:
  --preset LIST          comma-separated variants (default ${DEFAULT_VARIANTS.join(',')});
                         any of ${FAIRVLMED_VARIANTS.join(', ')}
  --attributes LIST      attributes the single-attribute regularisers run on (default ${ATTRIBUTES.join(',')})
  --seeds LIST           default ${DEFAULT_SEEDS.join(',')}
  --no-distances         skip the Sinkhorn analysis
  --fairface-data DIR    the FairFace folder of the FairFace part (${FAIRFACE_VARIANTS.join(', ')}; the same
                         seeds, model and overrides; its own report section); default the embedded synthetic
                         FairFace (generated at first use into the cache, with test labels)
  --no-fairface          skip the FairFace part

${EXECUTOR_HELP}

${COMMON_HELP}`;

/** The cells of the grid: one per variant, or one per attribute for single-attribute regularisers. */
export function gridCells(variants: readonly string[], attributes: readonly string[]): CellId[] {
  return variants.flatMap((variant): CellId[] => {
    const f = resolvePresetConfig(variant).fairness;
    const perAttribute = f !== null && Object.keys(f.attributes).length === 1;
    return perAttribute ? attributes.map((attribute) => ({ variant, attribute })) : [{ variant, attribute: null }];
  });
}

/** The OpenAI architecture name of a safetensors weights file (OpenAI parameter names), or null. */
export function archOfWeights(file: string): string | null {
  const shapes = safetensorsShapes(file);
  if (shapes === null) return null;
  let inferred: ReturnType<typeof inferClipConfig>;
  try {
    inferred = inferClipConfig(shapes);
  } catch {
    return null;
  }
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  return CLIP_CONFIG_NAMES.find((n) => same(clipConfig(n), inferred)) ?? null;
}

const list = (v: string, what: string): string[] => {
  const items = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!items.length) throw new CliError(`${what}: expected a comma-separated list, got "${clip(v)}"`);
  return items;
};

interface RunScoresFile {
  labels: number[];
  scores: number[];
  groups: Record<string, number[]>;
}

function readScores(outDir: string, attributes: readonly string[]): RunScoresFile | null {
  const p = join(outDir, SCORES_FILE);
  if (!existsSync(p)) return null;
  const [head, ...rows] = readFileSync(p, 'utf8').trim().split('\n');
  const cols = (head ?? '').split(', ');
  const at = (name: string) => {
    const i = cols.indexOf(name);
    if (i < 0) throw new Error(`${p}: no column "${name}"`);
    return i;
  };
  const cells = rows.map((r) => r.split(', '));
  return {
    labels: cells.map((c) => Number(c[at('label')])),
    scores: cells.map((c) => Number(c[at('score')])),
    groups: Object.fromEntries(attributes.map((a) => [a, cells.map((c) => Number(c[at(a)]))])),
  };
}

interface EpochJson {
  record: {
    epoch: number;
    trainLoss: number | null;
    val: { auc: number | null } | null;
    test: { auc: number | null } | null;
  };
}

function curveOf(run: SeedRun): EpochPoint[] {
  return (run.result.epochs as unknown as EpochJson[]).map(({ record: r }) => ({
    epoch: r.epoch,
    trainLoss: r.trainLoss,
    valAuc: r.val?.auc ?? null,
    testAuc: r.test?.auc ?? null,
  }));
}

/** The cache key of a run's distances: its configuration with its best checkpoint, that checkpoint's stamp, the method. */
function distancesKey(outDir: string, runConfig: TrainConfig): { key: string; config: TrainConfig } {
  const best = join(outDir, 'best.safetensors');
  const config: TrainConfig = existsSync(best)
    ? { ...runConfig, model: { ...runConfig.model, weights: best } }
    : runConfig;
  const key = createHash('sha256')
    .update(
      JSON.stringify({
        config: configHash(config),
        inputs: inputsStamp(config), // weights (the run's best checkpoint), vocabulary, model file, data folder
        distance: STUDY_DISTANCE,
        solver: 'geomloss',
      }),
    )
    .digest('hex')
    .slice(0, 16);
  return { key, config };
}

/** Whether a run folder holds the distances of its current checkpoint (what runDistances would reuse). */
export function distancesFresh(outDir: string, runConfig: TrainConfig): boolean {
  const file = join(outDir, 'distances.json');
  if (!existsSync(file)) return false;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as CellDistancesFile).key === distancesKey(outDir, runConfig).key;
  } catch {
    return false;
  }
}

/** The study's distances of one run's checkpoint (cached in the run folder, keyed by config, weights and method). */
export async function runDistances(run: SeedRun, root: string, cache: ImageCache, io: Io): Promise<CellDistances> {
  const { key, config } = distancesKey(run.outDir, run.config);
  const w = config.model.weights;
  const file = join(run.outDir, 'distances.json');
  if (existsSync(file)) {
    const prev = JSON.parse(readFileSync(file, 'utf8')) as CellDistancesFile;
    if (prev.key === key) return { seed: run.seed, distances: prev.distances };
  }
  io.stderr(`  distances: ${run.outDir}`);
  const model = await loadModel(resolveModelFiles(config), config.training.seed);
  try {
    const data = openRunData(config, root, { resolution: model.model.config.image_resolution, cache });
    const sims = await pairSimilarities(model, data.test, config.eval.batchSize);
    const distances = groupDistances(sims, data.test, config.eval.attributes, data.groupNames, 'geomloss');
    const out: CellDistancesFile = { key, weights: w, distances };
    writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
    return { seed: run.seed, distances };
  } finally {
    model.model.dispose();
  }
}

/** A cell's results from its finished runs (no distances: the FairFace part has no Sinkhorn analysis). */
function fairfaceCell(cell: CellId, cfg: TrainConfig, runs: readonly SeedRun[], out: string): CellResult {
  const first = runs[0]!;
  const sc = readScores(first.outDir, cfg.eval.attributes);
  return {
    id: cell,
    key: cellKey(cell),
    label: cellLabel(cell, cfg.fairness?.attributes ?? null),
    description: cfg.description,
    mode: cfg.mode,
    runs: runs.map((r) => ({
      seed: r.seed,
      outDir: relative(out, r.outDir),
      reused: r.reused,
      selectedEpoch: r.result.selection.epoch,
      optimistic: r.result.selection.optimistic,
    })),
    test: summarizeSeeds(runs),
    valAuc: summarize(runs.map((r) => r.result.selected?.val?.auc ?? null)),
    curves: runs.map((r) => ({ seed: r.seed, epochs: curveOf(r) })),
    scores: sc ? { seed: first.seed, ...sc } : null,
    distances: [],
  };
}

export async function runApp(argv: readonly string[], io: Io): Promise<number> {
  return runMain('fairclip-reproduce', io, async (ctx) => {
    const exec = takeExecutorOptions(argv);
    const attrOpt = takeOption(exec.rest, '--attributes');
    const ffOpt = takeOption(attrOpt.rest, '--fairface-data');
    const noFairface = ffOpt.rest.includes('--no-fairface');
    const noDistances = attrOpt.rest.includes('--no-distances');
    const args = parseRunArgs(
      ffOpt.rest.filter((a) => a !== '--no-distances' && a !== '--no-fairface'),
      { preset: DEFAULT_VARIANTS.join(','), out: 'runs/reproduce' },
    );
    if (args.help) {
      io.stdout(HELP);
      return 0;
    }
    ctx.watch(args);
    if (args.rest.length > 0) throw new CliError(`unexpected argument "${clip(args.rest[0] ?? '')}" (see --help)`);
    checkOutDir(args.out);
    if (args.weights.length > 1)
      throw new CliError('--weights: give one initial weights file (every variant starts from it)');
    if (args.overrides.some((o) => o.startsWith('fairness.attributes=')))
      throw new CliError(
        '--attribute / fairness.attributes: the grid sets the regularised attribute; use --attributes LIST',
      );
    const variants = list(args.preset, '--preset');
    for (const v of variants)
      if (!FAIRVLMED_VARIANTS.includes(v))
        throw new CliError(
          `--preset: "${clip(v)}" is not a FairVLMed variant; expected any of ${FAIRVLMED_VARIANTS.join(', ')}`,
        );
    const attributes = attrOpt.value === null ? [...ATTRIBUTES] : list(attrOpt.value, '--attributes');
    for (const a of attributes)
      if (!(ATTRIBUTES as readonly string[]).includes(a))
        throw new CliError(
          `--attributes: "${clip(a)}" is not a FairVLMed attribute; expected any of ${ATTRIBUTES.join(', ')}`,
        );
    const seeds = args.seeds.length ? args.seeds : [...DEFAULT_SEEDS];
    const embedded = args.data === null;
    // one architecture for every variant: the weights file's (presets differ: FairCLIP+ and the probe use ViT-L/14)
    const archOverride: string[] = [];
    if (args.weights[0] !== undefined && !args.overrides.some((o) => o.startsWith('model.arch='))) {
      const file = checkWeightsFile(args.weights[0]);
      const arch = archOfWeights(file);
      if (
        arch === null &&
        safetensorsShapes(file) !== null &&
        !baseOverrides(args, 'fairvlmed').some((o) => o.startsWith('model.arch='))
      )
        throw new CliError(
          `cannot tell the architecture of ${file} from its parameters; pass --arch NAME (${CLIP_CONFIG_NAMES.join(', ')}): every variant uses it`,
        );
      if (arch === null && safetensorsShapes(file) === null)
        throw new CliError(
          `${file} is not a safetensors file with OpenAI names: pass --arch NAME (${CLIP_CONFIG_NAMES.join(', ')})`,
        );
      if (arch !== null) archOverride.push(`model.arch=${JSON.stringify(arch)}`);
    }
    // the embedded default: the structured synthetic FairVLMed, generated at first use into the cache; what the
    // generation says is held back until every check passed (a user mistake stays one line)
    const heldNotes: string[] = [];
    const noteIo: Io = { ...io, stderr: (line: string) => heldNotes.push(line) };
    const dataArgs = embedded ? { ...args, data: embeddedDefault('fairvlmed', noteIo).root } : args;
    const base = [...baseOverrides(dataArgs, 'fairvlmed'), ...archOverride];
    const root = JSON.parse(base[0]!.slice('data.path='.length)) as string;
    const cells = gridCells(variants, attributes);
    const cellOverrides = (c: CellId) => [
      ...base,
      ...(embedded ? [...embeddedProfile(c.variant), ...embeddedGridProfile(c.variant)] : []),
      ...(c.attribute ? [`fairness.attributes=${JSON.stringify({ [c.attribute]: 1 })}`] : []),
    ];
    // the user's overrides apply to the cells whose preset has the field's section (e.g. linearProbe.* only to the
    // linear probe, fairness.* only to regularised variants)
    const userOverrides = (c: CellId) =>
      args.overrides.filter((o) => presetObject(c.variant)[o.split(/[.=]/, 1)[0] as string] !== null);
    // every configuration is checked before any work
    const configs = cells.map((c) => resolvePresetConfig(c.variant, [...cellOverrides(c), ...userOverrides(c)]));
    // the FairFace part (fairclip.md §5): its own cells on --fairface-data or the embedded synthetic FairFace, with
    // the grid's model (base minus its data.path), seeds and overrides (fairness.attributes.X only for its attributes)
    if (noFairface && ffOpt.value !== null)
      throw new CliError(
        '--fairface-data and --no-fairface: give one (the FairFace part runs on the folder or not at all)',
      );
    const ffEmbedded = ffOpt.value === null;
    const ffRoot = noFairface
      ? null
      : ffEmbedded
        ? embeddedDefault('fairface', noteIo).root
        : checkDataset(ffOpt.value, 'fairface');
    const ffCells: CellId[] = ffRoot === null ? [] : FAIRFACE_VARIANTS.map((variant) => ({ variant, attribute: null }));
    const ffOverrides = (c: CellId) => [
      `data.path=${JSON.stringify(ffRoot)}`,
      ...base.slice(1),
      ...(ffEmbedded ? [...embeddedProfile(c.variant), ...embeddedGridProfile(c.variant)] : []),
    ];
    const ffUserOverrides = (c: CellId) =>
      userOverrides(c).filter((o) => {
        const m = /^fairness\.attributes\.([^=]+)=/.exec(o);
        return m === null || m[1] === 'age' || m[1] === 'race';
      });
    const ffConfigs = ffCells.map((c) => resolvePresetConfig(c.variant, [...ffOverrides(c), ...ffUserOverrides(c)]));
    // with Slurm or --collect the runs execute elsewhere and this process only builds the report: cpu suffices
    const inProcess = exec.options.executor === 'local' && !exec.options.collect;
    const compute = await computeFor(inProcess ? args : { ...args, backend: 'cpu', allowSoftwareAdapter: false });
    for (const line of heldNotes) io.stderr(line);
    const out = resolve(args.out);
    const cache = new ImageCache();
    const total = [...configs, ...ffConfigs].reduce((n, c) => n + (c.mode === 'zeroshot' ? 1 : seeds.length), 0);
    io.stderr(
      `fairclip-reproduce: ${cells.length + ffCells.length} cells, ${total} runs on ${root}${ffRoot === null ? '' : ` and ${ffRoot}`} (${compute.backend})${embedded ? `, embedded default (quick profile)` : ''}`,
    );
    // the runs of the grid as a plan, executed by --jobs N processes or Slurm (with one job: by the loops below)
    const planOf = (c: CellId, config: TrainConfig) => ({
      key: cellKey(c),
      label: cellLabel(c, config.fairness?.attributes ?? null),
      preset: c.variant,
      config,
    });
    const executed = await executeGrid(
      exec.options,
      {
        out,
        dataRoot: root,
        backend: args.backend,
        allowSoftwareAdapter: args.allowSoftwareAdapter,
        quiet: args.quiet,
        embedded,
        cells: [
          ...cells.map((c, i) =>
            planCell(planOf(c, configs[i]!), cellOverrides(c), userOverrides(c), seeds, !noDistances),
          ),
          ...ffCells.map((c, i) =>
            planCell(planOf(c, ffConfigs[i]!), ffOverrides(c), ffUserOverrides(c), seeds, false),
          ),
        ],
      },
      { io, backend: compute.backend, distancesFresh },
    );
    if (executed.code !== null) return executed.code;
    // a run a worker process did in this invocation is not "reused" in the report, as in the sequential path
    const seedRuns = async (o: Parameters<typeof runSeeds>[0]) =>
      (await runSeeds(o)).map((r) => (executed.ran.has(r.outDir) ? { ...r, reused: false } : r));
    const started = Date.now();
    let done = 0;
    const results: CellResult[] = [];
    for (const [i, cell] of cells.entries()) {
      const cfg = configs[i]!;
      const cellSeeds = cfg.mode === 'zeroshot' ? [seeds[0]!] : seeds;
      const elapsed = (Date.now() - started) / 1000;
      const eta = done > 0 ? ` · eta ${Math.round((elapsed / done) * (total - done))} s` : '';
      const label = cellLabel(cell, cfg.fairness?.attributes ?? null);
      io.stderr(`[${done}/${total} runs${eta}] ${label}`);
      const runs = await seedRuns({
        preset: cell.variant,
        args: { ...args, seeds: cellSeeds, overrides: userOverrides(cell) },
        overrides: cellOverrides(cell),
        compute,
        io,
        folder: join('runs', cellKey(cell)),
      });
      done += runs.length;
      const distances: CellDistances[] = [];
      if (!noDistances && cfg.mode !== 'linear-probe')
        for (const r of runs) distances.push(await runDistances(r, root, cache, io));
      const first = runs[0]!;
      const sc = readScores(first.outDir, cfg.eval.attributes);
      const scores: TestScores | null = sc ? { seed: first.seed, ...sc } : null;
      results.push({
        id: cell,
        key: cellKey(cell),
        label,
        description: cfg.description,
        mode: cfg.mode,
        runs: runs.map((r) => ({
          seed: r.seed,
          outDir: relative(out, r.outDir),
          reused: r.reused,
          selectedEpoch: r.result.selection.epoch,
          optimistic: r.result.selection.optimistic,
        })),
        test: summarizeSeeds(runs),
        valAuc: summarize(runs.map((r) => r.result.selected?.val?.auc ?? null)),
        curves: runs.map((r) => ({ seed: r.seed, epochs: curveOf(r) })),
        scores,
        distances,
      });
    }
    const ffResults: CellResult[] = [];
    for (const [i, cell] of ffCells.entries()) {
      const cfg = ffConfigs[i]!;
      const elapsed = (Date.now() - started) / 1000;
      const eta = done > 0 ? ` · eta ${Math.round((elapsed / done) * (total - done))} s` : '';
      io.stderr(`[${done}/${total} runs${eta}] ${cellLabel(cell, cfg.fairness?.attributes ?? null)}`);
      const runs = await seedRuns({
        preset: cell.variant,
        args: { ...args, seeds: cfg.mode === 'zeroshot' ? [seeds[0]!] : seeds, overrides: ffUserOverrides(cell) },
        overrides: ffOverrides(cell),
        compute,
        io,
        folder: join('runs', cellKey(cell)),
      });
      done += runs.length;
      ffResults.push(fairfaceCell(cell, cfg, runs, out));
    }
    io.stderr(`[${done}/${total} runs] done in ${Math.round((Date.now() - started) / 1000)} s; writing the report`);
    // ---- the report
    const sample = configs[0]!;
    const data = openRunData(sample, root, { resolution: 224, cache });
    const groupNames = Object.fromEntries(ATTRIBUTES.map((a) => [a, data.groupNames[a] ?? []]));
    const firstRun = results[0]?.runs[0];
    const firstResult = firstRun
      ? (JSON.parse(readFileSync(join(out, firstRun.outDir, 'result.json'), 'utf8')) as {
          model: { arch: string; weights: string | null; numParameters: number };
          data: { sizes: Record<string, number> };
          backend: { name: string };
        })
      : null;
    const ffFirst = ffResults[0]?.runs[0];
    const ffResult = ffFirst
      ? (JSON.parse(readFileSync(join(out, ffFirst.outDir, 'result.json'), 'utf8')) as NonNullable<typeof firstResult>)
      : null;
    const fairface: FairFaceInput | null =
      ffRoot === null
        ? null
        : {
            facts: [
              `Data: ${ffRoot}${ffResult ? ` (train ${ffResult.data.sizes.train}, val ${ffResult.data.sizes.val}, test ${ffResult.data.sizes.test})` : ''}`,
              `Model: ${ffResult ? `${ffResult.model.arch}, weights ${ffResult.model.weights ?? 'seeded initialisation'}` : '–'} (the grid's; the study used RN50)`,
              `Seeds ${seeds.join(', ')} (zero-shot: one run); variants ${FAIRFACE_VARIANTS.join(', ')}`,
            ],
            notes: ffEmbedded
              ? [
                  `Embedded default: the synthetic FairFace (${ffRoot}, generated at first use; its validation ` +
                    'labels also serve as test labels as in the study, so "test" is the validation set and epoch selection is ' +
                    `optimistic) with a quick profile (${EMBEDDED_EPOCHS} fine-tuning epochs). It demonstrates the ` +
                    'pipeline; its numbers say nothing about FairCLIP+. Point --fairface-data at the real FairFace ' +
                    '(with the study’s fairface_label_test.csv) for a reproduction.',
                ]
              : [],
            attributes: ['age', 'race'],
            groupNames: { age: [...FAIRFACE_AGES], race: [...FAIRFACE_RACES] },
            cells: ffResults,
          };
    const report = buildReport({
      title: 'FairCLIP reproduction report',
      generatedAt: new Date().toISOString(),
      facts: [
        `Data: ${root}${firstResult ? ` (train ${firstResult.data.sizes.train}, val ${firstResult.data.sizes.val}, test ${firstResult.data.sizes.test})` : ''}`,
        `Model: ${firstResult ? `${firstResult.model.arch} (${firstResult.model.numParameters.toLocaleString('en')} parameters), weights ${firstResult.model.weights ?? 'seeded initialisation'}` : '–'}`,
        `Backend: ${firstResult?.backend.name ?? compute.backend}; seeds ${seeds.join(', ')}; variants ${variants.join(', ')}; regularised attributes ${attributes.join(', ')}`,
      ],
      attributes: [...ATTRIBUTES],
      groupNames,
      cells: results,
      fairface,
      profileNotes: [
        ...precisionNotes(results),
        ...(embedded
          ? [
              `Embedded default: the structured synthetic Harvard-FairVLMed (${root}; its parameters, bias mechanism and ` +
                'split construction are in its synth.json) and the default tiny CLIP pretrained on a separate synthetic ' +
                `corpus, with a quick profile (${EMBEDDED_EPOCHS} fine-tuning epochs at learning rate ${EMBEDDED_LR}, the ` +
                "examples' small-data settings). Point --data and --weights at the real dataset and ViT-B/16 weights for a " +
                'reproduction.',
              ...embeddedReading(results, embeddedFacts(root, firstResult?.data.sizes.test)),
            ]
          : []),
      ],
    });
    mkdirSync(out, { recursive: true });
    rmSync(join(out, 'figures'), { recursive: true, force: true });
    for (const [rel, svg] of report.figures) {
      const p = join(out, rel);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, svg);
    }
    writeFileSync(join(out, 'report.md'), report.markdown);
    // the FairFace part: its cells and comparisons, and what the brief has to set beside them (no numbers)
    const fairfaceJson = fairface && {
      data: ffRoot,
      attributes: fairface.attributes,
      cells: fairface.cells.map(({ scores: _s, ...c }) => c),
      comparisons: report.fairfaceComparisons,
      anchors: { numbers: [], ...FAIRFACE_ANCHORS },
    };
    writeFileSync(
      join(out, 'report.json'),
      `${JSON.stringify({ seeds, variants, attributes, cells: results.map(({ scores: _s, ...c }) => c), comparisons: report.comparisons, fairface: fairfaceJson }, null, 2)}\n`,
    );
    io.stdout(`FairCLIP reproduction: ${results.length + ffResults.length} cells, ${done} runs`);
    io.stdout(
      `Written: ${join(out, 'report.md')} (${report.figures.size} figures in ${join(out, 'figures')}), ${join(out, 'report.json')}`,
    );
    return 0;
  });
}
