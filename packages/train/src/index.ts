export type { CheckpointFiles, LoadedCheckpoint } from './checkpoint.ts';
export { CheckpointError, readLatestCheckpoint, writeCheckpoint, writeFileAtomic } from './checkpoint.ts';
export type { BackendChoice, RunArgs } from './cli-args.ts';
export { CliError, COMMON_HELP, checkPath, parseRunArgs } from './cli-args.ts';
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
export {
  applyOverrides,
  ConfigError,
  canonicalJson,
  DATASET_ATTRIBUTES,
  parseOverride,
  validateConfig,
} from './config.ts';
export type { OpenDataOptions, RunData, SampleInfo, SplitData, SplitName } from './data.ts';
export { GroupSampler, ImageCache, openRunData } from './data.ts';
export { distancePath, divergenceOptions, solvedGroupDistance, syncGroupDistance } from './distance.ts';
export type { TrainErrorCode } from './errors.ts';
export { TrainError } from './errors.ts';
export type { SplitResult } from './evaluate.ts';
export { bce, evaluateScores, zeroShotSplitScores } from './evaluate.ts';
export type { LinearProbeHeadOptions, LinearProbeTrainOptions } from './linear-probe.ts';
export { bceWithLogits, LinearProbeHead, trainLinearProbe } from './linear-probe.ts';
export type { AttributeGroups, GroupDistance } from './losses.ts';
export { fairnessPenalty, normaliseScores, similarityScores, sumNormalise } from './losses.ts';
export type { LoadedModel, ModelFiles } from './model.ts';
export { loadModel, paramGroups, resolveModelFiles, TRAINABLE_GROUPS } from './model.ts';
export type { AdamOptions, LarsOptions, OptimizerState, ParamGroup } from './optim.ts';
export { Adam, Lars, warmupCosineLr } from './optim.ts';
export type { AttributeEval, EpochRecord, SplitEval } from './outputs.ts';
export { configHash, joinCsv, markdownSummary, officialCsvHeader, officialCsvRow } from './outputs.ts';
export { mergeDeep, PRESET_NAMES, presetObject, resolveConfig } from './presets.ts';
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
export { groupScoresFromLoaders, scoresForDistance, selectScores, stepLoss } from './step.ts';
export { packageVersions } from './versions.ts';
