// Pretrains the project's default tiny CLIP and writes test-fixtures/data/default-model/{config.json, vocab.txt.gz,
// weights.safetensors}. Reproducible: the same command on the same backend writes the same files.
//
//   cd packages/train && pnpm build --filter ... (the packages' dist: tfjs-core's gradients load from compute's dist)
//   pnpm exec tsx scripts/pretrain-default-model.ts [--epochs 10] [--backend wasm] [--work DIR] [--out DIR]
//
// 1. A pretraining corpus that is NOT the fine-tuning data: the structured synthetic FairVLMed generator with
//    another seed (PRETRAIN_SEED) and the shifted 'pretrain' style — another device (brighter, flatter field, weaker
//    cup contrast, larger discs, thinner vessels), atlas-style captions ("fundus photograph of an eye with glaucoma,
//    cup to disc ratio 0.70", "a photo of non-glaucoma", 5 % flipped) instead of visit summaries, no group bias.
// 2. The vocabulary: the project's own BPE learner (@fairclip/clip learnBpe) on the corpus captions, visit summaries
//    drawn with the pretraining seed (texts only, so that FairVLMed-style notes tokenize into few tokens), the
//    evaluation prompts and every FairFace caption of the study's template. OpenAI's vocabulary is never used.
// 3. Contrastive pretraining from OpenAI's initialisation scheme (seed DEFAULT_MODEL_SEED) with @fairclip/train's own
//    loop (the clip-finetune preset's contrastive loss, every parameter trainable, Adam (0.9, 0.98), lr 1e-3, the preset's
//    L2 weight decay 6e-5, fp32),
//    the epoch kept being the best zero-shot AUC on the corpus's own validation split (never the fine-tuning data).
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { encodeBpeVocab, learnBpe, readSafetensors, writeSafetensors } from '@fairclip/clip';
import { initCompute } from '@fairclip/compute';
import {
  FAIRFACE_AGES,
  FAIRFACE_GENDERS,
  FAIRFACE_PROMPTS,
  FAIRFACE_RACES,
  FAIRVLMED_PROMPTS,
  fairfaceCaption,
  readSynthRecord,
  type StructuredSynthOptions,
  structuredSamples,
  synthesizeStructuredFairVlmed,
  truncateNote,
} from '@fairclip/datasets';
import { resolvePresetConfig, runTraining } from '@fairclip/train';
import { DEFAULT_MODEL_MAX_MERGES, DEFAULT_MODEL_SEED, DEFAULT_MODEL_SHAPE } from './default-model.ts';

export const PRETRAIN_SEED = 7077;
export const PRETRAIN_CORPUS: StructuredSynthOptions = {
  seed: PRETRAIN_SEED,
  train: 1600,
  val: 240,
  test: 64,
  valQuota: 0,
  testQuota: 0,
  bias: 0,
  imageShape: [290, 224],
  style: 'pretrain',
};
export const PRETRAIN_GENERATOR = 'packages/train/scripts/pretrain-default-model.ts';

const { values: argv } = parseArgs({
  options: {
    epochs: { type: 'string', default: '10' },
    backend: { type: 'string', default: 'wasm' },
    work: { type: 'string', default: join(tmpdir(), 'fairclip-pretrain-default-model') },
    out: { type: 'string' },
  },
});
const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
const out = resolve(argv.out ?? join(repo, 'test-fixtures', 'data', 'default-model'));
const work = resolve(argv.work);
const epochs = Number(argv.epochs);
if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`--epochs: a positive integer, got ${argv.epochs}`);
const command = `pnpm exec tsx scripts/pretrain-default-model.ts --epochs ${epochs} --backend ${argv.backend} (from packages/train)`;

const started = performance.now();
const corpus = join(work, `corpus-seed${PRETRAIN_SEED}`);
if (readSynthRecord(corpus) === null) {
  rmSync(corpus, { recursive: true, force: true });
  console.log(`corpus: generating ${corpus}`);
  synthesizeStructuredFairVlmed(corpus, PRETRAIN_CORPUS, { command });
}
console.log(`corpus ready (${((performance.now() - started) / 1000).toFixed(1)} s)`);

// ---- vocabulary
const captions = structuredSamples(PRETRAIN_CORPUS)
  .filter((s) => s.split === 'train')
  .map((s) => truncateNote(s.summary, 180));
