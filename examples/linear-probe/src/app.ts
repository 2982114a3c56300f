/**
 * The linear-probe app: frozen CLIP image (or image + text) features, BatchNorm + linear head trained with LARS
 * (FairCLIP's mae/main_linprobe.py, preset linear-probe), once per seed; test metrics at the best validation AUC.
 */
import { CliError, COMMON_HELP, type Io, type PresetApp, runPresetApp, seedsLine } from '@fairclip/example-common';

export const HELP = `Usage: fairclip-linear-probe [options]

Linear probing on Harvard-FairVLMed (preset linear-probe: frozen CLIP features, BatchNorm1d + Linear, LARS with
warm-up and half-cosine, evaluation every linearProbe.evalEvery epochs, test metrics at the best validation AUC),
once per seed: AUC, ES-AUC, DPD, DEOdds, ES-Acc and group AUCs (×100, mean ± std over seeds). Multimodal features
(image + text): --set linearProbe.features=multimodal. Without options: the default tiny CLIP on the embedded
synthetic FairVLMed (48 training samples) with the embedded profile linearProbe.batchSize=16 and
linearProbe.epochs=100 (the preset's batch of 512 does not fit; --set overrides it). Outputs in --out (default
runs/linear-probe): linear-probe/seed-<s>/, summary.md, summary.json; rerun to resume.

${COMMON_HELP}`;

export const APP: PresetApp = {
  name: 'fairclip-linear-probe',
  defaults: { preset: 'linear-probe', out: 'runs/linear-probe' },
  dataset: 'fairvlmed',
  help: HELP,
  weights: 'weights file (the frozen encoder)',
  check: (cfg, preset) => {
    if (cfg.mode !== 'linear-probe')
      throw new CliError(`--preset: ${preset} is not a linear-probe preset (mode ${cfg.mode})`);
  },
  header: (run) => [
    run.title,
    seedsLine(run, `${run.cfg.linearProbe?.features} features; test metrics at the best validation AUC`),
  ],
};

export const runApp = (argv: readonly string[], io: Io): Promise<number> => runPresetApp(APP, argv, io);
