// OpenAI CLIP's `_transform(n_px)` as FairCLIP applies it, for float fundus images (PIL mode "F") and for 8-bit
// RGB images (FairFace JPEGs), plus the `Resize((n, n))` variant of linear probing's evaluation transform.
import { PreprocessError } from './errors.ts';
import {
  centerCropF32,
  centerCropU8,
  checkImageF32,
  checkImageU8,
  checkResizedPixels,
  DEFAULT_MAX_RESIZED_PIXELS,
  floatToU8,
  type ImageF32,
  type ImageU8,
  type NormalizeOptions,
  resizeF32,
  resizeU8,
  shorterSideSize,
  toNormalizedChw,
} from './transforms.ts';

/**
 * How the image is resized:
 * - `'shorter-side'` (CLIP's `_transform`): `Resize(size, BICUBIC)`, shorter side to `size`, then `CenterCrop(size)`;
 * - `'square'` (linear probing's eval transform): `Resize((size, size), BICUBIC)`, no crop needed.
 */
export type ResizeMode = 'shorter-side' | 'square';

/** Default {@link PreprocessOptions.maxAspectRatio}: the longer side may be at most 64 times the shorter one. */
export const DEFAULT_MAX_ASPECT_RATIO = 64;

export interface PreprocessOptions extends NormalizeOptions {
  /** Output side (default 224, the resolution of ViT-B/16, ViT-L/14 and RN50). */
  size?: number;
  /** Default `'shorter-side'`. */
  resize?: ResizeMode;
  /**
   * Largest accepted ratio of the image's longer side to its shorter side (default {@link DEFAULT_MAX_ASPECT_RATIO},
   * 64; `Infinity` turns the check off). A degenerate image such as a 1 × 6000 strip is refused with
   * BAD_ASPECT_RATIO before anything is allocated: CLIP's `Resize(224)` would make it 224 × 1 344 000 (1.1 GB).
   */
  maxAspectRatio?: number;
  /**
   * Largest image (in pixels) the pipeline may allocate, i.e. the resized image before the center crop (default
   * {@link DEFAULT_MAX_RESIZED_PIXELS}, 2^25): a larger one is refused with TOO_LARGE before it is allocated.
   */
  maxResizedPixels?: number;
}

function positiveLimit(value: number, name: string): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0)
    throw new PreprocessError('BAD_ARGUMENT', `${name} must be a positive number (or Infinity), got ${String(value)}`);
  return value;
}

function geometry(
  height: number,
  width: number,
  options: PreprocessOptions,
): { size: number; resized: [number, number]; maxPixels: number } {
  const size = options.size ?? 224;
  if (!Number.isInteger(size) || size < 1)
    throw new PreprocessError('BAD_ARGUMENT', `size must be a positive integer, got ${String(size)}`);
  const mode = options.resize ?? 'shorter-side';
  if (mode !== 'shorter-side' && mode !== 'square')
    throw new PreprocessError(
      'BAD_ARGUMENT',
      `resize must be 'shorter-side' or 'square', got ${JSON.stringify(String(mode).slice(0, 80))}`,
    );
  const maxRatio = positiveLimit(options.maxAspectRatio ?? DEFAULT_MAX_ASPECT_RATIO, 'maxAspectRatio');
  const maxPixels = positiveLimit(options.maxResizedPixels ?? DEFAULT_MAX_RESIZED_PIXELS, 'maxResizedPixels');
  const ratio = Math.max(height, width) / Math.min(height, width);
  if (ratio > maxRatio) {
    const [rh, rw] = shorterSideSize(height, width, size);
    throw new PreprocessError(
      'BAD_ASPECT_RATIO',
      `the image is ${height} × ${width}, an aspect ratio of ${ratio >= 100 ? Math.round(ratio) : ratio.toPrecision(3)}:1, above the limit ` +
        `${maxRatio} (maxAspectRatio)${mode === 'shorter-side' ? `; Resize(${size}) would make it ${rh} × ${rw}` : ''}` +
        ': crop the image to its content (or raise maxAspectRatio if it is genuine)',
    );
  }
  const resized: [number, number] = mode === 'shorter-side' ? shorterSideSize(height, width, size) : [size, size];
  checkResizedPixels(resized[0], resized[1], maxPixels);
  return { size, resized, maxPixels };
}

/** The 8-bit image FairCLIP's pipeline feeds to ToTensor: resize (mode "F"), center crop, convert("L"/"RGB"). */
export function fairclipGrayToU8(
  image: ImageF32,
  options: Pick<PreprocessOptions, 'size' | 'resize' | 'maxAspectRatio' | 'maxResizedPixels'> = {},
): ImageU8 {
  checkImageF32(image);
  const { size, resized, maxPixels } = geometry(image.height, image.width, options);
  const r = resizeF32(image, resized[0], resized[1], maxPixels);
  return floatToU8(centerCropF32(r, size));
}

/**
 * FairCLIP's image preprocessing of a float grayscale image (a Harvard-FairVLMed `slo_fundus` array as float32):
 * `PIL.Image.fromarray` (mode "F") → `Resize(224, BICUBIC)` → `CenterCrop(224)` → `convert("RGB")` (clip to
 * [0, 255], truncate, gray to 3 channels) → `ToTensor` → `Normalize(CLIP mean, std)`. Returns float32
 * `[3, size, size]` (CHW). NaN/Infinity in the input is refused (typed error naming the pixel).
 */
export function preprocessGrayFloat(image: ImageF32, options: PreprocessOptions = {}): Float32Array {
  return toNormalizedChw(fairclipGrayToU8(image, options), options);
}

/** The 8-bit image after resize and center crop of an 8-bit input (PIL's fixed-point bicubic). */
export function resizeAndCropU8(
  image: ImageU8,
  options: Pick<PreprocessOptions, 'size' | 'resize' | 'maxAspectRatio' | 'maxResizedPixels'> = {},
): ImageU8 {
  checkImageU8(image);
  const { size, resized, maxPixels } = geometry(image.height, image.width, options);
  return centerCropU8(resizeU8(image, resized[0], resized[1], maxPixels), size);
}

/**
 * CLIP's preprocessing of an 8-bit image (e.g. a decoded FairFace JPEG, `[H, W, 3]` RGB or `[H, W, 1]` gray):
 * `Resize(224, BICUBIC)` with PIL's 8-bit resampling → `CenterCrop(224)` → `convert("RGB")` → `ToTensor` →
 * `Normalize`; with `resize: 'square'`, `Resize((224, 224))` as linear probing's evaluation transform. Returns
 * float32 `[3, size, size]`.
 */
export function preprocessRgb(image: ImageU8, options: PreprocessOptions = {}): Float32Array {
  return toNormalizedChw(resizeAndCropU8(image, options), options);
}
