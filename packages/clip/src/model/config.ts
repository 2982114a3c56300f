/**
 * CLIP architectures as data: OpenAI's `clip.model.CLIP` constructor arguments, validated, with the values OpenAI
 * derives from them (head counts, patch grid) and the inference of a configuration from a state dict's shapes
 * (what `clip.model.build_model` does).
 */
import RN50 from '../configs/RN50.json' with { type: 'json' };
import VIT_B_16 from '../configs/ViT-B-16.json' with { type: 'json' };
import VIT_B_32 from '../configs/ViT-B-32.json' with { type: 'json' };
import VIT_L_14 from '../configs/ViT-L-14.json' with { type: 'json' };
import { ClipModelError } from './errors.ts';

/** The arguments of OpenAI's `clip.model.CLIP(...)`, with OpenAI's names. */
export interface ClipConfig {
  embed_dim: number;
  image_resolution: number;
  /** An integer: Vision Transformer depth. Four integers: ModifiedResNet blocks per stage. */
  vision_layers: number | readonly [number, number, number, number];
  vision_width: number;
  /** Patch size of the Vision Transformer; null for a ModifiedResNet. */
  vision_patch_size: number | null;
  context_length: number;
  vocab_size: number;
  transformer_width: number;
  transformer_heads: number;
  transformer_layers: number;
}

/** Quantities OpenAI's constructor derives from the arguments. */
export interface DerivedConfig {
  kind: 'vit' | 'resnet';
  /** ViT: vision_width // 64. ModifiedResNet: vision_width * 32 // 64 (the attention pool's heads). */
  visionHeads: number;
  /** ViT: image_resolution / patch; ModifiedResNet: image_resolution / 32 (the attention pool's grid). */
  grid: number;
  /** Tokens seen by the vision attention: grid² + 1 (class token, or the mean token of the attention pool). */
  visionTokens: number;
  /** Width of the vision features before the projection (ViT: vision_width; ResNet: vision_width * 32). */
  visionFeatureWidth: number;
}

export const CLIP_CONFIG_NAMES = ['ViT-B/16', 'ViT-B/32', 'ViT-L/14', 'RN50'] as const;
export type ClipConfigName = (typeof CLIP_CONFIG_NAMES)[number];

const PRESETS: Record<ClipConfigName, unknown> = {
  'ViT-B/16': VIT_B_16,
  'ViT-B/32': VIT_B_32,
  'ViT-L/14': VIT_L_14,
  RN50: RN50,
};

/** One of the shipped architectures (OpenAI's released models), by OpenAI's name. */
export function clipConfig(name: ClipConfigName): ClipConfig {
  const preset = PRESETS[name];
  if (preset === undefined) {
    throw new ClipModelError('BAD_CONFIG', `unknown architecture "${name}"; known: ${CLIP_CONFIG_NAMES.join(', ')}`);
  }
  return parseClipConfig(preset, `preset ${name}`);
}

const INT_FIELDS = [
  'embed_dim',
  'image_resolution',
  'vision_width',
  'context_length',
  'vocab_size',
  'transformer_width',
  'transformer_heads',
  'transformer_layers',
] as const;

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

/**
 * Validates a configuration object: either the bare constructor arguments or an object holding them under
 * `constructor_args` (the shipped JSON files and the golden `config.json` use that form). Throws BAD_CONFIG naming
 * the field.
 */
