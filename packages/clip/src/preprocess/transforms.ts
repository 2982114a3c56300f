// The steps of OpenAI CLIP's `_transform(n_px)` (torchvision 0.14 on PIL images), one function each:
// Resize(n_px, BICUBIC) → CenterCrop(n_px) → convert("RGB") → ToTensor → Normalize(mean, std).
import { PreprocessError } from './errors.ts';
import { resizeBicubicF32, resizeBicubicU8 } from './resample.ts';

/** A single-channel float32 image, row-major `[height, width]` — what PIL calls mode "F". */
export interface ImageF32 {
  data: Float32Array;
  height: number;
  width: number;
}

/** An 8-bit image, row-major with interleaved channels `[height, width, channels]`: 1 = PIL "L", 3 = PIL "RGB". */
export interface ImageU8 {
  data: Uint8Array;
  height: number;
  width: number;
  channels: 1 | 3;
}

/** CLIP's normalisation constants (OpenAI `_transform`). */
export const CLIP_MEAN: readonly [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: readonly [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

/**
 * Default cap on the pixels of an image the pipeline allocates (the resized image before the crop): 2^25 =
 * 33 554 432, e.g. 224 × 149 796 (100 MB as 8-bit RGB, 134 MB as float32).
 */
export const DEFAULT_MAX_RESIZED_PIXELS = 2 ** 25;

/** Refuses (TOO_LARGE) a resize to more than `maxPixels` pixels, before anything is allocated. */
export function checkResizedPixels(height: number, width: number, maxPixels = DEFAULT_MAX_RESIZED_PIXELS): void {
  const n = height * width;
  if (n > maxPixels)
    throw new PreprocessError(
      'TOO_LARGE',
      `resizing to ${height} × ${width} (${n} pixels) exceeds the limit of ${maxPixels} pixels (maxResizedPixels); ` +
        'crop or downscale the image first (or raise maxResizedPixels)',
    );
}

function checkSize(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 1)
    throw new PreprocessError('BAD_SHAPE', `${what} must be a positive integer, got ${String(value).slice(0, 80)}`);
}

/** Checks an {@link ImageF32}: sizes, buffer length, and that every value is finite. */
export function checkImageF32(image: ImageF32, what = 'image'): void {
  if (image === null || typeof image !== 'object' || !(image.data instanceof Float32Array))
    throw new PreprocessError('BAD_SHAPE', `${what}.data must be a Float32Array`);
  checkSize(image.height, `${what}.height`);
  checkSize(image.width, `${what}.width`);
  const n = image.height * image.width;
  if (image.data.length !== n)
    throw new PreprocessError(
      'BAD_SHAPE',
      `${what} has ${image.data.length} values, but height ${image.height} × width ${image.width} needs ${n}`,
    );
  for (let i = 0; i < n; i++) {
    const v = image.data[i] as number;
    if (!Number.isFinite(v))
      throw new PreprocessError(
        'NON_FINITE',
        `${what} has ${v} at row ${Math.floor(i / image.width)}, column ${i % image.width}; replace NaN/Infinity ` +
          '(e.g. by 0) before preprocessing — PIL would silently produce undefined values',
      );
  }
}

/** Checks an {@link ImageU8}: sizes, channel count and buffer length. */
export function checkImageU8(image: ImageU8, what = 'image'): void {
  if (image === null || typeof image !== 'object' || !(image.data instanceof Uint8Array))
    throw new PreprocessError('BAD_SHAPE', `${what}.data must be a Uint8Array (Uint8ClampedArray: wrap its buffer)`);
  checkSize(image.height, `${what}.height`);
  checkSize(image.width, `${what}.width`);
  if (image.channels !== 1 && image.channels !== 3)
    throw new PreprocessError(
      'BAD_SHAPE',
      `${what}.channels must be 1 (gray) or 3 (RGB), got ${image.channels} (drop the alpha channel of RGBA first)`,
    );
  const n = image.height * image.width * image.channels;
  if (image.data.length !== n)
    throw new PreprocessError(
      'BAD_SHAPE',
      `${what} has ${image.data.length} bytes, but ${image.height} × ${image.width} × ${image.channels} needs ${n}`,
    );
}

/**
 * torchvision's `Resize(size)` output size for an int size: the shorter side becomes `size`, the longer
 * `trunc(size * long / short)`. Returns `[height, width]`.
 */
export function shorterSideSize(height: number, width: number, size: number): [number, number] {
  checkSize(height, 'height');
  checkSize(width, 'width');
  checkSize(size, 'size');
  if (width <= height) return [Math.trunc((size * height) / width), size];
  return [size, Math.trunc((size * width) / height)];
}

/** Python's round() of a number: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** torchvision's CenterCrop offsets: `[top, left] = [int(round((H - h) / 2)), int(round((W - w) / 2))]`. */
export function centerCropOffsets(
  height: number,
  width: number,
  cropHeight: number,
  cropWidth: number,
): [number, number] {
  checkSize(cropHeight, 'crop height');
  checkSize(cropWidth, 'crop width');
  if (cropHeight > height || cropWidth > width)
    throw new PreprocessError(
      'BAD_ARGUMENT',
      `crop ${cropHeight} × ${cropWidth} is larger than the image ${height} × ${width} (torchvision would pad; not supported)`,
    );
  return [roundHalfEven((height - cropHeight) / 2), roundHalfEven((width - cropWidth) / 2)];
}

/** Bicubic resize of a mode-"F" image to `outHeight × outWidth` (PIL's float resampling, bit-exact). */
export function resizeF32(
  image: ImageF32,
  outHeight: number,
  outWidth: number,
  maxPixels = DEFAULT_MAX_RESIZED_PIXELS,
): ImageF32 {
  checkImageF32(image);
  checkSize(outHeight, 'output height');
  checkSize(outWidth, 'output width');
  checkResizedPixels(outHeight, outWidth, maxPixels);
  return {
    data: resizeBicubicF32(image.data, image.height, image.width, outHeight, outWidth),
    height: outHeight,
    width: outWidth,
  };
}

/** Bicubic resize of an 8-bit image to `outHeight × outWidth` (PIL's fixed-point resampling, bit-exact). */
export function resizeU8(
  image: ImageU8,
  outHeight: number,
  outWidth: number,
  maxPixels = DEFAULT_MAX_RESIZED_PIXELS,
): ImageU8 {
  checkImageU8(image);
  checkSize(outHeight, 'output height');
  checkSize(outWidth, 'output width');
  checkResizedPixels(outHeight, outWidth, maxPixels);
  return {
    data: resizeBicubicU8(image.data, image.height, image.width, image.channels, outHeight, outWidth),
    height: outHeight,
    width: outWidth,
    channels: image.channels,
  };
}

function cropRows<T extends Float32Array | Uint8Array>(
  data: T,
  width: number,
  channels: number,
  top: number,
  left: number,
  cropHeight: number,
  cropWidth: number,
  out: T,
): T {
  for (let r = 0; r < cropHeight; r++) {
    const start = ((top + r) * width + left) * channels;
    out.set(data.subarray(start, start + cropWidth * channels), r * cropWidth * channels);
  }
  return out;
}

/** torchvision's CenterCrop of a mode-"F" image. */
export function centerCropF32(image: ImageF32, cropHeight: number, cropWidth = cropHeight): ImageF32 {
  const [top, left] = centerCropOffsets(image.height, image.width, cropHeight, cropWidth);
  const out = new Float32Array(cropHeight * cropWidth);
  return {
    data: cropRows(image.data, image.width, 1, top, left, cropHeight, cropWidth, out),
    height: cropHeight,
    width: cropWidth,
  };
}

/** torchvision's CenterCrop of an 8-bit image. */
export function centerCropU8(image: ImageU8, cropHeight: number, cropWidth = cropHeight): ImageU8 {
  const [top, left] = centerCropOffsets(image.height, image.width, cropHeight, cropWidth);
  const out = new Uint8Array(cropHeight * cropWidth * image.channels);
  return {
    data: cropRows(image.data, image.width, image.channels, top, left, cropHeight, cropWidth, out),
    height: cropHeight,
    width: cropWidth,
    channels: image.channels,
  };
}

/**
 * PIL's conversion of mode "F" to "L" (and so to "RGB", whose three channels are then equal): values at or below 0
 * become 0, at or above 255 become 255, the rest are truncated toward zero. NaN is refused.
 */
export function floatToU8(image: ImageF32): ImageU8 {
  const { data, width } = image;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (v <= 0) out[i] = 0;
    else if (v >= 255) out[i] = 255;
    else if (v > 0) out[i] = Math.trunc(v);
    else
      throw new PreprocessError(
        'NON_FINITE',
        `NaN at row ${Math.floor(i / width)}, column ${i % width} before the 8-bit conversion ` +
          '(the input values are too large for float32 arithmetic)',
      );
  }
  return { data: out, height: image.height, width: image.width, channels: 1 };
}

