// @fairclip/datasets: npz/npy and zip reading, Harvard-FairVLMed and FairFace adapters, loaders, synthetic data.

export type { CliIo } from './cli-main.ts';
export { runCli, USAGE } from './cli-main.ts';
export type { CsvTable } from './csv.ts';
export { columnIndex, parseCsv, readCsv } from './csv.ts';
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
export type { FairVlmedAttribute, Split } from './fairvlmed/schema.ts';
export {
  DATA_SUMMARY_ALL_COLUMNS,
  DATA_SUMMARY_COLUMNS,
  FAIRVLMED_ATTRIBUTES,
  FAIRVLMED_EVAL_ATTRIBUTES,
  FAIRVLMED_GROUPS,
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
export type { NpyArray, NpyData, NpyDtype } from './npy/dtype.ts';
export { NPY_DTYPES } from './npy/dtype.ts';
export { halfBitsToNumber, numberToHalfBits } from './npy/float16.ts';
export type { NpzFile } from './npy/npz.ts';
export { openNpz, readNpz } from './npy/npz.ts';
export type { NpyHeader } from './npy/read.ts';
export { parseNpy, parseNpyHeader, toCOrder, toNumbers } from './npy/read.ts';
export type { NpyInput, NpyWriteOptions } from './npy/write.ts';
export { encodeNpy, encodeNpz } from './npy/write.ts';
export { mixSeed, permutation, Rng } from './random.ts';
export { crc32 } from './zip/crc32.ts';
export { readNpzFileAsync, readNpzKeys, ZipFileReader } from './zip/file.ts';
export type { ZipEntry } from './zip/read.ts';
export { listZipEntries, readZipEntry } from './zip/read.ts';
export type { ZipInput, ZipWriteOptions } from './zip/write.ts';
export { writeZip } from './zip/write.ts';