export function parseClipConfig(value: unknown, source = 'config'): ClipConfig {
  if (typeof value !== 'object' || value === null) {
    throw new ClipModelError(
      'BAD_CONFIG',
      `${source}: expected an object, got ${value === null ? 'null' : typeof value}`,
    );
  }
  const outer = value as Record<string, unknown>;
  const raw = (
    typeof outer.constructor_args === 'object' && outer.constructor_args !== null ? outer.constructor_args : outer
  ) as Record<string, unknown>;
  const bad = (msg: string): never => {
    throw new ClipModelError('BAD_CONFIG', `${source}: ${msg}`);
  };
  for (const f of INT_FIELDS) {
    if (!isPositiveInt(raw[f])) bad(`"${f}" must be a positive integer, got ${JSON.stringify(raw[f])}`);
  }
  const layers = raw.vision_layers;
  let visionLayers: ClipConfig['vision_layers'];
  let patch: number | null;
  if (Array.isArray(layers)) {
    if (layers.length !== 4 || !layers.every(isPositiveInt)) {
      bad(
        `"vision_layers" must be a positive integer (ViT) or 4 positive integers (ModifiedResNet), got ${JSON.stringify(layers)}`,
      );
    }
    visionLayers = [layers[0], layers[1], layers[2], layers[3]] as [number, number, number, number];
    if (raw.vision_patch_size !== null && raw.vision_patch_size !== undefined) {
      bad(
        `"vision_patch_size" must be null for a ModifiedResNet (vision_layers is a list), got ${JSON.stringify(raw.vision_patch_size)}`,
      );
    }
    patch = null;
  } else {
    if (!isPositiveInt(layers))
      bad(`"vision_layers" must be a positive integer or 4 integers, got ${JSON.stringify(layers)}`);
    visionLayers = layers as number;
    if (!isPositiveInt(raw.vision_patch_size)) {
      bad(
        `"vision_patch_size" must be a positive integer for a Vision Transformer, got ${JSON.stringify(raw.vision_patch_size)}`,
      );
    }
    patch = raw.vision_patch_size as number;
  }
  const config: ClipConfig = {
    embed_dim: raw.embed_dim as number,
    image_resolution: raw.image_resolution as number,
    vision_layers: visionLayers,
    vision_width: raw.vision_width as number,
    vision_patch_size: patch,
    context_length: raw.context_length as number,
    vocab_size: raw.vocab_size as number,
    transformer_width: raw.transformer_width as number,
    transformer_heads: raw.transformer_heads as number,
    transformer_layers: raw.transformer_layers as number,
  };
  deriveConfig(config, source); // consistency checks
  return config;
}

/** The values OpenAI's constructor derives; throws BAD_CONFIG when they are inconsistent. */
export function deriveConfig(config: ClipConfig, source = 'config'): DerivedConfig {
  const bad = (msg: string): never => {
    throw new ClipModelError('BAD_CONFIG', `${source}: ${msg}`);
  };
  if (config.transformer_width % config.transformer_heads !== 0) {
    bad(
      `transformer_width ${config.transformer_width} is not divisible by transformer_heads ${config.transformer_heads}`,
    );
  }
  if (Array.isArray(config.vision_layers)) {
    const w = config.vision_width;
    if (w % 2 !== 0)
      bad(`vision_width ${w} must be even for a ModifiedResNet (the stem's first convolutions have width / 2)`);
    if (config.image_resolution % 32 !== 0) {
      bad(`image_resolution ${config.image_resolution} must be a multiple of 32 for a ModifiedResNet`);
    }
    const featureWidth = w * 32;
    const heads = Math.floor(featureWidth / 64);
    if (heads < 1 || featureWidth % heads !== 0) {
      bad(
        `ModifiedResNet attention pool: width ${featureWidth} with ${heads} heads (vision_width * 32 // 64) is invalid`,
      );
    }
    const grid = config.image_resolution / 32;
    return {
      kind: 'resnet',
      visionHeads: heads,
      grid,
      visionTokens: grid * grid + 1,
      visionFeatureWidth: featureWidth,
    };
  }
  const patch = config.vision_patch_size;
  if (patch === null) return bad('vision_patch_size is null but vision_layers is an integer (Vision Transformer)');
  if (config.image_resolution % patch !== 0) {
    bad(`image_resolution ${config.image_resolution} is not a multiple of vision_patch_size ${patch}`);
  }
  const heads = Math.floor(config.vision_width / 64);
  if (heads < 1)
    bad(`vision_width ${config.vision_width} gives 0 heads (OpenAI uses vision_width // 64); use at least 64`);
  if (config.vision_width % heads !== 0) {
    bad(`vision_width ${config.vision_width} is not divisible by its ${heads} heads (vision_width // 64)`);
  }
  const grid = config.image_resolution / patch;
  return {
    kind: 'vit',
    visionHeads: heads,
    grid,
    visionTokens: grid * grid + 1,
    visionFeatureWidth: config.vision_width,
  };
}

/** Keys found in some OpenAI state dicts (from TorchScript models) that are not weights; build_model drops them. */
export const OPENAI_NON_WEIGHT_KEYS: readonly string[] = ['input_resolution', 'context_length', 'vocab_size'];

