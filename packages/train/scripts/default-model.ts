// The project's default tiny CLIP model: a small ViT configuration that runs the real FairCLIP preprocessing
// (224 px), a BPE vocabulary learned from the synthetic clinical-note corpus (OpenAI's vocabulary is never
// shipped), and seeded initial weights. `buildDefaultModel` is deterministic: the committed files in
// test-fixtures/data/default-model/ are what it returns (checked by test/default-model.test.ts).
// Regenerate with: pnpm exec tsx --conditions=@fairclip/source scripts/make-default-model.ts (from packages/train).
import {
  type BpeMerge,
  ClipModel,
  clipToSafetensors,
  encodeBpeVocab,
  type LearnBpeResult,
  learnBpe,
} from '@fairclip/clip';
import {
  FAIRFACE_AGES,
  FAIRFACE_GENDERS,
  FAIRFACE_PROMPTS,
  FAIRFACE_RACES,
  FAIRVLMED_PROMPTS,
  fairfaceCaption,
  openFairVlmed,
} from '@fairclip/datasets';

/** Seed of the initial weights. */
export const DEFAULT_MODEL_SEED = 20240;
/** Upper bound on the merges learned (learning stops earlier when no pair occurs twice). */
export const DEFAULT_MODEL_MAX_MERGES = 4000;
export const DEFAULT_MODEL_GENERATOR = 'packages/train/scripts/default-model.ts (buildDefaultModel)';

/** The architecture apart from vocab_size (which is the learned vocabulary's size). */
export const DEFAULT_MODEL_SHAPE = {
  embed_dim: 32,
  image_resolution: 224,
  vision_layers: 2,
  vision_width: 64,
  vision_patch_size: 32,
  context_length: 77,
  transformer_width: 48,
  transformer_heads: 4,
  transformer_layers: 2,
} as const;

/**
 * The corpus the vocabulary is learned from: the training captions of the synthetic FairVLMed (summaries cut at
 * 180 characters as FairCLIP does), FairCLIP's and the study's evaluation prompts, and every FairFace training
 * caption the study's template can produce (9 ages × 7 races × 2 genders).
 */
export function defaultModelCorpus(fairvlmedRoot: string): { texts: string[]; counts: Record<string, number> } {
  const train = openFairVlmed(fairvlmedRoot, 'train');
  const notes = train.records.map((r) => {
    if (r.caption === undefined) throw new Error(`no caption for ${r.file}`);
    return r.caption;
  });
  const faces = FAIRFACE_AGES.flatMap((age) =>
    FAIRFACE_RACES.flatMap((race) => FAIRFACE_GENDERS.map((g) => fairfaceCaption(age, race, g))),
  );
  const prompts = [...FAIRVLMED_PROMPTS, ...FAIRFACE_PROMPTS];
  return {
    texts: [...notes, ...prompts, ...faces],
    counts: { fairvlmedTrainingCaptions: notes.length, prompts: prompts.length, fairfaceCaptions: faces.length },
  };
}

export interface DefaultModelFiles {
  /** config.json (text). */
  config: string;
  /** vocab.txt.gz (OpenAI layout, gzip). */
  vocab: Uint8Array;
  /** weights.safetensors (float32, OpenAI names). */
  weights: Uint8Array;
  merges: BpeMerge[];
  learned: LearnBpeResult;
}

/** Builds the three files of the default model. Needs an initialised tfjs backend (any). */
export async function buildDefaultModel(fairvlmedRoot: string): Promise<DefaultModelFiles> {
  const corpus = defaultModelCorpus(fairvlmedRoot);
  const learned = learnBpe(corpus.texts, { numMerges: DEFAULT_MODEL_MAX_MERGES });
  const constructorArgs = { ...DEFAULT_MODEL_SHAPE, vocab_size: learned.vocabSize };
  const model = ClipModel.create(constructorArgs, { seed: DEFAULT_MODEL_SEED });
  try {
    const weights = await clipToSafetensors(model, {
      metadata: { generator: DEFAULT_MODEL_GENERATOR, seed: String(DEFAULT_MODEL_SEED) },
    });
    const config = {
      $comment:
        'The default tiny CLIP of fairclip-ts: a ViT (patch 32 at 224 px, so the real FairCLIP preprocessing runs) with ' +
        'a BPE vocabulary learned from the synthetic clinical-note corpus (OpenAI vocabulary never shipped) and ' +
        "seeded initial weights (OpenAI's initialisation scheme, @fairclip/clip's SeededRandom).",
      generator: DEFAULT_MODEL_GENERATOR,
      seed: DEFAULT_MODEL_SEED,
      corpus: {
        source:
          'test-fixtures/data/fairvlmed-mini (training captions) + evaluation prompts + FairFace caption template',
        ...corpus.counts,
        distinctWords: learned.distinctWords,
      },
      bpe: { maxMerges: DEFAULT_MODEL_MAX_MERGES, merges: learned.merges.length, vocabSize: learned.vocabSize },
      constructor_args: constructorArgs,
      numParameters: model.numParameters(),
      weights: 'weights.safetensors',
      vocab: 'vocab.txt.gz',
    };
    return {
      config: `${JSON.stringify(config, null, 2)}\n`,
      vocab: encodeBpeVocab(learned.merges, '#version: fairclip-ts default model (learned from the synthetic corpus)'),
      weights,
      merges: learned.merges,
      learned,
    };
  } finally {
    model.dispose();
  }
}
