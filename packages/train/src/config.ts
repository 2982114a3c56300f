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
  } | null;
}

/** Attributes each dataset provides (the sensitive attributes a config may name). */
export const DATASET_ATTRIBUTES: Record<DatasetKind, readonly string[]> = {
  fairvlmed: FAIRVLMED_ATTRIBUTES,
  fairface: ['age', 'race'],
};

export class ConfigError extends FairclipError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('CONFIG', `config: ${field}: ${message}`);
    this.name = 'ConfigError';
    this.field = field;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// A small schema language: each node validates a value at a path and returns it typed.

type Validator<T> = (value: unknown, path: string) => T;

const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : `${typeof v} ${JSON.stringify(v)}`;

function num(
  opts: { min?: number; max?: number; exclusiveMin?: boolean; exclusiveMax?: boolean; integer?: boolean } = {},
): Validator<number> {
  return (v, path) => {
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new ConfigError(path, `expected a finite number, got ${describe(v)}`);
    if (opts.integer && !Number.isInteger(v)) throw new ConfigError(path, `expected an integer, got ${v}`);
    if (opts.min !== undefined && (opts.exclusiveMin ? v <= opts.min : v < opts.min)) {
      throw new ConfigError(path, `must be ${opts.exclusiveMin ? '>' : '>='} ${opts.min}, got ${v}`);
    }
    if (opts.max !== undefined && (opts.exclusiveMax ? v >= opts.max : v > opts.max))
      throw new ConfigError(path, `must be ${opts.exclusiveMax ? '<' : '<='} ${opts.max}, got ${v}`);
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
      `unknown architecture '${s}' (known: ${CLIP_CONFIG_NAMES.join(', ')}, or the path of a model .json file)`,
    );
  return s;
};

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
    epochs: num({ min: 0, integer: true }),
    batchSize: num({ min: 1, integer: true }),
    seed: num({ min: 0, integer: true }),
    dropLast: bool,
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
  }),
  linearProbe: nullable(
    object<NonNullable<TrainConfig['linearProbe']>>({
      epochs: num({ min: 1, integer: true }),
      batchSize: num({ min: 1, integer: true }),
      blr: num({ min: 0 }),
      minLr: num({ min: 0 }),
      warmupEpochs: num({ min: 0 }),
      weightDecay: num({ min: 0 }),
      features: oneOf('image', 'multimodal'),
      evalEvery: num({ min: 1, integer: true }),
    }),
  ),
});

/** Validates a whole configuration (types, ranges, cross-field rules). Throws {@link ConfigError} naming the field. */
export function validateConfig(value: unknown): TrainConfig {
  const cfg = schema(value, '');
  const known = DATASET_ATTRIBUTES[cfg.data.dataset];
  cfg.eval.attributes.forEach((a, i) => {
    if (cfg.eval.attributes.indexOf(a) !== i)
      throw new ConfigError(`eval.attributes[${i}]`, `attribute '${a}' is listed twice`);
    if (!known.includes(a))
      throw new ConfigError(
        `eval.attributes[${i}]`,
        `unknown attribute '${a}' for dataset ${cfg.data.dataset} (known: ${known.join(', ')})`,
      );
  });
  if (cfg.fairness) {
    const names = Object.keys(cfg.fairness.attributes);
    for (const a of names) {
      if (!known.includes(a))
        throw new ConfigError(
          `fairness.attributes.${a}`,
          `dataset ${cfg.data.dataset} has no attribute '${a}' (known: ${known.join(', ')})`,
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
