// Harvard-FairVLMed on disk: the split folders of data_xxxxx.npz files, the GPT-4 summaries, data_summary.csv.
// Semantics of the official FairCLIP/src/modules.py::fair_vl_med_dataset (see the package README for the details).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  FAIRVLMED_ATTRIBUTES,
  FAIRVLMED_EVAL_ATTRIBUTES,
  FAIRVLMED_GROUPS,
  type FairVlmedAttribute,
  type NpyArray,
  parseDecimal,
} from '@fairclip/io';
import { DatasetError, ioError, isDatasetError } from '../errors.ts';
import { columnIndex, readCsv, readNpzFileAsync, readNpzKeys } from '../files.ts';
import {
  type Batch,
  DataLoader,
  EndlessLoader,
  type LoaderOptions,
  type SampleSource,
  withDatasetSkip,
} from '../loader.ts';
import { naturalCompare } from '../natural-sort.ts';
import {
  DATA_SUMMARY_COLUMNS,
  FAIRVLMED_SPLITS,
  labelCaption,
  pyStrip,
  type Split,
  SUMMARY_FILES,
  truncateNote,
  UNKNOWN,
} from './schema.ts';

/** A single-channel float image (PIL mode "F"), row-major, shape [height, width]. */
export interface FloatImage {
  data: Float32Array;
  shape: [number, number];
}

/** What is known about a sample without decoding its image. */
export interface FairVlmedRecord {
  split: Split;
  /** File name in the split folder (data_xxxxx.npz). */
  file: string;
  path: string;
  /** 0 non-glaucoma, 1 glaucoma. */
  glaucoma: number;
  /** Integer codes (see FAIRVLMED_GROUPS); −1 unknown. `maritalstatus` is −1 when the npz lacks the key. */
  attributes: Record<FairVlmedAttribute, number>;
  age: number | undefined;
  md: number | undefined;
  /** The GPT-4 summary (stripped), when the summaries file has one for this file. */
  note: string | undefined;
  /** The training text: truncateNote(note) for textSource 'note', the label caption for 'label'. */
  caption: string | undefined;
}

/** A loaded sample: the record plus its SLO fundus image as float32. */
export interface FairVlmedSample extends FairVlmedRecord {
  index: number;
  image: FloatImage;
}

/** A sample left out with `skipCorrupt`, and why. */
export interface SkippedSample {
  file: string;
  error: DatasetError;
}

export interface FairVlmedOptions {
  /**
   * 'official' (default): training keeps every sample, validation/test drop samples with an unknown (−1) race,
   * gender, ethnicity or language. 'known': drop them in every split (the official `ruleout_unknown=True`).
   * 'none': keep everything.
   */
  filter?: 'official' | 'known' | 'none';
  /** 'note' (default): captions are the truncated GPT-4 summaries; 'label': "A photo of (non-)glaucoma". */
  textSource?: 'note' | 'label';
  /** Summaries file (relative to the dataset folder or absolute); default: gpt-4_summarized_notes.csv, then
   * gpt4_summarized_notes.csv. */
  summaryFile?: string;
  /** Fail (MISSING_TEXT) when a sample has no summary. Default: true for the training split with textSource 'note'. */
  requireText?: boolean;
  /**
   * Largest size a sample's image entry (`slo_fundus.npy`) may declare, in bytes: default
   * {@link DEFAULT_MAX_SAMPLE_BYTES} (128 MiB). A file declaring more is refused (TOO_LARGE) before it is inflated.
   */
  maxSampleBytes?: number;
  /** Report and skip samples that cannot be read (corrupt npz, bad values, missing text) instead of failing. */
  skipCorrupt?: boolean;
  onSkip?: (skipped: SkippedSample) => void;
}

/**
 * Default cap on a sample's image entry: a 4096 × 4096 image in float64 (128 MiB), the largest image the synthetic
 * generator writes in numpy's widest dtype. A real Harvard-FairVLMed SLO fundus image is 664 × 512 (1.3 MiB in
 * float32, 2.6 MiB in float64), so the cap leaves a factor of 48 or more.
 */
export const DEFAULT_MAX_SAMPLE_BYTES = 4096 * 4096 * 8;
/** Cap on each label / attribute entry of a sample (a 0-d .npy is 128 bytes; 64 KiB leaves ample room). */
const SCALAR_ENTRY_MAX_BYTES = 64 * 1024;

