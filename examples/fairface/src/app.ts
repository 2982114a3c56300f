/**
 * The fairface app: the reproducibility study's FairFace experiments (fairclip.md §5): zero-shot gender
 * classification ("A picture of a female person" / "... male person"), CLIP fine-tuning and FairCLIP+ over age and
 * race, by preset name, once per seed; metrics per age and race group.
 */
import { cpSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  COMMON_HELP,
  EMBEDDED_FAIRFACE,
  type Io,
  type PresetApp,
  runPresetApp,
  seedsLine,
} from '@fairclip/example-common';

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

export const APP: PresetApp = {
  name: 'fairclip-fairface',
  defaults: { preset: 'fairface-clip-zeroshot', out: 'runs/fairface' },
  dataset: 'fairface',
  help: HELP,
  presets: FAIRFACE_PRESETS,
  embeddedData: embeddedWithTest,
  header: (run) => [run.title, seedsLine(run, 'zero-shot gender classification, test set')],
};

export const runApp = (argv: readonly string[], io: Io): Promise<number> => runPresetApp(APP, argv, io);
