// The structured synthetic Harvard-FairVLMed: a small but real experiment for users without the gated dataset.
// Same on-disk format and keys as the released data (split folders of data_xxxxx.npz, data_summary.csv,
// gpt-4_summarized_notes.csv). What it models, with every parameter written to synth.json:
// - the population (fairclip.md §1.5): race, gender, ethnicity, language, marital status shares; glaucoma rate by
//   race; age 60.9 ± 16.2; Spanish language concentrated among Hispanic patients with the published marginals kept;
// - the disease (the label definition reported for the dataset, §1.5): glaucoma ⇔ visual-field MD < −3 dB, normal
//   MD ≥ −1 dB; the vertical cup-to-disc ratio grows with the field loss; a rim notch in some glaucomatous eyes;
// - images (./fundus.ts) in which the cup-to-disc ratio and notch are visible, and notes (./notes.ts) whose wording
//   carries the label with noise (informative, uninformative, misleading);
// - the bias mechanism, at a stated level `bias` ∈ [0, 1]: (1) image quality — SLO reflectance of more pigmented
//   fundi is lower, so the disc/cup contrast is × (1 − 0.6·bias·d_race) and the noise × (1 + 2·bias·d_race) with
//   d = 0.5 Asian, 1 Black, 0 White; (2) note quality — visits through an interpreter yield terser notes, so for
//   Spanish and Other language the share of uninformative notes rises by 0.4·bias. Gender carries no bias (a
//   control attribute). The levels are set a priori from this description, never from any method's result;
// - the splits: training = a natural draw of the population; validation and test = a natural draw plus a stratified
//   top-up: for every (evaluated attribute, group, label) cell with fewer than `quota` samples that pass the
//   official filter (known race, gender, ethnicity, language), samples are drawn from the population by rejection
//   until the cell holds `quota`. So every group has ≥ quota positives and ≥ quota negatives and its AUC is defined;
//   the test over-represents minority groups (the counts are in synth.json), while within a group the samples follow
//   the population's conditional distribution.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  FAIRVLMED_ATTRIBUTES,
  FAIRVLMED_EVAL_ATTRIBUTES,
  FAIRVLMED_GROUPS,
  type FairVlmedAttribute,
  mixSeed,
  SeededRng,
} from '@fairclip/io';
import { DatasetError, ioError } from '../errors.ts';
import {
  DISC_PHOTO_STYLE,
  FAIRVLMED_STYLE,
  type FundusStyle,
  PRETRAIN_STYLE,
  renderStructuredFundus,
} from './fundus.ts';
import { atlasCaption, type NoteFacts, type NoteKind, rawNote, summaryNote } from './notes.ts';
import { FAIRVLMED_SPLITS, type Split, UNKNOWN } from './schema.ts';
import {
  DATA_CSV_HEADER,
  groupName,
  NOTES_CSV_HEADER,
  SYNTH_PROPORTIONS,
  SYNTH_PROVENANCE_FILE,
  sampleFiles,
} from './synth.ts';

/** Version of the structured generator's output; part of the cache folder name. Bump on any change of output. */
export const STRUCTURED_SYNTH_VERSION = 2;

/** 290 × 224: the size FairCLIP's preprocessing resizes the real 664 × 512 images to (so it is a crop only). */
export const EMBEDDED_IMAGE_SHAPE: readonly [number, number] = [290, 224];

export interface StructuredSynthOptions {
  seed: number;
  /** Samples drawn for each split (validation and test then get the stratified top-up). */
  train: number;
  val: number;
  test: number;
  /** Minimum positives and negatives of every evaluated group after the official filter (validation, test). */
  valQuota: number;
  testQuota: number;
  /** Bias level in [0, 1] (see the file comment). */
  bias: number;
  /** [rows, cols]. */
  imageShape: readonly [number, number];
  /** 'fairvlmed' (summaries, the dataset's device) or 'pretrain' (atlas captions, another device: a shifted style). */
  style: 'fairvlmed' | 'pretrain';
}

/** The embedded default of the apps: sized so the grid runs in minutes on 2 CPU cores. */
export const EMBEDDED_FAIRVLMED_OPTIONS: Readonly<StructuredSynthOptions> = {
  seed: 2026,
  train: 240,
  val: 120,
  test: 150,
  valQuota: 8,
  testQuota: 20,
  bias: 0.5,
  imageShape: EMBEDDED_IMAGE_SHAPE,
  style: 'fairvlmed',
};

