// Linear probing as the official mae/main_linprobe.py: a frozen encoder's features → BatchNorm1d(affine=False,
// eps=1e-6) → Linear(d, 2); loss BCEWithLogits(output[:, 1], y); score sigmoid(output[:, 1]); LARS with
// lr = blr · batch / 256 and a per-iteration warm-up + half-cosine schedule (fairclip.md §4.3).
import { mixSeed, SeededRng } from '@fairclip/io';
import * as tf from '@tensorflow/tfjs-core';
import { Lars, type OptimizerState, warmupCosineLr } from './optim.ts';

export interface LinearProbeHeadOptions {
  /** Initial Linear weight, PyTorch layout [2][d]; default: truncated normal (std 0.01) from `random`. */
  initWeight?: number[][];
  /** Uniform [0, 1) generator for the default initialisation. */
  random?: () => number;
  eps?: number;
  momentum?: number;
}

let headCounter = 0;

/** Truncated normal in [-2σ, 2σ] by rejection (timm's trunc_normal_ with a=-2σ, b=2σ as MAE uses it). */
function truncNormal(random: () => number, std: number): number {
  for (;;) {
    const u = Math.max(random(), Number.MIN_VALUE);
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
    if (Math.abs(z) <= 2) return z * std;
  }
}

export class LinearProbeHead {
  readonly dim: number;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly eps: number;
  readonly momentum: number;
  runningMean: Float64Array;
  runningVar: Float64Array;

  constructor(dim: number, opts: LinearProbeHeadOptions = {}) {
    if (!Number.isInteger(dim) || dim < 1)
      throw new RangeError(`LinearProbeHead: feature dimension must be a positive integer, got ${dim}`);
    this.dim = dim;
    this.eps = opts.eps ?? 1e-6;
    this.momentum = opts.momentum ?? 0.1;
    let w: number[][];
    if (opts.initWeight) {
      if (opts.initWeight.length !== 2 || opts.initWeight.some((r) => r.length !== dim))
        throw new Error(`LinearProbeHead: initWeight must be 2×${dim}`);
      w = opts.initWeight;
    } else {
      const random = opts.random;
      if (!random) throw new Error('LinearProbeHead: pass initWeight or a seeded `random` generator');
      w = [0, 1].map(() => Array.from({ length: dim }, () => truncNormal(random, 0.01)));
    }
    const id = headCounter++;
    // Layout [d, 2] for x·W; the PyTorch [2, d] weight is its transpose.
    this.weight = tf.variable(tf.transpose(tf.tensor2d(w)), true, `linear_probe_${id}.weight`);
    this.bias = tf.variable(tf.zeros([2]), true, `linear_probe_${id}.bias`);
    this.runningMean = new Float64Array(dim);
    this.runningVar = new Float64Array(dim).fill(1);
  }

  /** Logits [B, 2]. In training mode BatchNorm uses batch statistics (call {@link updateRunningStats} after). */
  forward(x: tf.Tensor2D, training: boolean): tf.Tensor2D {
    return tf.tidy(() => {
      let xn: tf.Tensor2D;
      if (training) {
        const { mean, variance } = tf.moments(x, 0);
        xn = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, this.eps))) as tf.Tensor2D;
      } else {
        const mean = tf.tensor1d(Float32Array.from(this.runningMean));
        const variance = tf.tensor1d(Float32Array.from(this.runningVar));
        xn = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, this.eps))) as tf.Tensor2D;
      }
      return tf.add(tf.matMul(xn, this.weight), this.bias) as tf.Tensor2D;
    });
  }

  /** PyTorch BatchNorm1d running statistics: biased mean, unbiased variance, momentum 0.1. */
  updateRunningStats(batch: Float32Array, rows: number): void {
    const d = this.dim;
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let i = 0; i < rows; i++) s += batch[i * d + j]!;
      const mean = s / rows;
      let ss = 0;
      for (let i = 0; i < rows; i++) ss += (batch[i * d + j]! - mean) ** 2;
      const unbiased = rows > 1 ? ss / (rows - 1) : ss;
      this.runningMean[j] = (1 - this.momentum) * this.runningMean[j]! + this.momentum * mean;
      this.runningVar[j] = (1 - this.momentum) * this.runningVar[j]! + this.momentum * unbiased;
    }
  }

  /** Scores sigmoid(output[:, 1]) in eval mode. */
  async scores(features: Float32Array, rows: number): Promise<Float32Array> {
    const logits = tf.tidy(() =>
      tf.sigmoid(tf.slice(this.forward(tf.tensor2d(features, [rows, this.dim]), false), [0, 1], [rows, 1])),
    );
    const out = (await logits.data()) as Float32Array;
    logits.dispose();
    return Float32Array.from(out);
  }

  dispose(): void {
    this.weight.dispose();
    this.bias.dispose();
  }
}

