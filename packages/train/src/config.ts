// The training configuration: one schema for every paper variant. Presets (presets/*.json) are data; a preset can
// extend another, and any field can be overridden from the command line ("fairness.lambda=1e-6").
// Validation happens before any training starts and names the offending field.

import { CLIP_CONFIG_NAMES } from '@fairclip/clip';
import { FAIRVLMED_ATTRIBUTES, FairclipError } from '@fairclip/io';

export type Mode = 'zeroshot' | 'finetune' | 'linear-probe';
export type DatasetKind = 'fairvlmed' | 'fairface';
export type Similarity = 'pair' | 'official';
export type Normalisation = 'none' | 'group-sum' | 'both';
export type GroupSource = 'loaders' | 'batch';
export type DistanceLoss = 'sinkhorn' | 'energy' | 'gaussian' | 'laplacian';
export type Selection = 'val-auc' | 'test-auc';
export type Trainable = 'official' | 'all';
/** Numeric precision of training and evaluation (@fairclip/clip's ClipPrecision). */
export type TrainingPrecision = 'fp32' | 'fp16-emulated';
/**
 * How the attributes' terms combine: 'sum' = λ·Σ_a w_a·Σ_g D (FairCLIP+, finetune_FairerCLIP.py); 'mean-over-weighted'
 * = the same divided by the number of attributes with w_a ≠ 0 (the study's FairFace script,
 * finetune_FairerCLIP_fairface.py `loss_fairer_CLIP`: `return total_sinkhorn_loss/total_groups`).
 */
export type AttributeReduction = 'sum' | 'mean-over-weighted';
/**
 * 'intended': the gradient is that of L_CLIP + penalty. 'clip-loss-only': the penalty is computed and logged but the
 * loss that is differentiated is L_CLIP alone — the study's MMD scripts as they ran (FairCLIPPlus_refactored_mmd_*.py,
 * `loss = base_loss` right after adding the fairness term, in every commit of those files).
 */
export type FairnessAsRan = 'intended' | 'clip-loss-only';
/**
 * Zero-shot scores of the validation split: 'normalised' = cosines (evaluate_CLIP.py, every official script);
 * 'unnormalised' = dot products of the raw image and prompt features (finetune_FairerCLIP.py since commit a04db19,
 * lines 327–333, where the two `/= norm` lines are commented out). The test split is always scored normalised.
 */
export type ValScoring = 'normalised' | 'unnormalised';

export interface DistanceConfig {
  loss: DistanceLoss;
  p: number;
  blur: number;
  scaling: number;
  diameter: number | null;
  debias: boolean;
  /** 'geomloss' runs geomloss's annealing exactly (the official numbers); 'auto' may use the exact 1-D solver. */
  solver: 'geomloss' | 'auto' | 'exact-1d';
}

export interface FairnessConfig {
  /** λ: weight of the fairness regulariser; 0 disables it. */
  lambda: number;
  /** Attribute → weight w_a (FairCLIP: one attribute with weight 1; FairCLIP+: several). */
  attributes: Record<string, number>;
  similarity: Similarity;
  normalisation: Normalisation;
  groupSource: GroupSource;
  groupBatchSize: number;
  distance: DistanceConfig;
  attributeReduction: AttributeReduction;
  asRan: FairnessAsRan;
}

