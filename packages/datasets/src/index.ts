// @fairclip/datasets: Harvard-FairVLMed and FairFace adapters, loaders, synthetic data (the file formats they read —
// zip, npy/npz, CSV — and the attribute encodings are in @fairclip/io).

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
  FAIRFACE_AGES,
  FAIRFACE_GENDERS,
  FAIRFACE_PROMPTS,
  FAIRFACE_RACES,
  FairFaceDataset,
  fairfaceCaption,
  openFairFace,
} from './fairface/dataset.ts';
export type { FairFaceSynthOptions, FairFaceSynthSample } from './fairface/synth.ts';
export {
  EMBEDDED_FAIRFACE_OPTIONS,
  ensureSynthFairFace,
  FAIRFACE_SYNTH_PARAMETERS,
  FAIRFACE_SYNTH_VERSION,
  fairfaceSynthSamples,
  synthesizeFairFace,
} from './fairface/synth.ts';
export type {
  DataSummaryRow,
  FairVlmedOptions,
  FairVlmedRecord,
  FairVlmedSample,
  FloatImage,
  SkippedSample,
} from './fairvlmed/dataset.ts';
export {
  DEFAULT_MAX_SAMPLE_BYTES,
  FairVlmedSplit,
  labelsAndAttributes,
  openFairVlmed,
  readDataSummary,
  readSummaries,
  stackImages,
  toFloatImage,
} from './fairvlmed/dataset.ts';
export type { FundusAnatomy, FundusQuality, FundusStyle } from './fairvlmed/fundus.ts';
export { FAIRVLMED_STYLE, PRETRAIN_STYLE, renderStructuredFundus } from './fairvlmed/fundus.ts';
export type { NoteFacts, NoteKind } from './fairvlmed/notes.ts';
export type { Split } from './fairvlmed/schema.ts';
export { FAIRVLMED_PROMPTS, FAIRVLMED_SPLITS, labelCaption, truncateNote } from './fairvlmed/schema.ts';
export type { DatasetStats, GroupCount, SplitStats } from './fairvlmed/stats.ts';
export { computeStats, formatStats, statsToJson } from './fairvlmed/stats.ts';
export type { CachedDataset, StructuredSample, StructuredSynthOptions } from './fairvlmed/structured.ts';
export {
  EMBEDDED_FAIRVLMED_OPTIONS,
  EMBEDDED_IMAGE_SHAPE,
  ensureStructuredFairVlmed,
  readSynthRecord,
  STRUCTURED_PARAMETERS,
  STRUCTURED_SYNTH_VERSION,
  structuredCacheName,
  structuredSamples,
  synthesizeStructuredFairVlmed,
} from './fairvlmed/structured.ts';
export type { SynthOptions, SynthSample } from './fairvlmed/synth.ts';
export { SYNTH_PROPORTIONS, synthesizeFairVlmed, synthSamples } from './fairvlmed/synth.ts';
export type { Batch, LoaderOptions, SampleSource, SkippedLoad } from './loader.ts';
export { DataLoader, EndlessLoader } from './loader.ts';
export { batchPlan, EndlessSampler, epochOrder } from './sampler.ts';
