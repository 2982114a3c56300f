// OpenAI CLIP's `_transform(n_px)` as FairCLIP applies it, for float fundus images (PIL mode "F") and for 8-bit
// RGB images (FairFace JPEGs), plus the `Resize((n, n))` variant of linear probing's evaluation transform.
import { PreprocessError } from './errors.ts';
import {
  centerCropF32,
  centerCropU8,
  checkImageF32,
  checkImageU8,
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

export interface PreprocessOptions extends NormalizeOptions {
  /** Output side (default 224, the resolution of ViT-B/16, ViT-L/14 and RN50). */
  size?: number;
  /** Default `'shorter-side'`. */
  resize?: ResizeMode;
}

function geometry(
  height: number,
  width: number,
  options: PreprocessOptions,
): { size: number; resized: [number, number] } {
  const size = options.size ?? 224;
  if (!Number.isInteger(size) || size < 1)
    throw new PreprocessError('BAD_ARGUMENT', `size must be a positive integer, got ${size}`);
  const mode = options.resize ?? 'shorter-side';
  if (mode === 'shorter-side') return { size, resized: shorterSideSize(height, width, size) };
  if (mode === 'square') return { size, resized: [size, size] };
  throw new PreprocessError('BAD_ARGUMENT', `resize must be 'shorter-side' or 'square', got ${JSON.stringify(mode)}`);
}

/** The 8-bit image FairCLIP's pipeline feeds to ToTensor: resize (mode "F"), center crop, convert("L"/"RGB"). */
export function fairclipGrayToU8(image: ImageF32, options: Pick<PreprocessOptions, 'size' | 'resize'> = {}): ImageU8 {
  checkImageF32(image);
  const { size, resized } = geometry(image.height, image.width, options);
  const r = resizeF32(image, resized[0], resized[1]);
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
export function resizeAndCropU8(image: ImageU8, options: Pick<PreprocessOptions, 'size' | 'resize'> = {}): ImageU8 {
  checkImageU8(image);
  const { size, resized } = geometry(image.height, image.width, options);
  return centerCropU8(resizeU8(image, resized[0], resized[1]), size);
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