function shapeOf(shapes: ReadonlyMap<string, readonly number[]>, key: string): readonly number[] {
  const s = shapes.get(key);
  if (s === undefined) {
    throw new ClipModelError(
      'CANNOT_INFER_CONFIG',
      `cannot infer the configuration: the state dict has no "${key}" (is it an OpenAI-named CLIP state dict?)`,
    );
  }
  return s;
}

function dim(s: readonly number[], i: number, key: string): number {
  const v = s[i < 0 ? s.length + i : i];
  if (v === undefined) {
    throw new ClipModelError(
      'CANNOT_INFER_CONFIG',
      `cannot infer the configuration: "${key}" has shape [${s.join(', ')}]`,
    );
  }
  return v;
}

function distinctThirdComponent(keys: Iterable<string>, prefix: string): number {
  const seen = new Set<string>();
  for (const k of keys) {
    if (k.startsWith(prefix)) {
      const part = k.split('.')[2];
      if (part !== undefined) seen.add(part);
    }
  }
  return seen.size;
}

/**
 * Infers the constructor arguments from an OpenAI-named state dict's shapes exactly as `clip.model.build_model` does:
 * widths, depths, patch size and resolution from the shapes, and the head counts as width // 64. Models whose heads
 * do not follow that rule (tiny test models) need an explicit config; `overrides` replaces inferred fields.
 */
export function inferClipConfig(
  shapes: ReadonlyMap<string, readonly number[]>,
  overrides: Partial<ClipConfig> = {},
): ClipConfig {
  const keys = [...shapes.keys()];
  const vit = shapes.has('visual.proj');
  let visionWidth: number;
  let visionLayers: ClipConfig['vision_layers'];
  let patch: number | null;
  let resolution: number;
  if (vit) {
    const conv = shapeOf(shapes, 'visual.conv1.weight');
    visionWidth = dim(conv, 0, 'visual.conv1.weight');
    visionLayers = keys.filter((k) => k.startsWith('visual.') && k.endsWith('.attn.in_proj_weight')).length;
    patch = dim(conv, -1, 'visual.conv1.weight');
    const pos = shapeOf(shapes, 'visual.positional_embedding');
    const grid = Math.round(Math.sqrt(dim(pos, 0, 'visual.positional_embedding') - 1));
    resolution = patch * grid;
  } else {
    const counts = [1, 2, 3, 4].map((b) => distinctThirdComponent(keys, `visual.layer${b}.`));
    visionLayers = [counts[0]!, counts[1]!, counts[2]!, counts[3]!];
    visionWidth = dim(shapeOf(shapes, 'visual.layer1.0.conv1.weight'), 0, 'visual.layer1.0.conv1.weight');
    const pos = shapeOf(shapes, 'visual.attnpool.positional_embedding');
    const outputWidth = Math.round(Math.sqrt(dim(pos, 0, 'visual.attnpool.positional_embedding') - 1));
    patch = null;
    resolution = outputWidth * 32;
  }
  const transformerWidth = dim(shapeOf(shapes, 'ln_final.weight'), 0, 'ln_final.weight');
  const inferred: ClipConfig = {
    embed_dim: dim(shapeOf(shapes, 'text_projection'), 1, 'text_projection'),
    image_resolution: resolution,
    vision_layers: visionLayers,
    vision_width: visionWidth,
    vision_patch_size: patch,
    context_length: dim(shapeOf(shapes, 'positional_embedding'), 0, 'positional_embedding'),
    vocab_size: dim(shapeOf(shapes, 'token_embedding.weight'), 0, 'token_embedding.weight'),
    transformer_width: transformerWidth,
    transformer_heads: Math.floor(transformerWidth / 64),
    transformer_layers: distinctThirdComponent(keys, 'transformer.resblocks'),
  };
  const merged = { ...inferred, ...overrides };
  if (merged.transformer_heads < 1) {
    throw new ClipModelError(
      'CANNOT_INFER_CONFIG',
      `cannot infer transformer_heads: OpenAI's rule transformer_width // 64 gives 0 for width ${transformerWidth}; pass the configuration (or { transformer_heads })`,
    );
  }
  try {
    return parseClipConfig(merged, 'configuration inferred from the state dict');
  } catch (e) {
    throw new ClipModelError('CANNOT_INFER_CONFIG', (e as Error).message, { cause: e });
  }
}

/** True when the configuration describes a ModifiedResNet image tower. */
export function isResNetConfig(config: ClipConfig): boolean {
  return Array.isArray(config.vision_layers);
}
