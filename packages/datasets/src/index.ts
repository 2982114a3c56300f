// @fairclip/datasets: Harvard-FairVLMed and FairFace adapters, loaders, synthetic data (the file formats they read —
// zip, npy/npz, CSV — and the attribute encodings are in @fairclip/io).

export type { CliIo } from './cli-main.ts';
export { runCli, USAGE } from './cli-main.ts';
export type { DatasetErrorCode } from './errors.ts';
export { DatasetError, isDatasetError } from './errors.ts';
export type {
  FairFaceAttribute,
  FairFaceOptions,
  FairFaceRecord,
  FairFaceSample,
  FairFaceSplit,
  RgbImage,
} from './fairface/dataset.ts';
export {
  decodeJpeg,
  FAIRFACE_AGES,
  FAIRFACE_COLUMNS,
  FAIRFACE_GENDERS,
  FAIRFACE_LIMIT,
  FAIRFACE_PROMPTS,
  FAIRFACE_RACES,
  FairFaceDataset,
  fairfaceCaption,
  openFairFace,
  readJpegFile,
} from './fairface/dataset.ts';
export type {
  DataSummaryRow,
  FairVlmedOptions,
  FairVlmedRecord,
  FairVlmedSample,
  FloatImage,
  SkippedSample,
} from './fairvlmed/dataset.ts';
export {
  FairVlmedSplit,
  findSummaryFile,
  labelsAndAttributes,
  openFairVlmed,
  readDataSummary,
  readFairVlmedRecordKeys,
  readSummaries,
  splitFolder,
  stackImages,
  toFloatImage,
} from './fairvlmed/dataset.ts';
export type { Split } from './fairvlmed/schema.ts';
export {
  DATA_SUMMARY_ALL_COLUMNS,
  DATA_SUMMARY_COLUMNS,
  FAIRVLMED_PROMPTS,
  FAIRVLMED_SPLITS,
  labelCaption,
  NOTE_MAX_LENGTH,
  pyStrip,
  SPLITS,
  SUMMARY_FILES,
  truncateNote,
  UNKNOWN,
} from './fairvlmed/schema.ts';
export type { DatasetStats, GroupCount, SplitStats } from './fairvlmed/stats.ts';
export { computeStats, formatStats, statsToJson } from './fairvlmed/stats.ts';
export type { SynthOptions, SynthSample } from './fairvlmed/synth.ts';
export {
  renderFundus,
  SLO_SHAPE,
  SYNTH_PROPORTIONS,
  SYNTH_PROVENANCE_FILE,
  SYNTH_VERSION,
  synthesizeFairVlmed,
  synthSamples,
} from './fairvlmed/synth.ts';
export type { Batch, LoaderOptions, SampleSource, SkippedLoad } from './loader.ts';
export { DataLoader, EndlessLoader } from './loader.ts';
export { naturalCompare, naturalSort } from './natural-sort.ts';
export { batchPlan, EndlessSampler, epochOrder } from './sampler.ts';
