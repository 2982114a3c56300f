// @fairclip/io: file formats and small utilities with no tensor engine and no other @fairclip dependency — zip,
// npy/npz, CSV, float16/bfloat16, the seeded generator, and Harvard-FairVLMed's attribute encodings.

export type { CsvTable } from './csv.ts';
export { columnIndex, formatCsvRow, parseCsv, parseDecimal, readCsv } from './csv.ts';
export type { IoErrorCode } from './errors.ts';
export { DEFAULT_MAX_ENTRY_BYTES, FairclipError, IoError, isFairclipError, isIoError } from './errors.ts';
export type { FairVlmedAttribute, FairVlmedEvalAttribute } from './fairvlmed.ts';
export {
  FAIRVLMED_ATTRIBUTES,
  FAIRVLMED_EVAL_ATTRIBUTES,
  FAIRVLMED_GROUP_NAMES,
  FAIRVLMED_GROUPS,
} from './fairvlmed.ts';
export {
  decodeBFloat16,
  decodeFloat16,
  halfBitsToNumber,
  numberToBFloat16Bits,
  numberToHalfBits,
} from './float16.ts';
export type { NpyArray, NpyData, NpyDtype } from './npy/dtype.ts';
export { NPY_DTYPES } from './npy/dtype.ts';
export type { NpzFile } from './npy/npz.ts';
export { openNpz, readNpz } from './npy/npz.ts';
export type { NpyHeader } from './npy/read.ts';
export { parseNpy, parseNpyHeader, toCOrder, toNumbers } from './npy/read.ts';
export type { NpyInput, NpyWriteOptions } from './npy/write.ts';
export { encodeNpy, encodeNpz } from './npy/write.ts';
export { mixSeed, permutation, SeededRng } from './random.ts';
export { readNpzFileAsync, readNpzKeys, ZipFileReader } from './zip/file.ts';
export type { ZipEntry, ZipReadOptions } from './zip/read.ts';
export { listZipEntries, readZipEntry } from './zip/read.ts';
export type { ZipInput, ZipWriteOptions } from './zip/write.ts';
export { writeZip } from './zip/write.ts';