export interface TrainConfig {
  preset: string;
  description: string;
  /** Where the settings come from (section of the reference brief). */
  source: string;
  mode: Mode;
  data: {
    dataset: DatasetKind;
    /** Dataset root; null = the embedded synthetic FairVLMed in test-fixtures. */
    path: string | null;
    /** Training captions: the GPT-4 summaries ('note') or the label prompts ('label'). */
    textSource: 'note' | 'label';
    /**
     * Captions of the group batches of the fairness term ('loaders'): the original always uses the notes (the
     * GPT-4 summaries: `fair_vl_group_dataset(..., text_source='note')` in every FairCLIP script), whatever the
     * training batches use.
     */
    groupTextSource: 'note' | 'label';
    summaryMaxChars: number;
    /**
     * Keep only the first N samples of a split (natural file order, after the official filters; FairFace's `limit`);
     * null = the dataset's default (all of FairVLMed, FairFace's first 10,000). For smoke runs and small-data studies:
     * metrics on a cut validation or test split are not comparable with the full one.
     */
    limits: { train: number | null; val: number | null; test: number | null };
  };
  model: {
    /**
     * 'ViT-B/16', 'ViT-B/32', 'ViT-L/14', 'RN50', or the path of a model JSON file: CLIP constructor arguments (bare or
     * under `constructor_args`), optionally naming its `weights` and `vocab` files relative to itself (the default
     * tiny model in test-fixtures/data/default-model/config.json does).
     */
    arch: string;
    /** Weights file (safetensors / .pt / .pth); null = random initialisation (only sensible for the tiny model). */
    weights: string | null;
    /** BPE vocabulary (bpe_simple_vocab_16e6.txt.gz or a merges file); null = the project's own vocabulary. */
    vocab: string | null;
  };
  optim: {
    kind: 'adam';
    lr: number;
    betas: [number, number];
    eps: number;
    weightDecay: number;
    trainable: Trainable;
  };
  training: {
    epochs: number;
    batchSize: number;
    seed: number;
    dropLast: boolean;
    /**
     * Numeric precision of the model: 'fp32', or 'fp16-emulated' (the official code on a GPU: CLIP in half precision
     * after `clip.model.convert_weights`, weights cast back to float16 after each float32 Adam step; emulated on
     * float32 backends, see @fairclip/clip's ClipModel.setPrecision). Half precision overflows above 65504.
     */
    precision: TrainingPrecision;
  };
  fairness: FairnessConfig | null;
  eval: {
    attributes: string[];
    selection: Selection;
    /** Zero-shot prompts, class 0 then class 1. */
    prompts: [string, string];
    threshold: number;
    batchSize: number;
    /**
     * Evaluate every N epochs (and always after the last one); model selection considers the evaluated epochs. The
     * official code evaluates every epoch (1).
     */
    every: number;
    /**
     * TPR/FPR of a group without positives/negatives: 'fairlearn' (0, as fairlearn 0.9 and so the official numbers)
     * or 'strict' (undefined, left out of the differences). See @fairclip/fairness RateMode.
     */
    rateMode: 'strict' | 'fairlearn';
    /** How the validation split is scored (model selection); see {@link ValScoring}. */
    valScoring: ValScoring;
  };
  linearProbe: {
    epochs: number;
    batchSize: number;
    blr: number;
    minLr: number;
    warmupEpochs: number;
    weightDecay: number;
    features: 'image' | 'multimodal';
    evalEvery: number;
    /**
     * Training-image augmentation: 'original' = a fresh RandomResizedCrop(224, scale (0.5, 1), ratio (3/4, 4/3),
     * bicubic) + horizontal flip of every training image every epoch (BLIP-2's train processor, as
     * mae/main_linprobe.py uses it), so the frozen features are recomputed each epoch; 'none' = features of the
     * evaluation transform Resize((224, 224)) computed once.
     */
    augmentation: 'original' | 'none';
    /**
     * Captions of the multimodal features: 'blip' = BLIP's caption processor (lower-case, punctuation .!"()*#:;~ to
     * spaces, at most 50 words) then truncate_note(·, data.summaryMaxChars) as mae/engine_finetune.py; 'none' = the
     * training captions as they are.
     */
    captionProcessor: 'blip' | 'none';
  } | null;
}

/** Attributes each dataset provides (the sensitive attributes a config may name). */
export const DATASET_ATTRIBUTES: Record<DatasetKind, readonly string[]> = {
  fairvlmed: FAIRVLMED_ATTRIBUTES,
  fairface: ['age', 'race'],
};

/** A user-controlled text cut for an error message. */
const cut = (s: string, max = 80): string => (s.length <= max ? s : `${s.slice(0, max)}…`);

export class ConfigError extends FairclipError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('CONFIG', `config: ${cut(field, 120)}: ${message}`);
    this.name = 'ConfigError';
    this.field = field;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// A small schema language: each node validates a value at a path and returns it typed.

type Validator<T> = (value: unknown, path: string) => T;

/** A value as an error message shows it (user-controlled: cut to 80 characters). */
const describe = (v: unknown): string => {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = '(unprintable)';
  }
  return `${typeof v} ${text.length <= 80 ? text : `${text.slice(0, 80)}…`}`;
};

interface NumOptions {
  min?: number;
  max?: number;
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
  integer?: boolean;
}

const bound = (x: number): string => (x === Number.MAX_SAFE_INTEGER ? '2^53 − 1' : String(x));