/** BCEWithLogits(mean) of z against y, numerically stable. */
export function bceWithLogits(z: tf.Tensor1D, y: tf.Tensor1D): tf.Scalar {
  return tf.tidy(
    () => tf.mean(tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))))) as tf.Scalar,
  );
}

export interface LinearProbeTrainOptions {
  epochs: number;
  batchSize: number;
  blr: number;
  minLr?: number;
  warmupEpochs: number;
  weightDecay?: number;
  /** Batch order for each epoch (indices); default: 0..n-1 in order. MAE shuffles with a seeded sampler. */
  order?: (epoch: number) => ArrayLike<number>;
  /** MAE's training loader drops the last partial batch (default true). */
  dropLast?: boolean;
  /** After every step; awaited (a rejection stops training, like onEpoch's). */
  onStep?: (info: { epoch: number; step: number; loss: number; lr: number }) => Promise<void> | void;
  /**
   * Called after each epoch (e.g. to evaluate every `evalEvery` epochs, or to checkpoint: `optimizerState()` gives
   * the LARS state to pass back as `optimizerState` with `startEpoch = epoch + 1` to resume exactly).
   */
  onEpoch?: (epoch: number, ctx: { optimizerState: () => Promise<OptimizerState> }) => Promise<void> | void;
  /** First epoch to run (resuming; default 0). */
  startEpoch?: number;
  /** LARS state saved by a previous run (resuming). */
  optimizerState?: OptimizerState;
  /**
   * The training features of each epoch (augmented images through the frozen encoder, as the original computes them
   * every step); default: `features` every epoch.
   */
  featuresForEpoch?: (epoch: number) => Promise<Float32Array>;
}

