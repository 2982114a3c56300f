/**
 * The zero-shot app: pretrained CLIP scored zero-shot on FairVLMed's test set (preset clip-zeroshot: raw cosine to
 * "A photo of non-glaucoma" / "A photo of glaucoma", p₁ = softmax₁), with every fairness metric per attribute.
 * Free of process globals so that tests run it in-process.
 */
import { COMMON_HELP, type Io, type PresetApp, runPresetApp } from '@fairclip/example-common';

export const HELP = `Usage: fairclip-zero-shot [options]

CLIP zero-shot glaucoma classification on Harvard-FairVLMed's test set with AUC, ES-AUC, DPD, DEOdds, ES-Acc and
group AUCs for race, gender, ethnicity and language (×100, mean ± std over --seeds). Without options it runs the
default tiny CLIP on the embedded synthetic FairVLMed. Outputs in --out (default runs/zero-shot):
<preset>/seed-<s>/ (result.json, epochs_test.csv, summary.md of each run), summary.md and summary.json.

${COMMON_HELP}`;

export const APP: PresetApp = {
  name: 'fairclip-zero-shot',
  defaults: { preset: 'clip-zeroshot', out: 'runs/zero-shot' },
  dataset: 'fairvlmed',
  help: HELP,
  title: (preset) => `${preset}: zero-shot test metrics`,
  header: ({ preset, cfg, backend }) => [`${preset} on ${cfg.data.path} (${backend}), test set, ×100`],
};

export const runApp = (argv: readonly string[], io: Io): Promise<number> => runPresetApp(APP, argv, io);
