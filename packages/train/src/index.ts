export { CheckpointError } from './checkpoint.ts';
export type {
  DatasetKind,
  DistanceConfig,
  DistanceLoss,
  FairnessConfig,
  GroupSource,
  Mode,
  Normalisation,
  Selection,
  Similarity,
  Trainable,
  TrainConfig,
} from './config.ts';
export { ConfigError, validateConfig } from './config.ts';
export type { ImageCacheOptions, OpenDataOptions, RunData, SampleInfo, SplitData, SplitName } from './data.ts';
export { DEFAULT_IMAGE_CACHE_BYTES, GroupSampler, ImageCache, openRunData } from './data.ts';
export { solvedGroupDistance, syncGroupDistance } from './distance.ts';
export type { TrainErrorCode } from './errors.ts';
export { TrainError } from './errors.ts';
export { ImagePool } from './image-pool.ts';
export type { LinearProbeHeadOptions, LinearProbeTrainOptions } from './linear-probe.ts';
export { LinearProbeHead, trainLinearProbe } from './linear-probe.ts';
export type { AttributeGroups, GroupDistance } from './losses.ts';
export { fairnessPenalty, normaliseScores, similarityScores } from './losses.ts';
export type { LoadedModel, ModelFiles } from './model.ts';
export { loadModel, paramGroups, resolveModelFiles } from './model.ts';
export type { AdamOptions, LarsOptions, OptimizerState, ParamGroup } from './optim.ts';
export { Adam, Lars, warmupCosineLr } from './optim.ts';
export type { AttributeEval, EpochRecord, SplitEval } from './outputs.ts';
export { configHash, officialCsvHeader } from './outputs.ts';
export { PRESET_NAMES, presetObject, resolvePresetConfig } from './presets.ts';
export type { ProgressOptions } from './progress.ts';
export { Progress } from './progress.ts';
export type {
  EpochEntry,
  RunHooks,
  StepInfo,
  StepRow,
  TrainRunOptions,
  TrainRunResult,
} from './run.ts';
export { runTraining, SCORES_FILE } from './run.ts';
export type { GroupPart, HostBatch, StepTerms } from './step.ts';
export { groupScoresFromLoaders, scoresForDistance, stepLoss } from './step.ts';