const summaries = structuredSamples({ ...PRETRAIN_CORPUS, style: 'fairvlmed', val: 0, test: 0 }).map((s) =>
  truncateNote(s.summary, 180),
);
const faces = FAIRFACE_AGES.flatMap((age) =>
  FAIRFACE_RACES.flatMap((race) => FAIRFACE_GENDERS.map((g) => fairfaceCaption(age, race, g))),
);
const prompts = [...FAIRVLMED_PROMPTS, ...FAIRFACE_PROMPTS];
const learned = learnBpe([...captions, ...summaries, ...prompts, ...faces], { numMerges: DEFAULT_MODEL_MAX_MERGES });
const modelDir = join(work, 'model');
mkdirSync(modelDir, { recursive: true });
const constructorArgs = { ...DEFAULT_MODEL_SHAPE, vocab_size: learned.vocabSize };
const vocabBytes = encodeBpeVocab(
  learned.merges,
  '#version: fairclip-ts default model (learned from the synthetic corpus)',
);
writeFileSync(join(modelDir, 'vocab.txt.gz'), vocabBytes);
writeFileSync(
  join(modelDir, 'config.json'),
  JSON.stringify({ constructor_args: constructorArgs, vocab: 'vocab.txt.gz' }),
);

// ---- contrastive pretraining with @fairclip/train's loop
const compute = await initCompute({ backend: argv.backend as 'wasm' });
const runDir = join(work, `run-${epochs}`);
const overrides = [
  `data.path=${JSON.stringify(corpus)}`,
  `model.arch=${JSON.stringify(join(modelDir, 'config.json'))}`,
  'optim.trainable="all"',
  'optim.lr=1e-3',
  'optim.betas=[0.9,0.98]',
  `training.epochs=${epochs}`,
  `training.seed=${DEFAULT_MODEL_SEED}`,
  'training.precision="fp32"',
  'eval.selection="val-auc"',
];
const cfg = resolvePresetConfig('clip-finetune', overrides);
const result = await runTraining({
  config: cfg,
  outDir: runDir,
  compute: { backend: compute.backend },
  progress: true,
  resume: 'never',
});
const best = join(result.outDir, 'best.safetensors');
if (!existsSync(best)) throw new Error(`no best.safetensors in ${result.outDir}`);
const selected = result.epochs.find((e) => e.epoch === result.selectedEpoch);
const seconds = (performance.now() - started) / 1000;

// ---- the committed files, with provenance in the weights' metadata and in config.json
const provenance = {
  generator: PRETRAIN_GENERATOR,
  command,
  backend: compute.backend,
  initSeed: DEFAULT_MODEL_SEED,
  /** The fixtures' provenance field: the seed of the initial weights and of the pretraining run. */
  seed: DEFAULT_MODEL_SEED,
  corpus: {
    generator: '@fairclip/datasets synthesizeStructuredFairVlmed',
    options: { ...PRETRAIN_CORPUS, imageShape: [...PRETRAIN_CORPUS.imageShape] },
    note: 'a separate corpus: another seed than the embedded FairVLMed default and the shifted pretrain style',
  },
  training: {
    preset: 'clip-finetune',
    overrides: overrides.filter((o) => !o.startsWith('data.path=') && !o.startsWith('model.arch=')),
    selectedEpoch: result.selectedEpoch,
    corpusValAuc: selected?.val?.auc ?? null,
  },
};
const contents = readSafetensors(readFileSync(best), best);
const weights = writeSafetensors(contents.tensors, {
  metadata: {
    format: 'pt',
    config: JSON.stringify(constructorArgs),
    generator: PRETRAIN_GENERATOR,
    command,
    provenance: JSON.stringify(provenance),
  },
});
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'weights.safetensors'), weights);
copyFileSync(join(modelDir, 'vocab.txt.gz'), join(out, 'vocab.txt.gz'));
const config = {
  $comment:
    'The default tiny CLIP of fairclip-ts: a ViT (patch 32 at 224 px, so the real FairCLIP preprocessing runs) with ' +
    'a BPE vocabulary learned by the project from its synthetic corpus (OpenAI vocabulary never shipped), ' +
    'pretrained contrastively on a separate synthetic fundus corpus (another seed and device style than the ' +
    'embedded FairVLMed default, atlas-style captions), so zero-shot works and fine-tuning still has a shift to learn.',
  ...provenance,
  bpe: {
    maxMerges: DEFAULT_MODEL_MAX_MERGES,
    merges: learned.merges.length,
    vocabSize: learned.vocabSize,
    distinctWords: learned.distinctWords,
    corpus: {
      pretrainingCaptions: captions.length,
      visitSummaries: summaries.length,
      prompts: prompts.length,
      fairfaceCaptions: faces.length,
    },
  },
  constructor_args: constructorArgs,
  weights: 'weights.safetensors',
  vocab: 'vocab.txt.gz',
};
writeFileSync(join(out, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
console.log(
  `default model: vocab ${learned.vocabSize}, epoch ${result.selectedEpoch} selected (corpus val AUC ` +
    `${selected?.val?.auc?.toFixed(4) ?? '–'}), ${weights.length} bytes, ${Math.round(seconds)} s -> ${out}`,
);