/** The accepted range of a number field, in words ("integers from 1 to 1000000", "numbers > 0"). */
function accepted(opts: NumOptions): string {
  const kind = opts.integer ? 'integers' : 'numbers';
  const { min, max } = opts;
  if (min !== undefined && max !== undefined) {
    if (opts.integer && !opts.exclusiveMin && !opts.exclusiveMax) return `${kind} from ${bound(min)} to ${bound(max)}`;
    return `${kind} in ${opts.exclusiveMin ? '(' : '['}${bound(min)}, ${bound(max)}${opts.exclusiveMax ? ')' : ']'}`;
  }
  if (min !== undefined) return `${kind} ${opts.exclusiveMin ? '>' : '>='} ${bound(min)}`;
  if (max !== undefined) return `${kind} ${opts.exclusiveMax ? '<' : '<='} ${bound(max)}`;
  return `finite ${kind}`;
}

function num(opts: NumOptions = {}): Validator<number> {
  const range = `(accepted: ${accepted(opts)})`;
  return (v, path) => {
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new ConfigError(path, `expected a finite number, got ${describe(v)} ${range}`);
    if (opts.integer && !Number.isInteger(v)) throw new ConfigError(path, `expected an integer, got ${v} ${range}`);
    if (opts.min !== undefined && (opts.exclusiveMin ? v <= opts.min : v < opts.min)) {
      throw new ConfigError(path, `must be ${opts.exclusiveMin ? '>' : '>='} ${bound(opts.min)}, got ${v} ${range}`);
    }
    if (opts.max !== undefined && (opts.exclusiveMax ? v >= opts.max : v > opts.max))
      throw new ConfigError(path, `must be ${opts.exclusiveMax ? '<' : '<='} ${bound(opts.max)}, got ${v} ${range}`);
    return v;
  };
}
const str: Validator<string> = (v, path) => {
  if (typeof v !== 'string') throw new ConfigError(path, `expected a string, got ${describe(v)}`);
  return v;
};
const bool: Validator<boolean> = (v, path) => {
  if (typeof v !== 'boolean') throw new ConfigError(path, `expected true or false, got ${describe(v)}`);
  return v;
};
function oneOf<T extends string>(...options: T[]): Validator<T> {
  return (v, path) => {
    if (typeof v !== 'string' || !options.includes(v as T))
      throw new ConfigError(path, `expected one of ${options.map((o) => `'${o}'`).join(', ')}, got ${describe(v)}`);
    return v as T;
  };
}
function nullable<T>(inner: Validator<T>): Validator<T | null> {
  return (v, path) => (v === null ? null : inner(v, path));
}
function tuple<A, B>(a: Validator<A>, b: Validator<B>): Validator<[A, B]> {
  return (v, path) => {
    if (!Array.isArray(v) || v.length !== 2) throw new ConfigError(path, `expected a pair [a, b], got ${describe(v)}`);
    return [a(v[0], `${path}[0]`), b(v[1], `${path}[1]`)];
  };
}
function arrayOf<T>(inner: Validator<T>, opts: { minLength?: number } = {}): Validator<T[]> {
  return (v, path) => {
    if (!Array.isArray(v)) throw new ConfigError(path, `expected an array, got ${describe(v)}`);
    if (opts.minLength !== undefined && v.length < opts.minLength)
      throw new ConfigError(path, `needs at least ${opts.minLength} entries`);
    return v.map((x, i) => inner(x, `${path}[${i}]`));
  };
}
function record<T>(inner: Validator<T>): Validator<Record<string, T>> {
  return (v, path) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw new ConfigError(path, `expected an object, got ${describe(v)}`);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, inner(x, `${path}.${k}`)]));
  };
}
type Shape<T> = { [K in keyof T]-?: Validator<T[K]> };
function object<T>(shape: Shape<T>): Validator<T> {
  return (v, path) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw new ConfigError(path, `expected an object, got ${describe(v)}`);
    const input = v as Record<string, unknown>;
    for (const k of Object.keys(input)) {
      if (!(k in shape))
        throw new ConfigError(path ? `${path}.${k}` : k, `unknown field (known: ${Object.keys(shape).join(', ')})`);
    }
    const out: Record<string, unknown> = {};
    for (const [k, check] of Object.entries(shape) as [string, Validator<unknown>][]) {
      const p = path ? `${path}.${k}` : k;
      if (!(k in input)) throw new ConfigError(p, 'missing');
      out[k] = check(input[k], p);
    }
    return out as T;
  };
}

