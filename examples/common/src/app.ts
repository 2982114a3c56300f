/**
 * The run loop shared by the preset apps (zero-shot, finetune, linear-probe, fairface): parse the common flags,
 * check paths, preset and overrides before initCompute, run the preset once per seed (finished runs reused,
 * interrupted ones resumed), write summary.md / summary.json and print the table. An app is a declaration (AppSpec).
 */
import { resolvePresetConfig, type TrainConfig } from '@fairclip/train';
import { CliError, clip, parseRunArgs } from './cli.ts';
import {
  baseOverrides,
  checkOutDir,
  computeFor,
  type Io,
  METRIC_HEADER,
  runMain,
  runSeeds,
  type SeedRun,
  summarizeSeeds,
  summaryRows,
  textTable,
  writeSummary,
} from './index.ts';

/**
 * Overrides that fit a preset to the embedded synthetic FairVLMed (48 training / 16 val / 32 test samples). The apps
 * apply them when --data is not given, before the user's --set overrides (which therefore still win). Linear-probe
 * presets get `linearProbe.batchSize=16` (the preset's 512 makes no batch of 48 samples; 16 gives 3 LARS steps an
 * epoch) and `linearProbe.epochs=100` (10 warm-up epochs and evaluation every 10 epochs as the preset; the preset's
 * 1000 epochs take about a minute on 2 CPU cores) and `linearProbe.augmentation="none"` (features extracted once:
 * the original's per-epoch crops and flips recompute every training feature each epoch, over a minute here; the
 * result notes say which is in effect). Every other preset runs on the embedded data as it is: [].
 * An unknown preset throws @fairclip/train's ConfigError naming it.
 */
export function embeddedProfile(preset: string): string[] {
  const cfg = resolvePresetConfig(preset);
  if (cfg.mode === 'linear-probe')
    return ['linearProbe.batchSize=16', 'linearProbe.epochs=100', 'linearProbe.augmentation="none"'];
  return [];
}

/** What an app's header lines are made of. */
export interface PresetAppRun {
  preset: string;
  /** The resolved configuration (app and user overrides applied, the preset's seed). */
  cfg: TrainConfig;
  /** The summary title (AppSpec.title). */
  title: string;
  runs: readonly SeedRun[];
  /** The compute backend in use ('webgpu', 'wasm' or 'cpu'). */
  backend: string;
}

/** An app over @fairclip/train presets: its name, defaults and texts. */
export interface PresetApp {
  /** The program name, prefix of user error messages ("fairclip-finetune: ..."). */
  name: string;
  /** --preset and --out when not given. */
  defaults: { preset: string; out: string };
  dataset: 'fairvlmed' | 'fairface';
  /** Printed by --help. */
  help: string;
  /** What the one --weights file is, in "--weights: give one <weights>" (default 'weights file'). */
  weights?: string;
  /** The presets the app accepts (others refused before any work); default any preset. */
  presets?: readonly string[];
  /** Refuses a resolved configuration the app cannot run (throw a CliError); runs before initCompute. */
  check?: (cfg: TrainConfig, preset: string) => void;
  /** The dataset folder when --data is not given (default the embedded one), e.g. a prepared copy under --out. */
  embeddedData?: (out: string) => string;
  /** The summary title (default "<preset>: <cfg.description>"). */
  title?: (preset: string, cfg: TrainConfig) => string;
  /** The lines printed before the table. */
  header: (run: PresetAppRun) => string[];
}

/** "<n> seed(s) on <data folder> (<backend>); <detail>; ×100": the usual second header line. */
export function seedsLine(run: PresetAppRun, detail: string): string {
  return `${run.runs.length} seed(s) on ${run.cfg.data.path} (${run.backend}); ${detail}; ×100`;
}

/**
 * Runs a preset app: --help; refuses leftover arguments, an --out that cannot be a writable folder (checkOutDir),
 * several --weights, a preset outside `presets`, bad paths,
 * a bad preset or override and a configuration `check` refuses, all before initCompute (exit code 2, one line on
 * stderr); without --data adds embeddedProfile(preset) before the user's overrides; runs the seeds into
 * <out>/<preset>/seed-<s>/, writes <out>/summary.md and summary.json, prints the header lines, the metric table and
 * the written files. Returns the exit code.
 */
export function runPresetApp(app: PresetApp, argv: readonly string[], io: Io): Promise<number> {
  return runMain(app.name, io, async (ctx) => {
    const args = parseRunArgs(argv, app.defaults);
    if (args.help) {
      io.stdout(app.help);
      return 0;
    }
    ctx.watch(args);
    if (args.rest.length > 0) throw new CliError(`unexpected argument "${clip(args.rest[0] ?? '')}" (see --help)`);
    checkOutDir(args.out);
    if (args.weights.length > 1) throw new CliError(`--weights: give one ${app.weights ?? 'weights file'}`);
    const { preset } = args;
    if (app.presets && !app.presets.includes(preset))
      throw new CliError(`--preset: expected one of ${app.presets.join(', ')}, got "${clip(preset)}"`);
    const embedded = args.data === null;
    const data = args.data ?? app.embeddedData?.(args.out) ?? null;
    const overrides = [...baseOverrides({ ...args, data }, app.dataset), ...(embedded ? embeddedProfile(preset) : [])];
    const cfg = resolvePresetConfig(preset, [...overrides, ...args.overrides]); // bad overrides: refused before initCompute
    app.check?.(cfg, preset);
    const compute = await computeFor(args);
    const runs = await runSeeds({ preset, args, overrides, compute, io });
    const summary = summarizeSeeds(runs);
    const title = app.title ? app.title(preset, cfg) : `${preset}: ${cfg.description}`;
    const files = writeSummary(args.out, title, runs, summary);
    for (const line of app.header({ preset, cfg, title, runs, backend: compute.backend })) io.stdout(line);
    io.stdout(textTable(METRIC_HEADER, summaryRows(summary)));
    io.stdout(`\nWritten: ${files.markdown}, ${files.json}`);
    return 0;
  });
}
