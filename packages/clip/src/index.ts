// @fairclip/clip: the public API (the README's sections: model, weights, heads, tokenizer, preprocessing). The
// pickle reader's classes, the tokenizer's text-cleaning and byte tables and the preprocessing steps are internal:
// tests import them from their modules.

// The float16 rounding of the 'fp16-emulated' precision (@fairclip/compute's op), for training code that rounds
// scores and stepped weights as the model does.
export { FLOAT16_MAX, roundToFloat16 } from '@fairclip/compute';
export type { ContrastiveLoss } from './heads/contrastive.ts';
export { clipLogits, contrastiveLoss, cosineSimilarity, normalizeEmbeddings } from './heads/contrastive.ts';
export type { FeatureBatch, FeatureOptions, Features } from './heads/features.ts';
export { extractFeatures } from './heads/features.ts';
export { zeroShotClassify, zeroShotProbabilities, zeroShotScores } from './heads/zero-shot.ts';
export type { ClipOutput, CreateClipOptions, LoadStateDictOptions } from './model/clip.ts';
export { ClipModel } from './model/clip.ts';
export type { ClipConfig, ClipConfigName, DerivedConfig } from './model/config.ts';
export { CLIP_CONFIG_NAMES, clipConfig, deriveConfig, inferClipConfig, parseClipConfig } from './model/config.ts';
export type { ClipModelErrorCode, WeightsMismatch } from './model/errors.ts';
export { ClipModelError, WeightsMismatchError } from './model/errors.ts';
export type { ClipPrecision } from './model/precision.ts';
export { CLIP_PRECISIONS } from './model/precision.ts';
export type { ParameterGroup, TensorSpec } from './model/spec.ts';
export { PARAMETER_GROUPS } from './model/spec.ts';
export type { TokenBatch, TokenInput } from './model/tokens.ts';
export type {
  ImageF32,
  ImageU8,
  NormalizeOptions,
  PreprocessErrorCode,
  PreprocessOptions,
  ResizeMode,
} from './preprocess/index.ts';
export {
  CLIP_MEAN,
  CLIP_STD,
  isPreprocessError,
  PreprocessError,
  preprocessGrayFloat,
  preprocessRgb,
} from './preprocess/index.ts';
export { DEFAULT_MAX_ASPECT_RATIO } from './preprocess/pipeline.ts';
export { DEFAULT_MAX_RESIZED_PIXELS } from './preprocess/transforms.ts';
export type {
  BpeMerge,
  BpeTokenizerOptions,
  LearnBpeOptions,
  LearnBpeResult,
  OpenAiVocabOptions,
  TokenizedTexts,
  TokenizeOptions,
  TokenizerErrorCode,
} from './tokenizer/index.ts';
export {
  BpeTokenizer,
  encodeBpeVocab,
  hfTokenizerFromText,
  isTokenizerError,
  learnBpe,
  loadHfTokenizer,
  loadOpenAiTokenizer,
  OPENAI_NUM_MERGES,
  openAiTokenizerFromBytes,
  saveBpeVocab,
  TextTooLongError,
  TokenizerError,
} from './tokenizer/index.ts';
export { DEFAULT_MAX_VOCAB_BYTES } from './tokenizer/vocab-io.ts';
export type { WeightsErrorCode } from './weights/errors.ts';
export { WeightsError } from './weights/errors.ts';
export { configFromHuggingFace, huggingFaceToOpenAI, isHuggingFaceClip } from './weights/huggingface.ts';
export type { WeightsLimits } from './weights/limits.ts';
export { DEFAULT_MAX_DECODED_BYTES } from './weights/limits.ts';
export type {
  LoadClipOptions,
  ReadWeightsOptions,
  SaveClipOptions,
  WeightsFile,
  WeightsFormat,
  WeightsNaming,
} from './weights/load.ts';
export {
  clipFromWeights,
  clipToSafetensors,
  loadClip,
  readWeights,
  readWeightsFile,
  saveClip,
} from './weights/load.ts';
export type {
  ReadSafetensorsOptions,
  SafetensorsContents,
  SafetensorsDtype,
  SafetensorsEntry,
  SafetensorsHeader,
  WriteSafetensorsOptions,
} from './weights/safetensors.ts';
export {
  DEFAULT_MAX_HEADER_BYTES,
  MAX_HEADER_ENTRIES,
  MAX_RANK,
  readSafetensors,
  readSafetensorsHeader,
  writeSafetensors,
} from './weights/safetensors.ts';
export type { HostTensor, StateDict } from './weights/state-dict.ts';
export type { ReadTorchOptions, TorchCheckpoint } from './weights/torch.ts';
export { readTorchCheckpoint } from './weights/torch.ts';