const SCALAR_KEYS = ['glaucoma', 'race', 'gender', 'ethnicity', 'language', 'maritalstatus', 'age', 'md'] as const;
const REQUIRED_KEYS = ['glaucoma', 'race', 'gender', 'ethnicity', 'language'] as const;

/** The folder of a split (Training, Validation, Test or Testing); NOT_FOUND naming the candidates. */
export function splitFolder(root: string, split: Split): string {
  if (!existsSync(root)) throw new DatasetError('NOT_FOUND', 'dataset folder not found', { file: root });
  const candidates = FAIRVLMED_SPLITS[split];
  for (const name of candidates) {
    const p = join(root, name);
    if (existsSync(p) && statSync(p).isDirectory()) return p;
  }
  throw new DatasetError(
    'NOT_FOUND',
    `no ${candidates.map((c) => `${c}/`).join(' or ')} folder for the ${split} split`,
    {
      file: root,
    },
  );
}

/** The summaries file to use (explicit, or the first of the two spellings that exists), or undefined. */
export function findSummaryFile(root: string, explicit?: string): string | undefined {
  if (explicit !== undefined) {
    const p = explicit.startsWith('/') ? explicit : join(root, explicit);
    if (!existsSync(p)) throw new DatasetError('NOT_FOUND', 'summaries file not found', { file: p });
    return p;
  }
  for (const name of SUMMARY_FILES) {
    const p = join(root, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/**
 * Reads a GPT-4 summaries CSV the official way: column 0 is the npz file name, column 2 the summary, both stripped;
 * a later row for the same file wins. Rows with an empty summary are left out.
 */
export function readSummaries(path: string): Map<string, string> {
  const table = readCsv(path);
  if (table.header.length < 3) {
    throw new DatasetError(
      'CSV_MISSING_COLUMN',
      `expected at least 3 columns (file name, original note, summary), found ${table.header.length}: ${table.header.join(', ')}`,
      { file: path },
    );
  }
  const out = new Map<string, string>();
  for (const row of table.rows) {
    const summary = pyStrip(row[2]!);
    if (summary !== '') out.set(pyStrip(row[0]!), summary);
  }
  return out;
}

function scalarValue(a: NpyArray, key: string, path: string): number {
  if (a.data.length !== 1) {
    throw new DatasetError('BAD_SHAPE', `'${key}' should hold one value, it has shape (${a.shape.join(', ')})`, {
      file: path,
    });
  }
  const v = a.data[0]!;
  if (typeof v === 'bigint') {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new DatasetError('UNKNOWN_ATTRIBUTE_VALUE', `'${key}' = ${v} is out of range`, { file: path });
    }
    return Number(v);
  }
  return v;
}

function codeValue(value: number, key: string, allowed: number, unknownOk: boolean, path: string): number {
  if (!Number.isInteger(value) || value >= allowed || value < (unknownOk ? UNKNOWN : 0)) {
    const legal = unknownOk ? `-1..${allowed - 1}` : `0..${allowed - 1}`;
    throw new DatasetError('UNKNOWN_ATTRIBUTE_VALUE', `'${key}' = ${value} is not a valid code (expected ${legal})`, {
      file: path,
    });
  }
  return value;
}

/** Reads the label and attributes of one npz file (positioned reads: the image is not read). */
export function readFairVlmedRecordKeys(path: string): Pick<FairVlmedRecord, 'glaucoma' | 'attributes' | 'age' | 'md'> {
  const arrays = readNpzKeys(path, SCALAR_KEYS, {
    maxEntryBytes: SCALAR_ENTRY_MAX_BYTES,
    capHint: 'a label or attribute entry holds one value: the file is damaged or not a FairVLMed sample',
  });
  for (const k of REQUIRED_KEYS) {
    if (!arrays.has(k)) throw new DatasetError('NPZ_MISSING_KEY', `no array '${k}'`, { file: path });
  }
  const get = (k: string) => scalarValue(arrays.get(k)!, k, path);
  const attributes = {} as Record<FairVlmedAttribute, number>;
  for (const attr of FAIRVLMED_ATTRIBUTES) {
    attributes[attr] = arrays.has(attr)
      ? codeValue(get(attr), attr, FAIRVLMED_GROUPS[attr].length, true, path)
      : UNKNOWN;
  }
  const finite = (k: string) => {
    if (!arrays.has(k)) return undefined;
    const v = get(k);
    if (!Number.isFinite(v))
      throw new DatasetError('UNKNOWN_ATTRIBUTE_VALUE', `'${k}' = ${v} is not finite`, { file: path });
    return v;
  };
  return {
    glaucoma: codeValue(get('glaucoma'), 'glaucoma', 2, false, path),
    attributes,
    age: finite('age'),
    md: finite('md'),
  };
}

/** Converts a decoded slo_fundus array to a float32 [H, W] image (numpy's astype(float32), C order). */
export function toFloatImage(a: NpyArray, path: string): FloatImage {
  const shape = a.shape;
  if (shape.length !== 2) {
    throw new DatasetError(
      'BAD_SHAPE',
      `'slo_fundus' should be a 2-D grayscale image, it has shape (${shape.join(', ')})`,
      {
        file: path,
      },
    );
  }
  const [h, w] = shape as [number, number];
  const n = h * w;
  const src = a.data;
  if (src instanceof Float32Array || src instanceof Float64Array) checkFinite(src, h, w, a.fortranOrder, path);
  let data: Float32Array;
  if (src instanceof Float32Array && !a.fortranOrder) {
    data = src;
  } else {
    data = new Float32Array(n);
    if (a.fortranOrder) {
      for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) data[r * w + c] = Number(src[c * h + r]!);
    } else if (src instanceof BigInt64Array || src instanceof BigUint64Array) {
      for (let i = 0; i < n; i++) data[i] = Number(src[i]!);
    } else {
      data.set(src as ArrayLike<number>);
    }
  }
  return { data, shape: [h, w] };
}

/** IMAGE_NOT_FINITE naming the file and the first NaN / ±Infinity (in file order) with its row and column. */
function checkFinite(
  data: Float32Array | Float64Array,
  height: number,
  width: number,
  fortran: boolean,
  path: string,
): void {
  let first = -1;
  let count = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) {
      if (first < 0) first = i;
      count++;
    }
  }
  if (first < 0) return;
  const v = data[first]!;
  const [row, col] = fortran
    ? [first % height, Math.floor(first / height)]
    : [Math.floor(first / width), first % width];
  throw new DatasetError(
    'IMAGE_NOT_FINITE',
    `'slo_fundus' holds ${count} non-finite value${count > 1 ? 's' : ''} (the first: ${v} at row ${row}, column ${col}): the image is damaged; re-export it, or pass skipCorrupt to skip such samples`,
    { file: path },
  );
}