/** The model parameters (written to synth.json). Population shares: fairclip.md §1.5 (see SYNTH_PROPORTIONS). */
export const STRUCTURED_PARAMETERS = {
  population: SYNTH_PROPORTIONS,
  /**
   * P(language | ethnicity) for english, spanish, other, unknown: Spanish mostly among Hispanic patients; the
   * marginals stay §1.5's (0.04·0.35 + 0.96·0.003125 = 0.017 Spanish; English 0.925).
   */
  languageGivenEthnicity: { hispanic: [0.592, 0.35, 0.033, 0.025], other: [0.938875, 0.003125, 0.033, 0.025] },
  /** MD (dB), |z| half-normal: normal −1 + 1.5·|z| (≥ −1); glaucoma −3 − 5·|z| (< −3). */
  md: { normal: { at: -1, sd: 1.5 }, glaucoma: { at: -3, sd: 5 } },
  /** Cup-to-disc ratio: normal 0.32 + 0.08 z; glaucoma 0.52 + 0.015·(−3 − MD) + 0.08 z; clipped to [0.1, 0.92]. */
  cupToDisc: { normal: { mean: 0.32, sd: 0.08 }, glaucoma: { mean: 0.52, perDbLoss: 0.015, sd: 0.08 } },
  /** P(rim notch | glaucoma). */
  notch: 0.35,
  /** Noise sd (gray levels) at full quality. */
  noiseSd: 6,
  /** Disadvantage per race (asian, black, white) for the image-quality bias. */
  raceDisadvantage: [0.5, 1, 0],
  /** Note kinds: informative / uninformative / misleading shares; Spanish and Other language: +0.4·bias uninformative. */
  noteKinds: { informative: 0.65, uninformative: 0.25, misleading: 0.1, interpreterExtraUninformative: 0.4 },
  /** Pretraining style: misleading (flipped) captions share. */
  pretrainFlip: 0.05,
  /** Pretraining style: share of disc-centred photographs (the rest are full-field images of the pretrain device). */
  pretrainDiscPhotos: 0.5,
} as const;

/** One generated sample's metadata. */
export interface StructuredSample {
  file: string;
  split: Split;
  glaucoma: number;
  attributes: Record<FairVlmedAttribute, number>;
  age: number;
  md: number;
  cupToDisc: number;
  notch: boolean;
  noteKind: NoteKind;
  quality: { contrast: number; noiseSd: number };
  /** Whether it came from the stratified top-up. */
  topUp: boolean;
  summary: string;
  note: string;
}

