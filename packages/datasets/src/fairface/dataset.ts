// FairFace as the reproducibility study uses it (FairCLIP/src/modules.py::fairface_dataset in
// stanfris/FairCLIP_Reproducibility): gender is the target, age (9 groups) and race (7 groups) the sensitive
// attributes, the first 10,000 naturally sorted files of a split folder.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { DatasetError, ioError, isDatasetError } from '../errors.ts';
import { columnIndex, readCsv } from '../files.ts';
import { DataLoader, EndlessLoader, type LoaderOptions, type SampleSource, withDatasetSkip } from '../loader.ts';
import { naturalCompare } from '../natural-sort.ts';

/** Age groups; the index is the code. */
export const FAIRFACE_AGES = [
  '0-2',
  '3-9',
  '10-19',
  '20-29',
  '30-39',
  '40-49',
  '50-59',
  '60-69',
  'more than 70',
] as const;
/** Race groups; the index is the code. */
export const FAIRFACE_RACES = [
  'East Asian',
  'Indian',
  'Black',
  'White',
  'Middle Eastern',
  'Southeast Asian',
  'Latino_Hispanic',
] as const;
/** Gender values of the label CSVs; the target is 1 for Male, 0 for Female. */
export const FAIRFACE_GENDERS = ['Female', 'Male'] as const;
/** The zero-shot prompts: class 0, class 1. */
export const FAIRFACE_PROMPTS = ['A picture of a female person', 'A picture of a male person'] as const;
/** Columns of the label CSVs. */
export const FAIRFACE_COLUMNS = ['file', 'age', 'gender', 'race', 'service_test'] as const;
/** How many naturally sorted files of a folder the study uses. */
export const FAIRFACE_LIMIT = 10_000;

export type FairFaceSplit = 'train' | 'val' | 'test';
export type FairFaceAttribute = 'age' | 'race';

/**
 * The study's training caption, verbatim — including the missing space and full stop before "They":
 * "Image of a person that is {age} years old, and their race is: {race}They are {gender}".
 */
export function fairfaceCaption(age: string, race: string, gender: string): string {
  return `Image of a person that is ${age} years old, and their race is: ${race}They are ${gender}`;
}

/** An 8-bit RGB image (PIL mode "RGB"), row-major, shape [height, width, 3]. */
export interface RgbImage {
  data: Uint8Array;
  shape: [number, number, 3];
}

export interface FairFaceRecord {
  split: FairFaceSplit;
  /** As in the CSV: `train/1.jpg`. */
  file: string;
  path: string;
  /** Target: 1 Male, 0 Female. */
  gender: number;
  /** Codes into FAIRFACE_AGES / FAIRFACE_RACES. */
  age: number;
  race: number;
  serviceTest: string;
  caption: string;
}

export interface FairFaceSample extends FairFaceRecord {
  index: number;
  image: RgbImage;
}

export interface FairFaceOptions {
  /** Naturally sorted files kept (default 10,000, the study's cut). */
  limit?: number;
  /** Label CSV (relative to the root or absolute); default fairface_label_{train,val,test}.csv. */
  labelFile?: string;
  skipCorrupt?: boolean;
  onSkip?: (skipped: { file: string; error: DatasetError }) => void;
  /** Decoder limits (jpeg-js): megapixels per image (default 50) and memory (default 512 MB). */
  maxResolutionInMP?: number;
  maxMemoryUsageInMB?: number;
}

/** Decodes a JPEG to 8-bit RGB (grayscale is replicated, like PIL's convert("RGB")). IMAGE_DECODE on failure. */
export function decodeJpeg(
  bytes: Uint8Array,
  source: string,
  limits: { maxResolutionInMP?: number; maxMemoryUsageInMB?: number } = {},
): RgbImage {
  try {
    const img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      maxResolutionInMP: limits.maxResolutionInMP ?? 50,
      maxMemoryUsageInMB: limits.maxMemoryUsageInMB ?? 512,
    });
    if (img.data.length !== img.width * img.height * 3) {
      throw new Error(`decoder returned ${img.data.length} bytes for ${img.width}x${img.height} RGB`);
    }
    return { data: img.data, shape: [img.height, img.width, 3] };
  } catch (e) {
    throw new DatasetError('IMAGE_DECODE', `cannot decode JPEG: ${(e as Error).message ?? String(e)}`, {
      file: source,
      cause: e,
    });
  }
}

/** One split of FairFace (train: train/; val and test: val/ with their own label CSVs). */
export class FairFaceDataset implements SampleSource<FairFaceSample> {
  readonly root: string;
  readonly split: FairFaceSplit;
  readonly folder: string;
  readonly labelFile: string;
  readonly records: readonly FairFaceRecord[];
  readonly skipped: readonly { file: string; error: DatasetError }[];
  private readonly options: FairFaceOptions;