/** One split of Harvard-FairVLMed: its records (filtered), and samples loaded on demand. */
export class FairVlmedSplit implements SampleSource<FairVlmedSample> {
  readonly root: string;
  readonly split: Split;
  readonly folder: string;
  readonly records: readonly FairVlmedRecord[];
  readonly skipped: readonly SkippedSample[];
  /** Files removed by the filter (unknown attributes in validation/test), for reporting. */
  readonly filteredOut: readonly string[];
  readonly summaryFile: string | undefined;
  /** The cap on a sample's image entry (see {@link FairVlmedOptions.maxSampleBytes}). */
  readonly maxSampleBytes: number;
  private readonly options: FairVlmedOptions;

  constructor(root: string, split: Split, options: FairVlmedOptions = {}) {
    this.root = root;
    this.split = split;
    this.options = options;
    const cap = options.maxSampleBytes ?? DEFAULT_MAX_SAMPLE_BYTES;
    if (!Number.isSafeInteger(cap) || cap <= 0) {
      throw new DatasetError('BAD_ARGUMENT', `maxSampleBytes must be a positive integer, got ${String(cap)}`);
    }
    this.maxSampleBytes = cap;
    this.folder = splitFolder(root, split);
    const textSource = options.textSource ?? 'note';
    if (textSource !== 'note' && textSource !== 'label') {
      throw new DatasetError('BAD_ARGUMENT', `textSource must be 'note' or 'label', got ${JSON.stringify(textSource)}`);
    }
    const filter = options.filter ?? 'official';
    if (!['official', 'known', 'none'].includes(filter)) {
      throw new DatasetError(
        'BAD_ARGUMENT',
        `filter must be 'official', 'known' or 'none', got ${JSON.stringify(filter)}`,
      );
    }
    const requireText = options.requireText ?? (split === 'train' && textSource === 'note');
    this.summaryFile = findSummaryFile(root, options.summaryFile);
    if (requireText && this.summaryFile === undefined) {
      throw new DatasetError('NOT_FOUND', `no summaries file (${SUMMARY_FILES.join(' or ')}) for the training text`, {
        file: root,
      });
    }
    const summaries = this.summaryFile ? readSummaries(this.summaryFile) : new Map<string, string>();

    let files: string[];
    try {
      files = readdirSync(this.folder).filter((f) => f.endsWith('.npz'));
    } catch (e) {
      throw ioError(e, this.folder);
    }
    files.sort(naturalCompare);

    const dropUnknown = filter === 'known' || (filter === 'official' && split !== 'train');
    const records: FairVlmedRecord[] = [];
    const skipped: SkippedSample[] = [];
    const filteredOut: string[] = [];
    for (const file of files) {
      const path = join(this.folder, file);
      try {
        const meta = readFairVlmedRecordKeys(path);
        if (dropUnknown && FAIRVLMED_EVAL_ATTRIBUTES.some((a) => meta.attributes[a] === UNKNOWN)) {
          filteredOut.push(file);
          continue;
        }
        const note = summaries.get(file);
        if (requireText && note === undefined) {
          throw new DatasetError('MISSING_TEXT', `no summary for ${file}`, { file: this.summaryFile });
        }
        const caption =
          textSource === 'label' ? labelCaption(meta.glaucoma) : note === undefined ? undefined : truncateNote(note);
        records.push({ split, file, path, ...meta, note, caption });
      } catch (e) {
        if (!(options.skipCorrupt && isDatasetError(e))) throw e;
        const s = { file: path, error: e };
        skipped.push(s);
        options.onSkip?.(s);
      }
    }
    this.records = records;
    this.skipped = skipped;
    this.filteredOut = filteredOut;
  }

