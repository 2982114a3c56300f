// FairCLIP's exact image preprocessing (OpenAI CLIP's `_transform` on PIL images, re-implemented bit-exactly).
export type { PreprocessErrorCode } from './errors.ts';
export { isPreprocessError, PreprocessError } from './errors.ts';
export type { PreprocessOptions, ResizeMode } from './pipeline.ts';
export {
  DEFAULT_MAX_ASPECT_RATIO,
  fairclipGrayToU8,
  preprocessGrayFloat,
  preprocessRgb,
  resizeAndCropU8,
} from './pipeline.ts';
export type { ResampleCoefficients } from './resample.ts';
export {
  bicubicCoefficients,
  bicubicKernel,
  fixedPointWeights,
  PRECISION_BITS,
  resizeBicubicF32,
  resizeBicubicU8,
} from './resample.ts';
export type { ImageF32, ImageU8, NormalizeOptions } from './transforms.ts';
export {
  CLIP_MEAN,
  CLIP_STD,
  centerCropF32,
  centerCropOffsets,
  centerCropU8,
  checkImageF32,
  checkImageU8,
  checkResizedPixels,
  DEFAULT_MAX_RESIZED_PIXELS,
  floatToU8,
  resizeF32,
  resizeU8,
  roundHalfEven,
  shorterSideSize,
  toNormalizedChw,
} from './transforms.ts';