const archName: Validator<string> = (v, path) => {
  const s = str(v, path);
  if (!(CLIP_CONFIG_NAMES as readonly string[]).includes(s) && !s.toLowerCase().endsWith('.json'))
    throw new ConfigError(
      path,
      `unknown architecture '${cut(s)}' (known: ${CLIP_CONFIG_NAMES.join(', ')}, or the path of a model .json file)`,
    );
  return s;
};

/** The most epochs a configuration may ask for (a typo guard; the papers train 10 to 1000). */
const MAX_EPOCHS = 1_000_000;

const distanceSchema = object<DistanceConfig>({
  loss: oneOf('sinkhorn', 'energy', 'gaussian', 'laplacian'),
  p: num({ min: 1, max: 2, integer: true }),
  blur: num({ min: 0, exclusiveMin: true }),
  scaling: num({ min: 0, max: 1, exclusiveMin: true, exclusiveMax: true }),
  diameter: nullable(num({ min: 0, exclusiveMin: true })),
  debias: bool,
  solver: oneOf('geomloss', 'auto', 'exact-1d'),
});

const schema = object<TrainConfig>({
  preset: str,
  description: str,
  source: str,
  mode: oneOf('zeroshot', 'finetune', 'linear-probe'),
  data: object<TrainConfig['data']>({
    dataset: oneOf('fairvlmed', 'fairface'),
    path: nullable(str),
    textSource: oneOf('note', 'label'),
    groupTextSource: oneOf('note', 'label'),
    summaryMaxChars: num({ min: 1, integer: true }),
    limits: object<TrainConfig['data']['limits']>({
      train: nullable(num({ min: 1, integer: true })),
      val: nullable(num({ min: 1, integer: true })),
      test: nullable(num({ min: 1, integer: true })),
    }),
  }),
  model: object<TrainConfig['model']>({ arch: archName, weights: nullable(str), vocab: nullable(str) }),
  optim: object<TrainConfig['optim']>({
    kind: oneOf('adam'),
    lr: num({ min: 0 }),
    betas: tuple(num({ min: 0, max: 0.999999 }), num({ min: 0, max: 0.999999 })),
    eps: num({ min: 0 }),
    weightDecay: num({ min: 0 }),
    trainable: oneOf('official', 'all'),
  }),
  training: object<TrainConfig['training']>({
    epochs: num({ min: 0, max: MAX_EPOCHS, integer: true }),
    batchSize: num({ min: 1, integer: true }),
    seed: num({ min: 0, max: Number.MAX_SAFE_INTEGER, integer: true }),
    dropLast: bool,
    precision: oneOf('fp32', 'fp16-emulated'),
  }),
  fairness: nullable(
    object<FairnessConfig>({
      lambda: num({ min: 0 }),
      attributes: record(num({ min: 0 })),
      similarity: oneOf('pair', 'official'),
      normalisation: oneOf('none', 'group-sum', 'both'),
      groupSource: oneOf('loaders', 'batch'),
      groupBatchSize: num({ min: 1, integer: true }),
      distance: distanceSchema,
      attributeReduction: oneOf('sum', 'mean-over-weighted'),
      asRan: oneOf('intended', 'clip-loss-only'),
    }),
  ),
  eval: object<TrainConfig['eval']>({
    attributes: arrayOf(str),
    selection: oneOf('val-auc', 'test-auc'),
    prompts: tuple(str, str),
    threshold: num({ min: 0, max: 1 }),
    batchSize: num({ min: 1, integer: true }),
    every: num({ min: 1, integer: true }),
    rateMode: oneOf('strict', 'fairlearn'),
    valScoring: oneOf('normalised', 'unnormalised'),
  }),
  linearProbe: nullable(
    object<NonNullable<TrainConfig['linearProbe']>>({
      epochs: num({ min: 1, max: MAX_EPOCHS, integer: true }),
      batchSize: num({ min: 1, integer: true }),
      blr: num({ min: 0 }),
      minLr: num({ min: 0 }),
      warmupEpochs: num({ min: 0 }),
      weightDecay: num({ min: 0 }),
      features: oneOf('image', 'multimodal'),
      evalEvery: num({ min: 1, integer: true }),
      augmentation: oneOf('original', 'none'),
      captionProcessor: oneOf('blip', 'none'),
    }),
  ),
});