  get size(): number {
    return this.records.length;
  }

  /** Loads sample `index`: reads the npz (asynchronously, inflating off the event loop) and decodes slo_fundus. */
  async load(index: number): Promise<FairVlmedSample> {
    const record = this.records[index];
    if (record === undefined) {
      throw new DatasetError('BAD_ARGUMENT', `sample index ${index} is outside 0..${this.records.length - 1}`);
    }
    const arrays = await readNpzFileAsync(record.path, ['slo_fundus'], {
      maxEntryBytes: this.maxSampleBytes,
      capHint: 'if the file is trusted, raise the maxSampleBytes option (openFairVlmed)',
    });
    const img = arrays.get('slo_fundus');
    if (!img) throw new DatasetError('NPZ_MISSING_KEY', "no array 'slo_fundus'", { file: record.path });
    return { ...record, index, image: toFloatImage(img, record.path) };
  }

  /** Indices of the records whose `attribute` equals `group`. */
  groupIndices(attribute: FairVlmedAttribute, group: number): number[] {
    const out: number[] = [];
    this.records.forEach((r, i) => {
      if (r.attributes[attribute] === group) out.push(i);
    });
    return out;
  }

  /** A batched loader over this split; `skipCorrupt` and `onSkip` default to the dataset's options. */
  loader(options: LoaderOptions): DataLoader<FairVlmedSample> {
    return new DataLoader(this, this.withSkip(options));
  }

  /**
   * FairCLIP's group loaders: one endless, reshuffled-every-pass loader per group 0..K−1 of `attribute`, over this
   * split's samples of that group (unknowns never enter one). Groups without samples get no loader (undefined).
   */
  groupLoaders(attribute: FairVlmedAttribute, options: LoaderOptions): (EndlessLoader<FairVlmedSample> | undefined)[] {
    const k = FAIRVLMED_GROUPS[attribute]?.length;
    if (k === undefined) throw new DatasetError('BAD_ARGUMENT', `unknown attribute ${JSON.stringify(attribute)}`);
    const attrIndex = FAIRVLMED_ATTRIBUTES.indexOf(attribute);
    return Array.from({ length: k }, (_, g) => {
      const indices = this.groupIndices(attribute, g);
      if (indices.length === 0) return undefined;
      return new EndlessLoader(this, indices, { ...this.withSkip(options), stream: attrIndex * 64 + g + 1 });
    });
  }

