/**
 * OpenAI's CLIP (`clip.model.CLIP`) on tfjs-core: parameters are tf.Variables named by OpenAI's state-dict keys,
 * grouped by module for optimisers; forward passes are plain differentiable ops that run on every backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HostTensor, StateDict } from '../weights/state-dict.ts';
import { numel } from '../weights/state-dict.ts';
import {
  type ClipConfig,
  type DerivedConfig,
  deriveConfig,
  OPENAI_NON_WEIGHT_KEYS,
  parseClipConfig,
} from './config.ts';
import { ClipModelError, type WeightsMismatch, WeightsMismatchError } from './errors.ts';
import { initialValues, SeededRandom } from './init.ts';
import type { Params } from './layers.ts';
import {
  CLIP_PRECISIONS,
  type ClipPrecision,
  type HalfRound,
  halfParameter,
  halfRoundOf,
  isHalfParameter,
} from './precision.ts';
import { PARAMETER_GROUPS, type ParameterGroup, parameterGroupOf, stateDictSpec, type TensorSpec } from './spec.ts';
import { type TokenInput, toTokenBatch } from './tokens.ts';
import { modifiedResNet, textTransformer, visionTransformer } from './towers.ts';

export interface CreateClipOptions {
  /** OpenAI-named weights; every tensor the configuration needs must be present with its shape. */
  weights?: ReadonlyMap<string, HostTensor>;
  /** Seed of the random initialisation (when no weights are given). Default 0. */
  seed?: number;
  /** Name used in error messages (e.g. the weights file). */
  source?: string;
  /** Use the slice-based conv2d filter gradient on every backend (ModifiedResNet; tests). */
  forceSliceConvGradient?: boolean;
  /** Numeric precision of the forward passes (see {@link ClipModel.setPrecision}). Default 'fp32'. */
  precision?: ClipPrecision;
}

export interface LoadStateDictOptions {
  /** Name used in error messages (e.g. the weights file). */
  source?: string;
}

export interface ClipOutput {
  /** exp(logit_scale) · cos(image_i, text_j), [images, texts]. */
  logitsPerImage: tf.Tensor2D;
  /** Its transpose, [texts, images]. */
  logitsPerText: tf.Tensor2D;
}

/** Keys that may appear in a state dict without being weights of the model; they are checked and ignored. */
function isIgnorableKey(name: string): boolean {
  return OPENAI_NON_WEIGHT_KEYS.includes(name) || name.endsWith('.position_ids');
}

/** Compares weights with a configuration's state dict; lists every missing, unexpected and wrong-shape key. */
export function checkWeights(specs: readonly TensorSpec[], weights: ReadonlyMap<string, HostTensor>): WeightsMismatch {
  const mismatch: WeightsMismatch = { missing: [], unexpected: [], wrongShape: [] };
  const known = new Set<string>();
  for (const spec of specs) {
    known.add(spec.name);
    const t = weights.get(spec.name);
    if (t === undefined) {
      if (!spec.integer) mismatch.missing.push(spec.name); // num_batches_tracked is optional
      continue;
    }
    const same = t.shape.length === spec.shape.length && t.shape.every((d, i) => d === spec.shape[i]);
    if (!same) mismatch.wrongShape.push({ name: spec.name, expected: [...spec.shape], got: [...t.shape] });
  }
  for (const name of weights.keys()) if (!known.has(name) && !isIgnorableKey(name)) mismatch.unexpected.push(name);
  return mismatch;
}

/** Turns tfjs-backend-wasm's bare `RuntimeError: Aborted()` (its heap is full) into an error that says so. */
function explainBackendError(e: unknown, what: string): unknown {
  if (e instanceof Error && /Aborted\(/.test(e.message) && tf.getBackend() === 'wasm') {
    return new ClipModelError(
      'UNSUPPORTED',
      `${what}: the wasm backend aborted, which happens when its heap (at most 2 GB in tfjs-backend-wasm) is full; ` +
        'use a smaller batch, or the webgpu backend (ViT-B/16 training fits the wasm heap only at batch 1)',
      { cause: e },
    );
  }
  return e;
}

function toFloat32(t: HostTensor): Float32Array {
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data, (v) => Number(v));
}