export interface NormalizeOptions {
  /** Per-channel mean (default CLIP's). */
  mean?: readonly [number, number, number];
  /** Per-channel standard deviation (default CLIP's). */
  std?: readonly [number, number, number];
  /** Write into this buffer (e.g. one slot of a batch) instead of a new one. */
  out?: Float32Array;
  /** Element offset into `out` (default 0). */
  offset?: number;
}

/**
 * `ToTensor` + `Normalize` on an 8-bit image in float32, as torch computes them: x = u8 / 255, then
 * (x - mean) / std with mean and std rounded to float32. A gray image gives three equal channels (PIL's "L" →
 * "RGB"). Returns `[3, height, width]` (CHW) values.
 */
export function toNormalizedChw(image: ImageU8, options: NormalizeOptions = {}): Float32Array {
  checkImageU8(image);
  const mean = options.mean ?? CLIP_MEAN;
  const std = options.std ?? CLIP_STD;
  for (let c = 0; c < 3; c++)
    if (!Number.isFinite(mean[c]) || !Number.isFinite(std[c]) || std[c] === 0)
      throw new PreprocessError('BAD_ARGUMENT', `mean/std of channel ${c} must be finite with a nonzero std`);
  const plane = image.height * image.width;
  const n = 3 * plane;
  const offset = options.offset ?? 0;
  let out: Float32Array;
  if (options.out) {
    if (!Number.isInteger(offset) || offset < 0 || offset + n > options.out.length)
      throw new PreprocessError(
        'BAD_ARGUMENT',
        `out has ${options.out.length} values; ${n} from offset ${offset} do not fit`,
      );
    out = options.out.subarray(offset, offset + n);
  } else out = new Float32Array(n);
  // Lookup tables: the float32 result for each byte value and channel.
  const lut = new Float32Array(3 * 256);
  const f = Math.fround;
  for (let c = 0; c < 3; c++) {
    const m = f(mean[c] as number);
    const s = f(std[c] as number);
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = f(f(f(v / 255) - m) / s);
  }
  const { data, channels } = image;
  for (let c = 0; c < 3; c++) {
    const src = channels === 1 ? 0 : c;
    const base = c * plane;
    for (let i = 0; i < plane; i++) out[base + i] = lut[c * 256 + (data[i * channels + src] as number)] as number;
  }
  return out;
}