  private withSkip(options: LoaderOptions): LoaderOptions {
    return withDatasetSkip(options, this.options, (i) => this.records[i]?.path);
  }
}

/** Opens one split of a Harvard-FairVLMed folder. */
export function openFairVlmed(root: string, split: Split, options: FairVlmedOptions = {}): FairVlmedSplit {
  return new FairVlmedSplit(root, split, options);
}

/** Stacks the images of a batch into one [B, H, W] Float32Array (all images must have the same shape). */
export function stackImages(samples: readonly { image: FloatImage }[]): {
  data: Float32Array;
  shape: [number, number, number];
} {
  if (samples.length === 0) return { data: new Float32Array(0), shape: [0, 0, 0] };
  const [h, w] = samples[0]!.image.shape;
  const out = new Float32Array(samples.length * h * w);
  samples.forEach((s, i) => {
    if (s.image.shape[0] !== h || s.image.shape[1] !== w) {
      throw new DatasetError('BAD_SHAPE', `image ${i} has shape (${s.image.shape.join(', ')}), the first (${h}, ${w})`);
    }
    out.set(s.image.data, i * h * w);
  });
  return { data: out, shape: [samples.length, h, w] };
}

/** The official label tensor of a batch: rows [glaucoma, race, gender, ethnicity, language]. */
export function labelsAndAttributes(batch: Batch<FairVlmedSample> | readonly FairVlmedRecord[]): Int32Array {
  const items = Array.isArray(batch) ? (batch as readonly FairVlmedRecord[]) : (batch as Batch<FairVlmedSample>).items;
  const out = new Int32Array(items.length * 5);
  items.forEach((r, i) => {
    out.set([r.glaucoma, r.attributes.race, r.attributes.gender, r.attributes.ethnicity, r.attributes.language], i * 5);
  });
  return out;
}

/** One row of data_summary.csv, decoded to the npz integer codes. */
export interface DataSummaryRow {
  filename: string;
  age: number;
  glaucoma: number;
  use: Split;
  attributes: Record<FairVlmedAttribute, number>;
  line: number;
}

/**
 * Reads data_summary.csv (string values: female/male, asian/black/white, non-hispanic/hispanic/unknown,
 * english/spanish/other/unknown, married or partnered/single/divorced/widowed/legally separated/unknown, glaucoma
 * yes/no, use training/validation/test). CSV_MISSING_COLUMN for a missing column, UNKNOWN_ATTRIBUTE_VALUE (with line,
 * column and value) for a value outside these.
 */
export function readDataSummary(path: string): DataSummaryRow[] {
  const table = readCsv(path);
  const col = columnIndex(table, DATA_SUMMARY_COLUMNS);
  const uses: Record<string, Split> = { training: 'train', validation: 'val', test: 'test', testing: 'test' };
  return table.rows.map((row, k) => {
    const line = table.lines[k]!;
    const bad = (column: string, value: string, expected: readonly string[]): never => {
      throw new DatasetError(
        'UNKNOWN_ATTRIBUTE_VALUE',
        `line ${line}, column '${column}': unknown value ${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)} (expected ${expected.join(' / ')})`,
        { file: path },
      );
    };
    const attributes = {} as Record<FairVlmedAttribute, number>;
    for (const attr of FAIRVLMED_ATTRIBUTES) {
      const raw = pyStrip(row[col[attr]]!).toLowerCase();
      const groups = FAIRVLMED_GROUPS[attr];
      const code = raw === 'unknown' ? UNKNOWN : groups.indexOf(raw);
      if (code === -1 && raw !== 'unknown') bad(attr, raw, [...groups, 'unknown']);
      attributes[attr] = code;
    }
    const g = pyStrip(row[col.glaucoma]!).toLowerCase();
    if (g !== 'yes' && g !== 'no') bad('glaucoma', g, ['yes', 'no']);
    const u = pyStrip(row[col.use]!).toLowerCase();
    const use = uses[u] ?? bad('use', u, ['training', 'validation', 'test']);
    const ageText = pyStrip(row[col.age]!);
    let age = Number.NaN;
    try {
      age = parseDecimal(ageText, 'age');
    } catch {
      bad('age', ageText, ['a decimal number']);
    }
    return { filename: pyStrip(row[col.filename]!), age, glaucoma: g === 'yes' ? 1 : 0, use, attributes, line };
  });
}