export class ClipModel {
  readonly config: ClipConfig;
  readonly derived: DerivedConfig;
  private readonly specs: TensorSpec[];
  private readonly store = new Map<string, tf.Variable>();
  private readonly intBuffers = new Map<string, bigint>();
  private readonly forceSliceConvGradient: boolean;
  private disposed = false;
  private readonly lookup: Params;
  private currentPrecision: ClipPrecision = 'fp32';
  private round: HalfRound;

  private constructor(config: ClipConfig, options: CreateClipOptions) {
    this.config = config;
    this.derived = deriveConfig(config);
    this.specs = stateDictSpec(config);
    this.forceSliceConvGradient = options.forceSliceConvGradient ?? false;
    this.lookup = (name: string) => {
      const v = this.store.get(name);
      if (v === undefined) throw new ClipModelError('BAD_CONFIG', `internal: no tensor named ${name}`);
      // A half parameter is read through the rounding: its value is already a float16 value, and its gradient is
      // rounded to float16 as autograd computes it for a half parameter.
      return this.round !== undefined && isHalfParameter(name) ? halfParameter(v) : v;
    };
  }

  /** Builds a model from a configuration, with OpenAI-named weights or a seeded random initialisation. */
  static create(config: ClipConfig | unknown, options: CreateClipOptions = {}): ClipModel {
    const parsed = parseClipConfig(config, options.source === undefined ? 'config' : `config for ${options.source}`);
    const model = new ClipModel(parsed, options);
    const weights = options.weights;
    if (weights !== undefined) {
      const mismatch = checkWeights(model.specs, weights);
      if (mismatch.missing.length + mismatch.unexpected.length + mismatch.wrongShape.length > 0) {
        throw new WeightsMismatchError(mismatch, options.source ?? 'weights');
      }
    }
    const rng = new SeededRandom(options.seed ?? 0);
    try {
      for (const spec of model.specs) {
        if (spec.integer) {
          const t = weights?.get(spec.name);
          model.intBuffers.set(spec.name, t ? BigInt(Number(t.data[0] ?? 0)) : 0n);
          continue;
        }
        const size = numel(spec.shape);
        const w = weights?.get(spec.name);
        const values = w ? toFloat32(w) : initialValues(spec.init, size, rng);
        const initial = tf.tensor(values, spec.shape, 'float32');
        model.store.set(spec.name, tf.variable(initial, !spec.buffer));
        initial.dispose();
      }
    } catch (e) {
      model.dispose();
      throw e;
    }
    if (options.precision !== undefined) model.setPrecision(options.precision);
    return model;
  }

  /** The numeric precision of the forward passes: 'fp32' or 'fp16-emulated' (see precision.ts). */
  get precision(): ClipPrecision {
    return this.currentPrecision;
  }

  /**
   * Sets the precision of the forward passes. 'fp16-emulated' is OpenAI's CLIP after `clip.model.convert_weights`
   * (the official FairCLIP runs on a GPU), emulated on float32 backends: the half parameters are rounded to float16
   * now (and must stay float16 values: optimisers round them after each step), activations and their gradients are
   * rounded to float16 where PyTorch computes in half precision. 'fp32' changes no value.
   */
  setPrecision(precision: ClipPrecision): void {
    this.ensureLive();
    if (!(CLIP_PRECISIONS as readonly string[]).includes(precision)) {
      const got = String(precision).slice(0, 40);
      throw new ClipModelError('BAD_INPUT', `precision must be one of ${CLIP_PRECISIONS.join(', ')}, got '${got}'`);
    }
    this.currentPrecision = precision;
    this.round = halfRoundOf(precision);
    this.roundHalfParameters();
  }

  /** Rounds the half parameters to float16 (fp16-emulated only; as convert_weights casts them). */
  private roundHalfParameters(): void {
    const r = this.round;
    if (r === undefined) return;
    for (const [name, v] of this.store) if (isHalfParameter(name)) tf.tidy(() => v.assign(r(v)));
  }

