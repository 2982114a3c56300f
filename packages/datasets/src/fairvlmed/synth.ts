// A synthetic Harvard-FairVLMed: the real on-disk format (split folders of data_xxxxx.npz with the README's keys,
// data_summary.csv, gpt-4_summarized_notes.csv), group proportions of the real data (fairclip.md §1.5), images whose
// optic cup carries the glaucoma label, template summaries, and a controllable between-group bias.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  FAIRVLMED_ATTRIBUTES,
  FAIRVLMED_GROUPS,
  type FairVlmedAttribute,
  formatCsvRow,
  mixSeed,
  SeededRng,
} from '@fairclip/io';
import { DatasetError, ioError } from '../errors.ts';
import { encodeNpz } from '../files.ts';
import { DATA_SUMMARY_ALL_COLUMNS, FAIRVLMED_SPLITS, type Split, SUMMARY_USE, UNKNOWN } from './schema.ts';

/** Version of the generator's output; bump it whenever the same options would produce different files. */
export const SYNTH_VERSION = 1;

/** Image size of the real SLO fundus images: 664 rows × 512 columns. */
export const SLO_SHAPE: readonly [number, number] = [664, 512];

/**
 * Category probabilities (codes 0..K−1, then unknown −1 last when present). Race, gender, the known shares of
 * ethnicity and language, married/single and glaucoma-by-race are the published statistics (fairclip.md §1.5); the
 * split of the remaining shares (language other vs unknown, the other marital statuses) is our choice.
 */
export const SYNTH_PROPORTIONS = {
  race: [0.0819, 0.1491, 0.769],
  gender: [0.563, 0.437],
  ethnicity: [0.906, 0.04, 0.054],
  language: [0.925, 0.017, 0.033, 0.025],
  maritalstatus: [0.574, 0.264, 0.07, 0.055, 0.007, 0.03],
  /** P(glaucoma | race) for asian, black, white. */
  glaucomaByRace: [0.487, 0.649, 0.479],
  age: { mean: 60.9, sd: 16.2, min: 18, max: 95 },
} as const;

export interface SynthOptions {
  train: number;
  val: number;
  test: number;
  seed: number;
  /**
   * Between-group bias in [0, 1] (default 0.5): the label signal in the image (optic-cup enlargement) of a sample is
   * scaled by 1 − bias × disadvantage, where disadvantage is 1 for Black, 0.5 for Asian and 0 for White patients, plus
   * 0.5 for Hispanic ethnicity (capped at 1). With bias 0 every group carries the same signal.
   */
  bias?: number;
  /** Image shape [rows, cols]; default the real 664 × 512. */
  imageShape?: readonly [number, number];
  /** Test folder name: 'Test' (default, the released data) or 'Testing' (older code). */
  testFolder?: 'Test' | 'Testing';
  /** Summaries file name (default the dataset's gpt-4_summarized_notes.csv). */
  summaryFileName?: 'gpt-4_summarized_notes.csv' | 'gpt4_summarized_notes.csv';
}