function pick(rng: SeededRng, probs: readonly number[]): number {
  const u = rng.nextFloat();
  let acc = 0;
  for (let i = 0; i < probs.length; i++) {
    acc += probs[i]!;
    if (u < acc) return i;
  }
  return probs.length - 1;
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const code = (attribute: FairVlmedAttribute, i: number) => (i >= FAIRVLMED_GROUPS[attribute].length ? UNKNOWN : i);

/** Validates the options (BAD_ARGUMENT naming the field). */
export function checkStructuredOptions(o: StructuredSynthOptions): StructuredSynthOptions {
  for (const k of ['train', 'val', 'test', 'valQuota', 'testQuota'] as const) {
    const v = o[k];
    if (!Number.isInteger(v) || v < 0 || v > 99_999)
      throw new DatasetError('BAD_ARGUMENT', `${k} must be an integer 0..99999, got ${String(v).slice(0, 40)}`);
  }
  if (!Number.isSafeInteger(o.seed))
    throw new DatasetError('BAD_ARGUMENT', `seed must be an integer, got ${String(o.seed).slice(0, 40)}`);
  if (!(o.bias >= 0 && o.bias <= 1))
    throw new DatasetError('BAD_ARGUMENT', `bias must be in [0, 1], got ${String(o.bias).slice(0, 40)}`);
  const s = o.imageShape;
  if (!Array.isArray(s) || s.length !== 2 || s.some((d) => !Number.isInteger(d) || d < 32 || d > 4096))
    throw new DatasetError('BAD_ARGUMENT', `imageShape must be two integers 32..4096 (rows, cols), e.g. 290x224`);
  if (o.style !== 'fairvlmed' && o.style !== 'pretrain')
    throw new DatasetError('BAD_ARGUMENT', `style must be 'fairvlmed' or 'pretrain'`);
  return { ...o, imageShape: [s[0]!, s[1]!] };
}

type Draw = Omit<StructuredSample, 'file' | 'split' | 'topUp' | 'summary' | 'note'> & { rng: SeededRng };

/** Draws one patient from the population (deterministic in the stream's seed). */
function drawPatient(seed: number, o: StructuredSynthOptions): Draw {
  const P = STRUCTURED_PARAMETERS;
  const rng = new SeededRng(seed);
  const attributes = {} as Record<FairVlmedAttribute, number>;
  for (const a of FAIRVLMED_ATTRIBUTES) {
    if (a === 'language') continue;
    attributes[a] = code(a, pick(rng, P.population[a] as readonly number[]));
  }
  const lang = attributes.ethnicity === 1 ? P.languageGivenEthnicity.hispanic : P.languageGivenEthnicity.other;
  attributes.language = code('language', pick(rng, lang));
  const glaucoma = rng.nextFloat() < P.population.glaucomaByRace[attributes.race]! ? 1 : 0;
  const { mean, sd, min, max } = P.population.age;
  const age = round2(Math.min(max, Math.max(min, mean + sd * rng.nextNormal())));
  const md = round2(
    glaucoma
      ? P.md.glaucoma.at - P.md.glaucoma.sd * Math.abs(rng.nextNormal()) - 0.01
      : P.md.normal.at + P.md.normal.sd * Math.abs(rng.nextNormal()),
  );
  const c = P.cupToDisc;
  const cdrMean = glaucoma ? c.glaucoma.mean + c.glaucoma.perDbLoss * (-3 - md) : c.normal.mean;
  const cupToDisc = round2(
    Math.min(0.92, Math.max(0.1, cdrMean + (glaucoma ? c.glaucoma.sd : c.normal.sd) * rng.nextNormal())),
  );
  const notch = glaucoma === 1 && rng.nextFloat() < P.notch;
  const d = o.style === 'pretrain' ? 0 : (P.raceDisadvantage[attributes.race] ?? 0);
  const quality = { contrast: round2(1 - 0.6 * o.bias * d), noiseSd: round2(P.noiseSd * (1 + 2 * o.bias * d)) };
  const k = P.noteKinds;
  const interpreter = attributes.language === 1 || attributes.language === 2;
  const extra = interpreter ? k.interpreterExtraUninformative * o.bias : 0;
  const u = rng.nextFloat();
  const scale = (1 - k.uninformative - extra) / (k.informative + k.misleading);
  const noteKind: NoteKind =
    u < k.uninformative + extra
      ? 'uninformative'
      : u < k.uninformative + extra + k.informative * scale
        ? 'informative'
        : 'misleading';
  return { glaucoma, attributes, age, md, cupToDisc, notch, noteKind, quality, rng };
}

const passesFilter = (a: Record<FairVlmedAttribute, number>) =>
  FAIRVLMED_EVAL_ATTRIBUTES.every((x) => a[x] !== UNKNOWN);

/** The split's draws: `n` from the population, then (quota > 0) the stratified top-up. */
function drawSplit(o: StructuredSynthOptions, split: Split, n: number, quota: number): { d: Draw; topUp: boolean }[] {
  const splitCode = { train: 1, val: 2, test: 3 }[split];
  const out: { d: Draw; topUp: boolean }[] = [];
  for (let i = 0; i < n; i++) out.push({ d: drawPatient(mixSeed(o.seed, splitCode, i), o), topUp: false });
  if (quota <= 0) return out;
  const counts = new Map<string, number>();
  const key = (a: string, g: number, y: number) => `${a}:${g}:${y}`;
  const add = (d: Draw) => {
    if (!passesFilter(d.attributes)) return;
    for (const a of FAIRVLMED_EVAL_ATTRIBUTES) {
      const k = key(a, d.attributes[a], d.glaucoma);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
  };
  for (const { d } of out) add(d);
  let candidate = 0;
  for (const a of FAIRVLMED_EVAL_ATTRIBUTES) {
    for (let g = 0; g < FAIRVLMED_GROUPS[a].length; g++) {
      for (const y of [0, 1]) {
        while ((counts.get(key(a, g, y)) ?? 0) < quota) {
          const d = drawPatient(mixSeed(o.seed, splitCode + 10, candidate++), o);
          if (candidate > 50_000_000) throw new DatasetError('BAD_ARGUMENT', 'stratified top-up did not converge');
          if (d.attributes[a] !== g || d.glaucoma !== y || !passesFilter(d.attributes)) continue;
          out.push({ d, topUp: true });
          add(d);
        }
      }
    }
  }
  return out;
}

/** Draws every sample's metadata and texts (no images). Deterministic in the options. */
export function structuredSamples(options: StructuredSynthOptions): StructuredSample[] {
  const o = checkStructuredOptions(options);
  const samples: StructuredSample[] = [];
  let id = 0;
  for (const split of ['train', 'val', 'test'] as const) {
    const quota = split === 'train' ? 0 : split === 'val' ? o.valQuota : o.testQuota;
    for (const { d, topUp } of drawSplit(o, split, o[split], quota)) {
      id++;
      const { rng, ...rest } = d;
      const facts: NoteFacts = {
        glaucoma: d.glaucoma,
        age: d.age,
        gender: d.attributes.gender,
        cupToDisc: Math.round((d.cupToDisc + 0.04 * rng.nextNormal()) * 20) / 20,
        md: d.md,
        iop: 12 + rng.nextInt(10) + (d.glaucoma ? rng.nextInt(8) : 0),
      };
      const summary =
        o.style === 'pretrain'
          ? atlasCaption(rng, facts, rng.nextFloat() < STRUCTURED_PARAMETERS.pretrainFlip)
          : summaryNote(rng, facts, d.noteKind);
      const note = rawNote(
        rng,
        facts,
        summary,
        groupName('race', d.attributes.race),
        groupName('language', d.attributes.language),
      );
      samples.push({ ...rest, file: `data_${String(id).padStart(5, '0')}.npz`, split, topUp, summary, note });
    }
  }
  return samples;
}

/** The image of a sample (deterministic in the seed and the sample's file number). */
export function structuredImage(o: StructuredSynthOptions, s: StructuredSample): Float32Array {
  const id = Number(s.file.slice(5, 10));
  const style: FundusStyle =
    o.style === 'fairvlmed'
      ? FAIRVLMED_STYLE
      : new SeededRng(mixSeed(o.seed, id, 9)).nextFloat() < STRUCTURED_PARAMETERS.pretrainDiscPhotos
        ? DISC_PHOTO_STYLE
        : PRETRAIN_STYLE;
  return renderStructuredFundus(
    new SeededRng(mixSeed(o.seed, id, 7)),
    o.imageShape,
    { cupToDisc: s.cupToDisc, notch: s.notch },
    s.quality,
    style,
  );
}

function groupCounts(samples: readonly StructuredSample[], split: Split) {
  const used = samples.filter((s) => s.split === split && (split === 'train' || passesFilter(s.attributes)));
  return Object.fromEntries(
    FAIRVLMED_EVAL_ATTRIBUTES.map((a) => [
      a,
      Object.fromEntries(
        FAIRVLMED_GROUPS[a].map((name, g) => {
          const inGroup = used.filter((s) => s.attributes[a] === g);
          return [name, { n: inGroup.length, glaucoma: inGroup.filter((s) => s.glaucoma === 1).length }];
        }),
      ),
    ]),
  );
}

/** The synth.json record of a generated folder. */
export function structuredRecord(o: StructuredSynthOptions, samples: readonly StructuredSample[], extra: object = {}) {
  return {
    generator: '@fairclip/datasets synthesizeStructuredFairVlmed',
    versions: { synth: STRUCTURED_SYNTH_VERSION },
    seed: o.seed,
    options: { ...o, imageShape: [...o.imageShape] },
    parameters: STRUCTURED_PARAMETERS,
    style: o.style === 'pretrain' ? { fullField: PRETRAIN_STYLE, discPhoto: DISC_PHOTO_STYLE } : FAIRVLMED_STYLE,
    splitConstruction:
      'training: a natural draw of `train` patients. validation / test: a natural draw of `val` / `test` patients, ' +
      'then a stratified top-up: for each evaluated attribute (race, gender, ethnicity, language), group and label, ' +
      'while the cell holds fewer than valQuota / testQuota samples passing the official filter, patients are drawn ' +
      'from the population by rejection and those in the cell (and passing the filter) are added. Every group then ' +
      'has at least the quota of positives and of negatives; minority groups are over-represented relative to ' +
      'the population (see counts).',
    biasMechanism:
      'image quality by race: disc/cup contrast × (1 − 0.6·bias·d), noise sd × (1 + 2·bias·d), d = 0.5 Asian, ' +
      '1 Black, 0 White (lower SLO reflectance of more pigmented fundi); note quality by language: uninformative ' +
      'share + 0.4·bias for Spanish and Other (interpreter-mediated visits). Gender: none (control). Levels set a ' +
      'priori, not tuned to any method.',
    counts: Object.fromEntries(
      (['train', 'val', 'test'] as const).map((sp) => {
        const all = samples.filter((s) => s.split === sp);
        return [
          sp,
          {
            samples: all.length,
            glaucoma: all.filter((s) => s.glaucoma === 1).length,
            topUp: all.filter((s) => s.topUp).length,
            groups: groupCounts(samples, sp),
          },
        ];
      }),
    ),
    ...extra,
  };
}

/**
 * Writes the structured synthetic Harvard-FairVLMed into `dir` (created; must not exist or be empty) with synth.json
 * (written last: its presence marks a complete folder). Returns the samples.
 */
export function synthesizeStructuredFairVlmed(
  dir: string,
  options: StructuredSynthOptions,
  provenance: { command?: string } = {},
): StructuredSample[] {
  const o = checkStructuredOptions(options);
  const samples = structuredSamples(o);
  const folders: Record<Split, string> = {
    train: FAIRVLMED_SPLITS.train[0],
    val: FAIRVLMED_SPLITS.val[0],
    test: FAIRVLMED_SPLITS.test[0],
  };
  const write = (path: string, data: string | Uint8Array) => {
    try {
      writeFileSync(path, data);
    } catch (e) {
      throw ioError(e, path, 'write');
    }
  };
  try {
    for (const f of Object.values(folders)) mkdirSync(join(dir, f), { recursive: true });
  } catch (e) {
    throw ioError(e, dir, 'create');
  }
  let summaryCsv = NOTES_CSV_HEADER;
  let dataCsv = DATA_CSV_HEADER;
  for (const s of samples) {
    const image = structuredImage(o, s);
    const rng = new SeededRng(mixSeed(o.seed, Number(s.file.slice(5, 10)), 8));
    const tds = Float64Array.from({ length: 52 }, () => round2(s.md + rng.nextNormal() * 1.5));
    const files = sampleFiles(s, image, o.imageShape, tds);
    write(join(dir, folders[s.split], s.file), files.npz);
    summaryCsv += files.notesRow;
    dataCsv += files.dataRow;
  }
  write(join(dir, 'gpt-4_summarized_notes.csv'), summaryCsv);
  write(join(dir, 'data_summary.csv'), dataCsv);
  const record = structuredRecord(o, samples, provenance.command === undefined ? {} : { command: provenance.command });
  write(join(dir, SYNTH_PROVENANCE_FILE), `${JSON.stringify(record, null, 2)}\n`);
  return samples;
}

/** The cache folder name of a generated dataset: version and a hash of the options. */
export function structuredCacheName(options: StructuredSynthOptions): string {
  const o = checkStructuredOptions(options);
  const hash = createHash('sha256')
    .update(JSON.stringify({ ...o, imageShape: [...o.imageShape] }))
    .digest('hex')
    .slice(0, 12);
  return `fairvlmed-synth-v${STRUCTURED_SYNTH_VERSION}-${o.style}-seed${o.seed}-${hash}`;
}

/** Where a cached dataset is and whether this call generated it (and how long that took). */
export interface CachedDataset {
  dir: string;
  generated: boolean;
  seconds: number;
}

/**
 * The dataset in `cacheRoot` (generated there at first use, into a temporary folder renamed when complete, so an
 * interrupted generation is never used and concurrent callers agree). Deterministic in the options.
 */
export function ensureStructuredFairVlmed(cacheRoot: string, options: StructuredSynthOptions): CachedDataset {
  return ensureCached(cacheRoot, structuredCacheName(options), (tmp) => {
    synthesizeStructuredFairVlmed(tmp, options);
  });
}

/** Shared by the FairVLMed and FairFace caches: `make(tmp)` fills a fresh folder; complete ⇔ synth.json exists. */
export function ensureCached(cacheRoot: string, name: string, make: (tmp: string) => void): CachedDataset {
  const dir = join(cacheRoot, name);
  if (existsSync(join(dir, SYNTH_PROVENANCE_FILE))) return { dir, generated: false, seconds: 0 };
  const started = performance.now();
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    mkdirSync(tmp, { recursive: true });
  } catch (e) {
    throw ioError(e, tmp, 'create');
  }
  try {
    make(tmp);
    if (existsSync(dir) && !existsSync(join(dir, SYNTH_PROVENANCE_FILE))) rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(tmp, dir);
    } catch (e) {
      if (!existsSync(join(dir, SYNTH_PROVENANCE_FILE))) throw ioError(e, dir, 'write');
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { dir, generated: true, seconds: (performance.now() - started) / 1000 };
}

/** Reads a generated folder's synth.json (null when absent or unreadable). */
export function readSynthRecord(dir: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(join(dir, SYNTH_PROVENANCE_FILE), 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}