  /** Whether a parameter (OpenAI name) is held in float16 in the current precision (none in fp32). */
  isHalfParameter(name: string): boolean {
    return this.currentPrecision === 'fp16-emulated' && isHalfParameter(name);
  }

  private ensureLive(): void {
    if (this.disposed) throw new ClipModelError('DISPOSED', 'the model was disposed');
  }

  /** Trainable parameters by OpenAI state-dict name (all of them, or those of the given groups). */
  parameters(groups?: readonly ParameterGroup[]): Map<string, tf.Variable> {
    this.ensureLive();
    const out = new Map<string, tf.Variable>();
    for (const spec of this.specs) {
      if (spec.buffer || spec.integer) continue;
      const group = parameterGroupOf(spec.name);
      if (groups !== undefined && (group === undefined || !groups.includes(group))) continue;
      out.set(spec.name, this.store.get(spec.name)!);
    }
    return out;
  }

  /**
   * Parameters by module: `visual` (the whole image tower), `transformer` (the text blocks), `token_embedding`,
   * `positional_embedding`, `ln_final`, `text_projection`, `logit_scale`. FairCLIP's official optimiser trains
   * `visual` and `transformer` only.
   */
  parameterGroups(): Record<ParameterGroup, Map<string, tf.Variable>> {
    const groups = Object.fromEntries(PARAMETER_GROUPS.map((g) => [g, this.parameters([g])]));
    return groups as Record<ParameterGroup, Map<string, tf.Variable>>;
  }

  /** Non-trainable float state (BatchNorm running statistics of a ModifiedResNet). */
  buffers(): Map<string, tf.Variable> {
    this.ensureLive();
    const out = new Map<string, tf.Variable>();
    for (const spec of this.specs) if (spec.buffer && !spec.integer) out.set(spec.name, this.store.get(spec.name)!);
    return out;
  }

  /** Number of trainable scalars. */
  numParameters(): number {
    let n = 0;
    for (const spec of this.specs) if (!spec.buffer) n += numel(spec.shape);
    return n;
  }

  /** The parameter `logit_scale` (a scalar variable; the logits use its exponential). */
  get logitScale(): tf.Variable {
    this.ensureLive();
    return this.store.get('logit_scale')!;
  }

  /** CLIP.encode_image: images [B, 3, R, R] (normalised pixels, NCHW as in PyTorch) → features [B, embed_dim]. */
  encodeImage(images: tf.Tensor4D): tf.Tensor2D {
    this.ensureLive();
    const r = this.config.image_resolution;
    if (
      !(images instanceof tf.Tensor) ||
      images.rank !== 4 ||
      images.shape[1] !== 3 ||
      images.shape[2] !== r ||
      images.shape[3] !== r
    ) {
      const got = images instanceof tf.Tensor ? `[${images.shape.join(', ')}]` : typeof images;
      throw new ClipModelError(
        'BAD_INPUT',
        `encodeImage: images must be a float32 tensor [B, 3, ${r}, ${r}] (NCHW), got ${got}`,
      );
    }
    if (images.dtype !== 'float32') {
      throw new ClipModelError('BAD_INPUT', `encodeImage: images must be float32, got ${images.dtype}`);
    }
    if (images.shape[0] < 1) throw new ClipModelError('BAD_INPUT', 'encodeImage: empty batch');
    try {
      return tf.tidy(() =>
        this.derived.kind === 'vit'
          ? visionTransformer(images, this.lookup, this.config, this.derived, this.round)
          : modifiedResNet(images, this.lookup, this.config, this.derived, {
              forceSliceConvGradient: this.forceSliceConvGradient,
              round: this.round,
            }),
      );
    } catch (e) {
      throw explainBackendError(e, 'encodeImage');
    }
  }

  /** CLIP.encode_text: token rows [B, context_length] (host integers) → features [B, embed_dim]. */
  encodeText(tokens: TokenInput): tf.Tensor2D {
    this.ensureLive();
    const batch = toTokenBatch(tokens, this.config.context_length, this.config.vocab_size);
    try {
      return tf.tidy(() => textTransformer(batch, this.lookup, this.config, this.round));
    } catch (e) {
      throw explainBackendError(e, 'encodeText');
    }
  }