/** What was generated for one sample. */
export interface SynthSample {
  file: string;
  split: Split;
  glaucoma: number;
  attributes: Record<FairVlmedAttribute, number>;
  age: number;
  md: number;
  cupToDisc: number;
  note: string;
  summary: string;
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

/** Picks a code: 0..K−1, or −1 for the last entry when the attribute has an unknown share. */
function pickCode(rng: SeededRng, attribute: FairVlmedAttribute): number {
  const probs = SYNTH_PROPORTIONS[attribute] as readonly number[];
  const i = pick(rng, probs);
  return i >= FAIRVLMED_GROUPS[attribute].length ? UNKNOWN : i;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function choose<T>(rng: SeededRng, options: readonly T[]): T {
  return options[rng.nextInt(options.length)]!;
}

const GLAUCOMA_PHRASES = [
  'has primary open-angle glaucoma',
  'is diagnosed with glaucoma',
  'shows glaucomatous optic neuropathy',
  'has advanced glaucoma in both eyes',
];
const NORMAL_PHRASES = [
  'shows no signs of glaucoma',
  'has no glaucoma',
  'has healthy optic nerves without glaucoma',
  'was evaluated and found not to have glaucoma',
];
const PLANS = [
  'Follow-up in 6 months with repeat visual field testing.',
  'Continue current drops and return in 3 months for an intraocular pressure check.',
  'Routine annual examination recommended.',
  'Consider OCT of the retinal nerve fiber layer at the next visit to monitor progression.',
];
const REASONS = ['a routine eye exam', 'blurred vision', 'elevated eye pressure', 'a glaucoma evaluation', 'floaters'];

function texts(rng: SeededRng, s: Omit<SynthSample, 'note' | 'summary' | 'file'>): { note: string; summary: string } {
  const g = s.attributes.gender === 1 ? 'male' : 'female';
  const age = Math.round(s.age);
  const phrase = choose(rng, s.glaucoma === 1 ? GLAUCOMA_PHRASES : NORMAL_PHRASES);
  const disc = `The optic nerve head has a cup-to-disc ratio of ${s.cupToDisc.toFixed(2)}`;
  const vf = `visual field mean deviation is ${s.md.toFixed(2)} dB`;
  const summary = `The ${age} y/o ${g} patient ${phrase}. ${disc}, and ${vf}. ${choose(rng, PLANS)}`;
  const title = s.attributes.gender === 1 ? 'mr.' : 'ms.';
  const person = s.attributes.gender === 1 ? 'man' : 'woman';
  const race = s.attributes.race === UNKNOWN ? 'unknown' : FAIRVLMED_GROUPS.race[s.attributes.race];
  const lang = s.attributes.language === UNKNOWN ? 'unknown' : FAIRVLMED_GROUPS.language[s.attributes.language];
  const note =
    `${title} PERSON is a ${age} yo ${person} (race: ${race}; preferred language: ${lang}) seen for ${choose(rng, REASONS)}. ` +
    `Intraocular pressure ${10 + rng.nextInt(20)} mmHg OD, ${10 + rng.nextInt(20)} mmHg OS. ` +
    `Exam: ${disc.toLowerCase()}; ${vf}. Assessment: patient ${phrase}. Plan: ${choose(rng, PLANS)}`;
  return { note, summary };
}

/**
 * Renders a fundus-like float32 image with integer values 0..255: a circular field with vignetting, an optic disc
 * with a cup of the given cup-to-disc ratio, four vessels. Smooth and quantised, so it compresses well.
 */
export function renderFundus(
  rng: SeededRng,
  shape: readonly [number, number],
  cupToDisc: number,
  tone: number,
): Float32Array {
  const [h, w] = shape;
  const out = new Float32Array(h * w);
  const cy = h / 2 + (rng.nextFloat() - 0.5) * h * 0.04;
  const cx = w / 2 + (rng.nextFloat() - 0.5) * w * 0.04;
  const field = Math.min(h, w) * 0.48;
  const side = rng.nextFloat() < 0.5 ? -1 : 1;
  const dy = cy + (rng.nextFloat() - 0.5) * h * 0.05;
  const dx = cx + side * w * (0.16 + rng.nextFloat() * 0.04);
  const rd = Math.min(h, w) * (0.085 + rng.nextFloat() * 0.015);
  const rc = rd * cupToDisc;
  const base = 70 + tone + rng.nextFloat() * 10;
  const vessels = Array.from({ length: 4 }, (_, k) => ({
    angle: (k * Math.PI) / 2 + (rng.nextFloat() - 0.5) * 0.6,
    curve: (rng.nextFloat() - 0.5) * 2.5,
    width: 2.5 + rng.nextFloat() * 1.5,
  }));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const fr = Math.hypot(y - cy, x - cx) / field;
      if (fr >= 1) continue;
      let v = base * (1 - 0.45 * fr * fr);
      const ry = y - dy;
      const rx = x - dx;
      const r = Math.hypot(ry, rx);
      const dq = r / rd;
      v += 70 * Math.exp(-dq * dq * dq * dq);
      if (rc > 0) {
        const cq = r / rc;
        v += 60 * Math.exp(-cq * cq * cq * cq);
      }
      if (r > rd * 0.6) {
        const phi = Math.atan2(ry, rx);
        for (const vs of vessels) {
          let d = phi - (vs.angle + (vs.curve * r) / w);
          d -= 2 * Math.PI * Math.round(d / (2 * Math.PI));
          if (Math.abs(d) * r < vs.width) v -= 28;
        }
      }
      out[y * w + x] = Math.min(255, Math.max(0, Math.round(v)));
    }
  }
  return out;
}

/** One CSV line (RFC 4180 fields, newline-terminated). */
export function csvLine(fields: readonly string[]): string {
  return `${formatCsvRow(fields)}\n`;
}