/** Trains the head on fixed features [n, d] with binary labels. Returns the per-step losses. */
export async function trainLinearProbe(
  head: LinearProbeHead,
  features: Float32Array,
  labels: ArrayLike<number>,
  opts: LinearProbeTrainOptions,
): Promise<number[]> {
  const d = head.dim;
  const n = labels.length;
  if (features.length !== n * d)
    throw new Error(`trainLinearProbe: features hold ${features.length} values, expected ${n}×${d}`);
  const lr = (opts.blr * opts.batchSize) / 256;
  const optimizer = new Lars([{ name: 'head', params: [head.weight, head.bias], keys: ['head.weight', 'head.bias'] }], {
    lr,
    weightDecay: opts.weightDecay ?? 0,
  });
  if (opts.optimizerState) optimizer.loadState(opts.optimizerState);
  const startEpoch = opts.startEpoch ?? 0;
  if (!Number.isInteger(startEpoch) || startEpoch < 0)
    throw new RangeError(`trainLinearProbe: startEpoch must be a non-negative integer, got ${startEpoch}`);
  const dropLast = opts.dropLast ?? true;
  const itersPerEpoch = dropLast ? Math.floor(n / opts.batchSize) : Math.ceil(n / opts.batchSize);
  if (itersPerEpoch === 0)
    throw new Error(`trainLinearProbe: ${n} samples is fewer than one batch of ${opts.batchSize} with dropLast`);
  const losses: number[] = [];
  const xb = new Float32Array(opts.batchSize * d);
  const yb = new Float32Array(opts.batchSize);
  try {
    for (let epoch = startEpoch; epoch < opts.epochs; epoch++) {
      const order = opts.order ? opts.order(epoch) : Array.from({ length: n }, (_, i) => i);
      const epochFeatures = opts.featuresForEpoch ? await opts.featuresForEpoch(epoch) : features;
      if (epochFeatures.length !== n * d)
        throw new Error(
          `trainLinearProbe: epoch ${epoch} features hold ${epochFeatures.length} values, expected ${n}×${d}`,
        );
      for (let it = 0; it < itersPerEpoch; it++) {
        const stepLr = warmupCosineLr(it / itersPerEpoch + epoch, {
          lr,
          minLr: opts.minLr ?? 0,
          warmupEpochs: opts.warmupEpochs,
          epochs: opts.epochs,
        });
        if (!Number.isFinite(stepLr))
          throw new RangeError(`trainLinearProbe: learning rate ${stepLr} at epoch ${epoch}`);
        optimizer.setLr(stepLr);
        const start = it * opts.batchSize;
        const rows = Math.min(opts.batchSize, n - start);
        for (let r = 0; r < rows; r++) {
          const idx = order[start + r]!;
          xb.set(epochFeatures.subarray(idx * d, idx * d + d), r * d);
          yb[r] = labels[idx]!;
        }
        const batch = xb.subarray(0, rows * d);
        const x = tf.tensor2d(batch, [rows, d]);
        const y = tf.tensor1d(yb.subarray(0, rows));
        const { value, grads } = tf.variableGrads(() => {
          const out = head.forward(x, true);
          return bceWithLogits(tf.reshape(tf.slice(out, [0, 1], [rows, 1]), [rows]) as tf.Tensor1D, y);
        }, [head.weight, head.bias]);
        optimizer.applyGradients(grads);
        head.updateRunningStats(batch, rows);
        const loss = (await value.data())[0]!;
        tf.dispose([x, y, value, ...Object.values(grads)]);
        losses.push(loss);
        await opts.onStep?.({ epoch, step: epoch * itersPerEpoch + it + 1, loss, lr: stepLr });
      }
      await opts.onEpoch?.(epoch, { optimizerState: () => optimizer.state() });
    }
  } finally {
    optimizer.dispose();
  }
  return losses;
}

// ---------------------------------------------------------------------------------------------------------------
// The original's data pipeline (mae/main_linprobe.py with LAVIS's processors): captions and training augmentation.

// Python's str.isspace() characters, written as escapes in a string (a regex literal would hold control characters).
const PY_WS = '\\t\\n\\v\\f\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_WS_RUN = new RegExp(`[${PY_WS}]{2,}`, 'g');

/**
 * BLIP's caption processor as main_linprobe.py builds it (`BlipCaptionProcessor(prompt='', max_words=50)`,
 * LAVIS `pre_caption`): lower-case, each of . ! " ( ) * # : ; ~ replaced by a space, runs of 2+ whitespace characters
 * collapsed to one space, trailing newlines and edge spaces removed, then at most `maxWords` space-separated words.
 */
