// The model of a run: architecture, weights and BPE vocabulary resolved from the configuration (and checked) before
// any training starts; then the CLIP model and its tokenizer built.
//
// `model.arch` is a shipped architecture name or the path of a model JSON file holding CLIP's constructor arguments
// (bare or under `constructor_args`), optionally with `weights` and `vocab` file names relative to itself. The
// default tiny model (test-fixtures/data/default-model/config.json) is such a file.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import {
  type BpeTokenizer,
  CLIP_CONFIG_NAMES,
  type ClipConfig,
  type ClipConfigName,
  ClipModel,
  clipConfig,
  loadOpenAiTokenizer,
  type ParameterGroup,
  parseClipConfig,
  readWeightsFile,
} from '@fairclip/clip';
import type * as tf from '@tensorflow/tfjs-core';
import { ConfigError, type Trainable, type TrainConfig, type TrainingPrecision } from './config.ts';
import type { ParamGroup } from './optim.ts';

/** What a run's model is made of, resolved and checked (files exist) but not loaded. */
export interface ModelFiles {
  /** `model.arch` as configured. */
  arch: string;
  config: ClipConfig;
  /** Weights file, or null for the seeded random initialisation. */
  weights: string | null;
  vocab: string;
  /** Where `weights` / `vocab` came from: the configuration fields or the model JSON file. */
  weightsFrom: 'model.weights' | 'model.arch' | null;
  vocabFrom: 'model.vocab' | 'model.arch';
  /** `training.precision`: the model is built in this precision (default 'fp32'). */
  precision?: TrainingPrecision;
}

function checkFile(field: string, path: string, what: string): void {
  if (!existsSync(path)) throw new ConfigError(field, `${what} not found: ${path}`);
  if (!statSync(path).isFile()) throw new ConfigError(field, `${what} is not a file: ${path}`);
}

/**
 * Resolves `model.arch`, `model.weights` and `model.vocab` to files that exist and a validated CLIP configuration.
 * Throws {@link ConfigError} naming the field. Relative paths are taken from `baseDir` (default: the working folder).
 */
export function resolveModelFiles(cfg: TrainConfig, baseDir = process.cwd()): ModelFiles {
  const { arch } = cfg.model;
  const abs = (p: string, base: string) => (isAbsolute(p) ? p : resolve(base, p));
  let config: ClipConfig;
  let fileWeights: string | undefined;
  let fileVocab: string | undefined;
  if ((CLIP_CONFIG_NAMES as readonly string[]).includes(arch)) {
    config = clipConfig(arch as ClipConfigName);
  } else {
    const path = abs(arch, baseDir);
    checkFile('model.arch', path, 'model file');
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new ConfigError('model.arch', `${path} is not valid JSON: ${(e as Error).message}`);
    }
    try {
      config = parseClipConfig(json, path);
    } catch (e) {
      throw new ConfigError('model.arch', (e as Error).message);
    }
    const o = json as Record<string, unknown>;
    for (const k of ['weights', 'vocab'] as const) {
      if (o[k] !== undefined && typeof o[k] !== 'string')
        throw new ConfigError('model.arch', `${path}: "${k}" must be a file name, got ${JSON.stringify(o[k])}`);
    }
    if (typeof o.weights === 'string') fileWeights = abs(o.weights, dirname(path));
    if (typeof o.vocab === 'string') fileVocab = abs(o.vocab, dirname(path));
  }
  let weights: string | null = null;
  let weightsFrom: ModelFiles['weightsFrom'] = null;
  if (cfg.model.weights !== null) {
    weights = abs(cfg.model.weights, baseDir);
    weightsFrom = 'model.weights';
    checkFile('model.weights', weights, 'weights file');
  } else if (fileWeights !== undefined) {
    weights = fileWeights;
    weightsFrom = 'model.arch';
    checkFile('model.arch', weights, 'weights file named by the model file');
  }
  let vocab: string;
  let vocabFrom: ModelFiles['vocabFrom'];
  if (cfg.model.vocab !== null) {
    vocab = abs(cfg.model.vocab, baseDir);
    vocabFrom = 'model.vocab';
    checkFile('model.vocab', vocab, 'BPE vocabulary');
  } else if (fileVocab !== undefined) {
    vocab = fileVocab;
    vocabFrom = 'model.arch';
    checkFile('model.arch', vocab, 'BPE vocabulary named by the model file');
  } else {
    throw new ConfigError(
      'model.vocab',
      `architecture '${arch}' needs a BPE vocabulary file: OpenAI's bpe_simple_vocab_16e6.txt.gz is not shipped with ` +
        'this project (pass its path), or use a model file that names its own vocabulary',
    );
  }
  return { arch, config, weights, vocab, weightsFrom, vocabFrom, precision: cfg.training.precision };
}

/** The model and tokenizer of a run. */
export interface LoadedModel {
  model: ClipModel;
  tokenizer: BpeTokenizer;
  files: ModelFiles;
  /** Seed of the random initialisation (null when weights were loaded). */
  initSeed: number | null;
}

/**
 * Builds the model (weights from the file, else OpenAI's initialisation scheme seeded with `seed`) and the tokenizer,
 * and checks that every token id of the vocabulary fits the model's embedding.
 */
export async function loadModel(files: ModelFiles, seed: number): Promise<LoadedModel> {
  // A vocabulary of another size than the model's embedding (a truncated file, another model's merges) would shift
  // every token id: the tokenizer refuses it with a TokenizerError naming the file.
  const tokenizer = loadOpenAiTokenizer(files.vocab, { expectedVocabSize: files.config.vocab_size });
  if (tokenizer.vocabSize > files.config.vocab_size)
    throw new ConfigError(
      files.vocabFrom,
      `the vocabulary ${files.vocab} has ${tokenizer.vocabSize} tokens but the model's vocab_size is ${files.config.vocab_size}`,
    );
  let model: ClipModel;
  if (files.weights !== null) {
    const w = await readWeightsFile(files.weights);
    model = ClipModel.create(files.config, {
      weights: w.stateDict,
      source: files.weights,
      precision: files.precision ?? 'fp32',
    });
  } else {
    model = ClipModel.create(files.config, { seed, precision: files.precision ?? 'fp32' });
  }
  return { model, tokenizer, files, initSeed: files.weights === null ? seed : null };
}

/** The module groups trained by each `optim.trainable` policy (fairclip.md §2, §3.4). */
export const TRAINABLE_GROUPS: Record<Trainable, readonly ParameterGroup[]> = {
  official: ['visual', 'transformer'],
  all: [
    'visual',
    'transformer',
    'token_embedding',
    'positional_embedding',
    'ln_final',
    'text_projection',
    'logit_scale',
  ],
};

/**
 * Optimiser parameter groups (one per CLIP module group) with the state-dict names as stable state keys; in the
 * 'fp16-emulated' precision, the model's half parameters are flagged so that the optimiser rounds them to float16
 * after each step (the official code's convert_weights after its float32 step).
 */
export function paramGroups(model: ClipModel, trainable: Trainable): ParamGroup[] {
  const groups = model.parameterGroups();
  const half = model.precision === 'fp16-emulated';
  return TRAINABLE_GROUPS[trainable]
    .map((name) => {
      const entries = [...groups[name].entries()];
      const g = { name, params: entries.map(([, v]) => v as tf.Variable), keys: entries.map(([k]) => k) };
      return half ? { ...g, half: entries.map(([k]) => model.isHalfParameter(k)) } : g;
    })
    .filter((g) => g.params.length > 0);
}