  constructor(root: string, split: FairFaceSplit, options: FairFaceOptions = {}) {
    if (!['train', 'val', 'test'].includes(split)) {
      throw new DatasetError('BAD_ARGUMENT', `split must be train, val or test, got ${JSON.stringify(split)}`);
    }
    const limit = options.limit ?? FAIRFACE_LIMIT;
    if (!Number.isInteger(limit) || limit < 0)
      throw new DatasetError('BAD_ARGUMENT', `limit must be a non-negative integer, got ${limit}`);
    this.root = root;
    this.split = split;
    this.options = options;
    if (!existsSync(root)) throw new DatasetError('NOT_FOUND', 'dataset folder not found', { file: root });
    const folderName = split === 'train' ? 'train' : 'val';
    this.folder = join(root, folderName);
    const label = options.labelFile ?? `fairface_label_${split}.csv`;
    this.labelFile = label.startsWith('/') ? label : join(root, label);
    const table = readCsv(this.labelFile);
    const col = columnIndex(table, FAIRFACE_COLUMNS);
    const rows = new Map<string, { row: readonly string[]; line: number }>();
    table.rows.forEach((row, k) => rows.set(row[col.file]!.trim(), { row, line: table.lines[k]! }));

    let names: string[];
    try {
      names = readdirSync(this.folder);
    } catch (e) {
      throw ioError(e, this.folder);
    }
    names.sort(naturalCompare);
    const records: FairFaceRecord[] = [];
    const skipped: { file: string; error: DatasetError }[] = [];
    for (const name of names.slice(0, limit)) {
      const file = `${folderName}/${name}`;
      try {
        const hit = rows.get(file);
        if (!hit) throw new DatasetError('MISSING_LABEL', `no row for ${file}`, { file: this.labelFile });
        const { row, line } = hit;
        const value = (c: 'age' | 'gender' | 'race', allowed: readonly string[]) => {
          const v = row[col[c]]!.trim();
          const i = allowed.indexOf(v);
          if (i < 0) {
            throw new DatasetError(
              'UNKNOWN_ATTRIBUTE_VALUE',
              `line ${line}, column '${c}': unknown value ${JSON.stringify(v)} (expected ${allowed.join(' / ')})`,
              { file: this.labelFile },
            );
          }
          return { v, i };
        };
        const age = value('age', FAIRFACE_AGES);
        const gender = value('gender', FAIRFACE_GENDERS);
        const race = value('race', FAIRFACE_RACES);
        records.push({
          split,
          file,
          path: join(this.folder, name),
          gender: gender.i,
          age: age.i,
          race: race.i,
          serviceTest: row[col.service_test]!.trim(),
          caption: fairfaceCaption(age.v, race.v, gender.v),
        });
      } catch (e) {
        if (!(options.skipCorrupt && isDatasetError(e))) throw e;
        const s = { file, error: e };
        skipped.push(s);
        options.onSkip?.(s);
      }
    }
    this.records = records;
    this.skipped = skipped;
  }

  get size(): number {
    return this.records.length;
  }

  async load(index: number): Promise<FairFaceSample> {
    const r = this.records[index];
    if (!r) throw new DatasetError('BAD_ARGUMENT', `sample index ${index} is outside 0..${this.records.length - 1}`);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(r.path);
    } catch (e) {
      throw ioError(e, r.path);
    }
    const limits: { maxResolutionInMP?: number; maxMemoryUsageInMB?: number } = {};
    if (this.options.maxResolutionInMP !== undefined) limits.maxResolutionInMP = this.options.maxResolutionInMP;
    if (this.options.maxMemoryUsageInMB !== undefined) limits.maxMemoryUsageInMB = this.options.maxMemoryUsageInMB;
    return { ...r, index, image: decodeJpeg(bytes, r.path, limits) };
  }

  /** Indices of the records in group `group` of `attribute`. */
  groupIndices(attribute: FairFaceAttribute, group: number): number[] {
    const out: number[] = [];
    this.records.forEach((r, i) => {
      if (r[attribute] === group) out.push(i);
    });
    return out;
  }

  loader(options: LoaderOptions): DataLoader<FairFaceSample> {
    return new DataLoader(this, this.withSkip(options));
  }

  /** Endless reshuffling loaders, one per group of `attribute` (undefined for empty groups). */
  groupLoaders(attribute: FairFaceAttribute, options: LoaderOptions): (EndlessLoader<FairFaceSample> | undefined)[] {
    const groups = attribute === 'age' ? FAIRFACE_AGES : attribute === 'race' ? FAIRFACE_RACES : undefined;
    if (!groups)
      throw new DatasetError('BAD_ARGUMENT', `attribute must be 'age' or 'race', got ${JSON.stringify(attribute)}`);
    return groups.map((_, g) => {
      const idx = this.groupIndices(attribute, g);
      return idx.length === 0
        ? undefined
        : new EndlessLoader(this, idx, { ...this.withSkip(options), stream: (attribute === 'age' ? 1000 : 2000) + g });
    });
  }

  private withSkip(options: LoaderOptions): LoaderOptions {
    return withDatasetSkip(options, this.options, (i) => this.records[i]?.file);
  }
}

/** Opens a FairFace split. */
export function openFairFace(root: string, split: FairFaceSplit, options: FairFaceOptions = {}): FairFaceDataset {
  return new FairFaceDataset(root, split, options);
}

/** Reads and decodes one JPEG file synchronously. */
export function readJpegFile(path: string): RgbImage {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw ioError(e, path);
  }
  return decodeJpeg(bytes, path);
}