  /** CLIP.forward: logits of every image against every text, scaled by exp(logit_scale). */
  forward(images: tf.Tensor4D, tokens: TokenInput): ClipOutput {
    this.ensureLive();
    const imageFeatures = this.encodeImage(images);
    let textFeatures: tf.Tensor2D;
    try {
      textFeatures = this.encodeText(tokens);
    } catch (e) {
      imageFeatures.dispose();
      throw e;
    }
    const r = this.round;
    const out = tf.tidy(() => {
      if (r !== undefined) {
        // OpenAI's CLIP.forward in half precision: features / features.norm() (both half), then
        // (logit_scale.exp() · image_features) @ text_features.t() with a float32 scale times a half tensor.
        const img = r(tf.div(imageFeatures, r(tf.norm(imageFeatures, 'euclidean', 1, true))));
        const txt = r(tf.div(textFeatures, r(tf.norm(textFeatures, 'euclidean', 1, true))));
        const scaled = r(tf.mul(tf.exp(this.logitScale), img));
        const logitsPerImage = r(tf.matMul(scaled as tf.Tensor2D, txt as tf.Tensor2D, false, true)) as tf.Tensor2D;
        return { logitsPerImage, logitsPerText: tf.transpose(logitsPerImage) as tf.Tensor2D };
      }
      const img = tf.div(imageFeatures, tf.norm(imageFeatures, 'euclidean', 1, true));
      const txt = tf.div(textFeatures, tf.norm(textFeatures, 'euclidean', 1, true));
      const logitsPerImage = tf.mul(tf.exp(this.logitScale), tf.matMul(img, txt, false, true)) as tf.Tensor2D;
      return { logitsPerImage, logitsPerText: tf.transpose(logitsPerImage) as tf.Tensor2D };
    });
    imageFeatures.dispose();
    textFeatures.dispose();
    return out;
  }

  /** Replaces the weights (all tensors of the configuration must be present with their shapes). */
  loadStateDict(weights: ReadonlyMap<string, HostTensor>, options: LoadStateDictOptions = {}): void {
    this.ensureLive();
    const mismatch = checkWeights(this.specs, weights);
    if (mismatch.missing.length + mismatch.unexpected.length + mismatch.wrongShape.length > 0) {
      throw new WeightsMismatchError(mismatch, options.source ?? 'weights');
    }
    for (const spec of this.specs) {
      const t = weights.get(spec.name);
      if (t === undefined) continue;
      if (spec.integer) {
        this.intBuffers.set(spec.name, BigInt(Number(t.data[0] ?? 0)));
        continue;
      }
      const v = this.store.get(spec.name)!;
      tf.tidy(() => v.assign(tf.tensor(toFloat32(t), spec.shape, 'float32')));
    }
    this.roundHalfParameters();
  }

  /** The state dict (OpenAI names, float32; int64 num_batches_tracked for ModifiedResNet BatchNorms), read back. */
  async stateDict(): Promise<StateDict> {
    this.ensureLive();
    const out: StateDict = new Map();
    for (const spec of this.specs) {
      if (spec.integer) {
        out.set(spec.name, { shape: [], data: BigInt64Array.of(this.intBuffers.get(spec.name) ?? 0n) });
        continue;
      }
      const data = (await this.store.get(spec.name)!.data()) as Float32Array;
      out.set(spec.name, { shape: [...spec.shape], data: new Float32Array(data) });
    }
    return out;
  }

  /** Names and shapes of the state dict this configuration implies. */
  stateDictSpec(): readonly TensorSpec[] {
    return this.specs;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Frees every variable. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.store.values()) v.dispose();
    this.store.clear();
  }
}

/** Shorthand for ClipModel.create. */
export function createClip(config: ClipConfig | unknown, options: CreateClipOptions = {}): ClipModel {
  return ClipModel.create(config, options);
}