export function blipPreCaption(caption: string, maxWords = 50): string {
  let c = caption.toLowerCase().replace(/[.!"()*#:;~]/g, ' ');
  // Python's \s on str patterns: the characters str.isspace() accepts (JavaScript's \s differs in U+001C–U+001F, U+FEFF).
  c = c.replace(PY_WS_RUN, ' ');
  c = c.replace(/\n+$/, '');
  c = c.replace(/^ +| +$/g, '');
  const words = c.split(' ');
  return words.length > maxWords ? words.slice(0, maxWords).join(' ') : c;
}

/** A crop box (pixels) and whether the crop is flipped left-right afterwards. */
export interface AugmentationBox {
  top: number;
  left: number;
  height: number;
  width: number;
  flip: boolean;
}

/** Python's round() (half to even), as torchvision's `int(round(...))`. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * torchvision's `RandomResizedCrop.get_params(img, scale, ratio)` (0.14) with uniform draws from `random`: up to 10
 * tries of area fraction U(scale), log aspect U(log ratio), w = round(√(area·aspect)), h = round(√(area/aspect)),
 * accepted when it fits, at offsets randint(0, H − h] and randint(0, W − w]; otherwise the central crop of the
 * largest box whose aspect is clamped to the ratio range. Then `RandomHorizontalFlip(p=0.5)`: flip when U < 0.5.
 * The draws are ours (a seeded SeededRng), not torch's: the distribution is the original's, the boxes are not.
 */
export function randomResizedCropBox(
  height: number,
  width: number,
  random: () => number,
  scale: readonly [number, number] = [0.5, 1],
  ratio: readonly [number, number] = [3 / 4, 4 / 3],
): AugmentationBox {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1)
    throw new RangeError(`randomResizedCropBox: image size must be positive integers, got ${height}×${width}`);
  const area = height * width;
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])] as const;
  const box = (): Omit<AugmentationBox, 'flip'> => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const targetArea = area * (scale[0] + (scale[1] - scale[0]) * random());
      const aspect = Math.exp(logRatio[0] + (logRatio[1] - logRatio[0]) * random());
      const w = roundHalfEven(Math.sqrt(targetArea * aspect));
      const h = roundHalfEven(Math.sqrt(targetArea / aspect));
      if (w > 0 && w <= width && h > 0 && h <= height) {
        const top = Math.floor(random() * (height - h + 1));
        const left = Math.floor(random() * (width - w + 1));
        return { top, left, height: h, width: w };
      }
    }
    const inRatio = width / height;
    let w = width;
    let h = height;
    if (inRatio < Math.min(ratio[0], ratio[1])) h = roundHalfEven(w / Math.min(ratio[0], ratio[1]));
    else if (inRatio > Math.max(ratio[0], ratio[1])) w = roundHalfEven(h * Math.max(ratio[0], ratio[1]));
    return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
  };
  const b = box();
  return { ...b, flip: random() < 0.5 };
}

/** Stream id of the linear probe's augmentation draws (mixed with the run seed, the epoch and the sample). */
export const AUGMENTATION_STREAM = 0xa06;

/**
 * The augmentation of training sample `index` in epoch `epoch`: a pure function of (seed, epoch, index), so a resumed
 * run draws the same boxes without saving generator state.
 */
export function augmentationFor(
  seed: number,
  epoch: number,
  index: number,
  height: number,
  width: number,
): AugmentationBox {
  const rng = new SeededRng(mixSeed(seed, AUGMENTATION_STREAM, epoch, index));
  return randomResizedCropBox(height, width, () => rng.nextFloat());
}

/** The pixels of `box` (PIL's `Image.crop`) of an interleaved 8-bit image [H, W, C]. */
export function cropU8(
  data: Uint8Array,
  height: number,
  width: number,
  channels: number,
  box: Omit<AugmentationBox, 'flip'>,
): Uint8Array {
  const { top, left } = box;
  if (top < 0 || left < 0 || top + box.height > height || left + box.width > width)
    throw new RangeError(`cropU8: box ${JSON.stringify(box)} outside the ${height}×${width} image`);
  const out = new Uint8Array(box.height * box.width * channels);
  for (let r = 0; r < box.height; r++) {
    const start = ((top + r) * width + left) * channels;
    out.set(data.subarray(start, start + box.width * channels), r * box.width * channels);
  }
  return out;
}

/** Left-right flip of a CHW float image in place (torchvision's hflip; it commutes with ToTensor + Normalize). */
export function flipChwInPlace(chw: Float32Array, channels: number, height: number, width: number): Float32Array {
  for (let c = 0; c < channels; c++)
    for (let r = 0; r < height; r++) {
      const row = (c * height + r) * width;
      for (let a = 0, b = width - 1; a < b; a++, b--) {
        const t = chw[row + a]!;
        chw[row + a] = chw[row + b]!;
        chw[row + b] = t;
      }
    }
  return chw;
}
