export type { ContrastiveLoss } from './heads/contrastive.ts';
export { clipLogits, contrastiveLoss, cosineSimilarity, normalizeEmbeddings } from './heads/contrastive.ts';
export type { FeatureBatch, FeatureOptions, Features } from './heads/features.ts';
export { extractFeatures } from './heads/features.ts';
export { zeroShotClassify, zeroShotProbabilities, zeroShotScores } from './heads/zero-shot.ts';
// --- model, weights, heads (CLIP model helper) ---
export type { ClipOutput, CreateClipOptions, LoadStateDictOptions } from './model/clip.ts';
export { ClipModel, checkWeights, createClip } from './model/clip.ts';
export type { ClipConfig, ClipConfigName, DerivedConfig } from './model/config.ts';
export {
  CLIP_CONFIG_NAMES,
  clipConfig,
  deriveConfig,
  inferClipConfig,
  isResNetConfig,
  OPENAI_NON_WEIGHT_KEYS,
  parseClipConfig,
} from './model/config.ts';
export type { ClipModelErrorCode, WeightsMismatch } from './model/errors.ts';
export { ClipModelError, WeightsMismatchError } from './model/errors.ts';
export type { ParameterGroup, TensorSpec } from './model/spec.ts';
export { PARAMETER_GROUPS, parameterGroupOf, stateDictSpec } from './model/spec.ts';
export type { TokenBatch, TokenInput } from './model/tokens.ts';
export { toTokenBatch } from './model/tokens.ts';
export * from './preprocess/index.ts';
// --- tokenizer and preprocessing (tokenizer/preprocess helper) ---
export * from './tokenizer/index.ts';
export type { WeightsErrorCode } from './weights/errors.ts';
export { WeightsError } from './weights/errors.ts';
export { configFromHuggingFace, huggingFaceToOpenAI, isHuggingFaceClip } from './weights/huggingface.ts';
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
  detectWeightsFormat,
  loadClip,
  readWeights,
  readWeightsFile,
  resolveConfig,
  saveClip,
} from './weights/load.ts';
export type { PyKey, PyValue, UnpickleOptions } from './weights/pickle.ts';
export { ALLOWED_GLOBALS, PyDict, PyGlobal, StorageRef, TensorRef, unpickle } from './weights/pickle.ts';
export type {
  SafetensorsContents,
  SafetensorsDtype,
  SafetensorsEntry,
  SafetensorsHeader,
  WriteSafetensorsOptions,
} from './weights/safetensors.ts';
export { readSafetensors, readSafetensorsHeader, writeSafetensors } from './weights/safetensors.ts';
export type { HostTensor, StateDict } from './weights/state-dict.ts';
export { stateDictShapes } from './weights/state-dict.ts';
export type { TorchCheckpoint } from './weights/torch.ts';
export { readTorchCheckpoint, STATE_DICT_KEYS } from './weights/torch.ts';