/** The CSV name of an attribute's group code ('unknown' for UNKNOWN). */
export function groupName(attribute: FairVlmedAttribute, code: number): string {
  return code === UNKNOWN ? 'unknown' : FAIRVLMED_GROUPS[attribute][code]!;
}

/** The header lines of the notes CSV and of data_summary.csv. */
export const NOTES_CSV_HEADER = csvLine(['File Name', 'Original Note', 'Summarized Note']);
export const DATA_CSV_HEADER = csvLine(DATA_SUMMARY_ALL_COLUMNS);

/**
 * One sample as the real dataset stores it (the README's npz keys; its rows of the notes CSV and of
 * data_summary.csv), shared by both generators.
 */
export function sampleFiles(
  s: Pick<SynthSample, 'file' | 'split' | 'glaucoma' | 'attributes' | 'age' | 'md' | 'note' | 'summary'>,
  image: Float32Array,
  imageShape: readonly number[],
  tds: Float64Array,
): { npz: Uint8Array; notesRow: string; dataRow: string } {
  const scalarI = (v: number) => ({ dtype: 'int64' as const, shape: [], data: BigInt64Array.of(BigInt(v)) });
  const scalarF = (v: number) => ({ dtype: 'float64' as const, shape: [], data: Float64Array.of(v) });
  const npz = encodeNpz(
    {
      slo_fundus: { dtype: 'float32', shape: [...imageShape], data: image },
      md: scalarF(s.md),
      tds: { dtype: 'float64', shape: [52], data: tds },
      age: scalarF(s.age),
      gender: scalarI(s.attributes.gender),
      race: scalarI(s.attributes.race),
      ethnicity: scalarI(s.attributes.ethnicity),
      language: scalarI(s.attributes.language),
      maritalstatus: scalarI(s.attributes.maritalstatus),
      glaucoma: scalarI(s.glaucoma),
    },
    { compress: true },
  );
  const dataRow = csvLine([
    s.file,
    s.age.toFixed(2),
    groupName('gender', s.attributes.gender),
    groupName('race', s.attributes.race),
    groupName('ethnicity', s.attributes.ethnicity),
    groupName('language', s.attributes.language),
    groupName('maritalstatus', s.attributes.maritalstatus),
    s.note,
    s.summary,
    s.glaucoma ? 'yes' : 'no',
    SUMMARY_USE[s.split],
  ]);
  return { npz, notesRow: csvLine([s.file, s.note, s.summary]), dataRow };
}

/** Validates options; BAD_ARGUMENT naming the bad one. */
export function checkSynthOptions(o: SynthOptions): Required<SynthOptions> {
  for (const k of ['train', 'val', 'test'] as const) {
    const v = o[k];
    if (!Number.isInteger(v) || v < 0 || v > 99_999) {
      throw new DatasetError('BAD_ARGUMENT', `--${k} must be an integer 0..99999, got ${v}`);
    }
  }
  if (!Number.isSafeInteger(o.seed)) throw new DatasetError('BAD_ARGUMENT', `seed must be an integer, got ${o.seed}`);
  const bias = o.bias ?? 0.5;
  if (!(bias >= 0 && bias <= 1)) throw new DatasetError('BAD_ARGUMENT', `bias must be in [0, 1], got ${bias}`);
  const imageShape = o.imageShape ?? SLO_SHAPE;
  if (imageShape.length !== 2 || imageShape.some((d) => !Number.isInteger(d) || d < 16 || d > 4096)) {
    throw new DatasetError('BAD_ARGUMENT', `imageShape must be two integers 16..4096, got ${imageShape.join('x')}`);
  }
  return {
    train: o.train,
    val: o.val,
    test: o.test,
    seed: o.seed,
    bias,
    imageShape,
    testFolder: o.testFolder ?? 'Test',
    summaryFileName: o.summaryFileName ?? 'gpt-4_summarized_notes.csv',
  };
}