/** Validates a whole configuration (types, ranges, cross-field rules). Throws {@link ConfigError} naming the field. */
export function validateConfig(value: unknown): TrainConfig {
  const cfg = schema(value, '');
  const known = DATASET_ATTRIBUTES[cfg.data.dataset];
  cfg.eval.attributes.forEach((a, i) => {
    if (cfg.eval.attributes.indexOf(a) !== i)
      throw new ConfigError(`eval.attributes[${i}]`, `attribute '${cut(a)}' is listed twice`);
    if (!known.includes(a))
      throw new ConfigError(
        `eval.attributes[${i}]`,
        `unknown attribute '${cut(a)}' for dataset ${cfg.data.dataset} (known: ${known.join(', ')})`,
      );
  });
  if (cfg.fairness) {
    const names = Object.keys(cfg.fairness.attributes);
    for (const a of names) {
      if (!known.includes(a))
        throw new ConfigError(
          `fairness.attributes.${a}`,
          `dataset ${cfg.data.dataset} has no attribute '${cut(a)}' (known: ${known.join(', ')})`,
        );
    }
    if (cfg.fairness.lambda > 0 && !names.some((a) => cfg.fairness!.attributes[a]! > 0)) {
      throw new ConfigError('fairness.attributes', 'λ > 0 needs at least one attribute with a positive weight');
    }
    if (cfg.fairness.distance.solver === 'exact-1d' && cfg.fairness.distance.loss !== 'sinkhorn') {
      throw new ConfigError('fairness.distance.solver', "'exact-1d' only applies to the sinkhorn loss");
    }
    if (cfg.mode !== 'finetune')
      throw new ConfigError('fairness', `a fairness regulariser needs mode 'finetune', not '${cfg.mode}'`);
  }
  if (cfg.data.dataset === 'fairface' && cfg.data.textSource === 'label')
    throw new ConfigError('data.textSource', "FairFace has no label captions; use 'note' (the study's caption)");
  if (cfg.data.dataset === 'fairface' && cfg.data.groupTextSource === 'label')
    throw new ConfigError('data.groupTextSource', "FairFace has no label captions; use 'note' (the study's caption)");
  if (cfg.mode === 'finetune' && cfg.training.epochs < 1)
    throw new ConfigError(
      'training.epochs',
      `mode 'finetune' trains at least 1 epoch, got ${cfg.training.epochs} (accepted: integers from 1 to ${MAX_EPOCHS})`,
    );
  if (cfg.mode === 'linear-probe' && !cfg.linearProbe)
    throw new ConfigError('linearProbe', "mode 'linear-probe' needs the linearProbe settings");
  return cfg;
}

// ---------------------------------------------------------------------------------------------------------------
// Overrides

/** Parses "a.b.c=value" (value as JSON when it parses, else a string). */
export function parseOverride(spec: string): { path: string[]; value: unknown } {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new ConfigError(spec, 'an override must look like field.path=value');
  const key = spec.slice(0, eq).trim();
  const raw = spec.slice(eq + 1).trim();
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  return { path: key.split('.'), value };
}

/**
 * Applies overrides to a configuration object (not yet validated). A path must name an existing field, except
 * under `fairness.attributes`, whose keys are attribute names. Returns a new object.
 */
export function applyOverrides(config: unknown, overrides: readonly string[]): unknown {
  const out = structuredClone(config) as Record<string, unknown>;
  for (const spec of overrides) {
    const { path, value } = parseOverride(spec);
    let node: Record<string, unknown> = out;
    for (let i = 0; i < path.length - 1; i++) {
      const k = path[i]!;
      const next = node[k];
      if (next === null && i + 1 < path.length)
        throw new ConfigError(path.slice(0, i + 1).join('.'), 'is null in this preset; set the whole object instead');
      if (typeof next !== 'object' || next === null || Array.isArray(next))
        throw new ConfigError(path.slice(0, i + 1).join('.'), 'unknown field');
      node = next as Record<string, unknown>;
    }
    const last = path[path.length - 1]!;
    const isAttributeMap = path.length === 3 && path[0] === 'fairness' && path[1] === 'attributes';
    if (!(last in node) && !isAttributeMap) throw new ConfigError(path.join('.'), 'unknown field');
    node[last] = value;
  }
  return out;
}

/** Canonical JSON (sorted keys) of a configuration, for hashing and saving. */
export function canonicalJson(value: unknown): string {
  const norm = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(norm);
    if (v && typeof v === 'object')
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, norm((v as Record<string, unknown>)[k])]),
      );
    return v;
  };
  return JSON.stringify(norm(value));
}