/** Draws the metadata of every sample (no images): deterministic in the seed. */
export function synthSamples(options: SynthOptions): SynthSample[] {
  const o = checkSynthOptions(options);
  const out: SynthSample[] = [];
  let id = 0;
  for (const split of ['train', 'val', 'test'] as const) {
    for (let i = 0; i < o[split]; i++) {
      id++;
      const rng = new SeededRng(mixSeed(o.seed, id, 1));
      const attributes = {} as Record<FairVlmedAttribute, number>;
      for (const a of FAIRVLMED_ATTRIBUTES) attributes[a] = pickCode(rng, a);
      const glaucoma = rng.nextFloat() < SYNTH_PROPORTIONS.glaucomaByRace[attributes.race]! ? 1 : 0;
      const { mean, sd, min, max } = SYNTH_PROPORTIONS.age;
      const age = round2(Math.min(max, Math.max(min, mean + sd * rng.nextNormal())));
      const md = round2(glaucoma ? -3.5 - Math.abs(rng.nextNormal()) * 4 : -1 + Math.abs(rng.nextNormal()) * 1.2);
      const disadvantage = Math.min(1, [0.5, 1, 0][attributes.race]! + (attributes.ethnicity === 1 ? 0.5 : 0));
      const strength = 1 - o.bias * disadvantage;
      const cupToDisc = Math.min(0.95, Math.max(0.1, 0.35 + 0.35 * glaucoma * strength + 0.06 * rng.nextNormal()));
      const partial = { split, glaucoma, attributes, age, md, cupToDisc: round2(cupToDisc) };
      const file = `data_${String(id).padStart(5, '0')}.npz`;
      out.push({ file, ...partial, ...texts(rng, partial) });
    }
  }
  return out;
}

/** OUTPUT_NOT_EMPTY when `dir` exists and holds anything (so that nothing is overwritten by accident). */
function refuseNonEmpty(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return;
    throw ioError(e, dir);
  }
  if (names.length === 0) return;
  names.sort();
  const shown = names.slice(0, 3).map((n) => (n.length > 40 ? `${n.slice(0, 40)}…` : n));
  throw new DatasetError(
    'OUTPUT_NOT_EMPTY',
    `the folder is not empty (${names.length} entr${names.length === 1 ? 'y' : 'ies'}: ${JSON.stringify(shown.join(', ')).slice(1, -1)}${names.length > 3 ? ', …' : ''}); pick an empty folder, or pass --force (force: true) to overwrite the generated files`,
    { file: dir },
  );
}

/** Name of the provenance file the generator writes beside the data. */
export const SYNTH_PROVENANCE_FILE = 'synth.json';

/**
 * Writes a synthetic Harvard-FairVLMed into `dir` (created if needed), plus `synth.json` recording the generator,
 * its version, the seed, the options and (when given) the command line. Returns the samples it wrote. A folder that
 * is not empty is refused (OUTPUT_NOT_EMPTY) unless `force` is set: then the generated files are overwritten and any
 * other file is left as it is.
 */
export function synthesizeFairVlmed(
  dir: string,
  options: SynthOptions,
  provenance: { command?: string; force?: boolean } = {},
): SynthSample[] {
  const o = checkSynthOptions(options);
  if (!provenance.force) refuseNonEmpty(dir);
  const samples = synthSamples(o);
  const folders: Record<Split, string> = {
    train: FAIRVLMED_SPLITS.train[0],
    val: FAIRVLMED_SPLITS.val[0],
    test: o.testFolder,
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
  samples.forEach((s, k) => {
    const rng = new SeededRng(mixSeed(o.seed, k + 1, 2));
    const tone = [0, -12, 6][s.attributes.race] ?? 0;
    const image = renderFundus(rng, o.imageShape, s.cupToDisc, tone);
    const tds = Float64Array.from({ length: 52 }, () => round2(s.md + rng.nextNormal() * 1.5));
    const files = sampleFiles(s, image, o.imageShape, tds);
    write(join(dir, folders[s.split], s.file), files.npz);
    summaryCsv += files.notesRow;
    dataCsv += files.dataRow;
  });
  write(join(dir, o.summaryFileName), summaryCsv);
  write(join(dir, 'data_summary.csv'), dataCsv);
  const count = (split: Split, f: (x: SynthSample) => boolean) =>
    samples.filter((x) => x.split === split && f(x)).length;
  const record = {
    generator: '@fairclip/datasets synthesizeFairVlmed (fairclip-data synth)',
    versions: { synth: SYNTH_VERSION, node: process.version },
    seed: o.seed,
    ...(provenance.command === undefined ? {} : { command: provenance.command }),
    options: { ...o, imageShape: [...o.imageShape] },
    counts: Object.fromEntries(
      (['train', 'val', 'test'] as const).map((sp) => [
        sp,
        { samples: count(sp, () => true), glaucoma: count(sp, (x) => x.glaucoma === 1) },
      ]),
    ),
  };
  write(join(dir, SYNTH_PROVENANCE_FILE), `${JSON.stringify(record, null, 2)}\n`);
  return samples;
}
