// A synthetic FairFace whose images carry the attributes the study predicts and conditions on: gender (the label),
// age (9 groups) and race (7 groups). Same layout as the study's FairFace folder (train/ and val/ JPEGs,
// fairface_label_{train,val,test}.csv with file, age, gender, race, service_test; val/ serves validation and test as
// in the study, so the val and test label files list the same images).
// What an image shows: a head on a background, skin tone by race (overlapping tones), hair colour by race and age
// (grey from 60), hair length by gender (long for 80 % of females, 12 % of males), a beard for 45 % of adult males,
// face width (wider for males), lip colour, children with rounder faces and larger eyes, wrinkles from 50.
// Gender cues are weak for children (no beard, similar faces): a real source of group differences.
// Bias mechanism, at a stated level `bias` ∈ [0, 1]: exposure set for light skin — the contrast of the face's
// features (hair edge, beard, eyes, lips) is × (1 − 0.5·bias·d) with d = 1 for Black, 0.5 for Indian, 0 otherwise.
// Shares: approximate FairFace training-set shares (Kärkkäinen & Joo, 2021), our reading (not in fairclip.md).
// Validation/test: a natural draw plus the stratified top-up of the FairVLMed generator (every age and race group gets
// ≥ quota females and ≥ quota males), written to synth.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatCsvRow, mixSeed, SeededRng } from '@fairclip/io';
import jpeg from 'jpeg-js';
import { DatasetError, ioError } from '../errors.ts';
import { type CachedDataset, ensureCached } from '../fairvlmed/structured.ts';
import { SYNTH_PROVENANCE_FILE } from '../fairvlmed/synth.ts';
import { FAIRFACE_AGES, FAIRFACE_COLUMNS, FAIRFACE_GENDERS, FAIRFACE_RACES } from './dataset.ts';

/** Version of the output; part of the cache folder name. */
export const FAIRFACE_SYNTH_VERSION = 1;

export interface FairFaceSynthOptions {
  seed: number;
  train: number;
  val: number;
  /** Minimum females and males of every age and race group in val/ (0: no top-up). */
  valQuota: number;
  bias: number;
  /** Square image side (FairFace's crops are 224; the embedded default is smaller). */
  imageSize: number;
}

export const EMBEDDED_FAIRFACE_OPTIONS: Readonly<FairFaceSynthOptions> = {
  seed: 2026,
  train: 400,
  val: 150,
  valQuota: 20,
  bias: 0.5,
  imageSize: 96,
};

export const FAIRFACE_SYNTH_PARAMETERS = {
  /** P(race) in FAIRFACE_RACES order. */
  race: [0.142, 0.142, 0.141, 0.191, 0.106, 0.124, 0.154],
  /** P(age group) in FAIRFACE_AGES order. */
  age: [0.021, 0.12, 0.105, 0.296, 0.222, 0.119, 0.072, 0.032, 0.013],
  male: 0.53,
  /** Mean skin RGB per race (individual sd 14 per channel). */
  skin: [
    [224, 190, 160],
    [170, 120, 90],
    [110, 75, 55],
    [232, 196, 176],
    [200, 160, 128],
    [190, 145, 110],
    [205, 160, 125],
  ],
  /** P(dark hair) per race (else brown/blond). */
  darkHair: [0.95, 0.9, 0.97, 0.45, 0.85, 0.93, 0.85],
  longHair: { female: 0.8, male: 0.12 },
  beardAdultMale: 0.45,
  /** Exposure-bias disadvantage per race. */
  raceDisadvantage: [0, 0.5, 1, 0, 0, 0, 0],
} as const;

export interface FairFaceSynthSample {
  file: string;
  split: 'train' | 'val';
  gender: number;
  age: number;
  race: number;
  topUp: boolean;
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

export function checkFairFaceSynthOptions(o: FairFaceSynthOptions): FairFaceSynthOptions {
  for (const k of ['train', 'val', 'valQuota'] as const)
    if (!Number.isInteger(o[k]) || o[k] < 0 || o[k] > 99_999)
      throw new DatasetError('BAD_ARGUMENT', `${k} must be an integer 0..99999, got ${String(o[k]).slice(0, 40)}`);
  if (!Number.isSafeInteger(o.seed))
    throw new DatasetError('BAD_ARGUMENT', `seed must be an integer, got ${String(o.seed).slice(0, 40)}`);
  if (!(o.bias >= 0 && o.bias <= 1))
    throw new DatasetError('BAD_ARGUMENT', `bias must be in [0, 1], got ${String(o.bias).slice(0, 40)}`);
  if (!Number.isInteger(o.imageSize) || o.imageSize < 32 || o.imageSize > 1024)
    throw new DatasetError(
      'BAD_ARGUMENT',
      `imageSize must be an integer 32..1024, got ${String(o.imageSize).slice(0, 40)}`,
    );
  return { ...o };
}

function drawPerson(seed: number): { gender: number; age: number; race: number } {
  const P = FAIRFACE_SYNTH_PARAMETERS;
  const rng = new SeededRng(seed);
  const race = pick(rng, P.race);
  const age = pick(rng, P.age);
  const gender = rng.nextFloat() < P.male ? 1 : 0;
  return { gender, age, race };
}

/** Every sample's labels (no images); deterministic in the options. */
export function fairfaceSynthSamples(options: FairFaceSynthOptions): FairFaceSynthSample[] {
  const o = checkFairFaceSynthOptions(options);
  const out: FairFaceSynthSample[] = [];
  for (let i = 0; i < o.train; i++)
    out.push({ file: `train/${i + 1}.jpg`, split: 'train', topUp: false, ...drawPerson(mixSeed(o.seed, 1, i)) });
  const val: FairFaceSynthSample[] = [];
  for (let i = 0; i < o.val; i++)
    val.push({ file: '', split: 'val', topUp: false, ...drawPerson(mixSeed(o.seed, 2, i)) });
  const count = (attr: 'age' | 'race', g: number, y: number) =>
    val.filter((s) => s[attr] === g && s.gender === y).length;
  let candidate = 0;
  for (const [attr, n] of [
    ['age', FAIRFACE_AGES.length],
    ['race', FAIRFACE_RACES.length],
  ] as const) {
    for (let g = 0; g < n; g++) {
      for (const y of [0, 1]) {
        while (count(attr, g, y) < o.valQuota) {
          const p = drawPerson(mixSeed(o.seed, 12, candidate++));
          if (p[attr] === g && p.gender === y) val.push({ file: '', split: 'val', topUp: true, ...p });
        }
      }
    }
  }
  val.forEach((s, i) => {
    s.file = `val/${i + 1}.jpg`;
  });
  return [...out, ...val];
}

/** Renders a sample's face: RGB, [size, size, 3]. */
export function renderFace(o: FairFaceSynthOptions, s: FairFaceSynthSample): Uint8Array {
  const P = FAIRFACE_SYNTH_PARAMETERS;
  const rng = new SeededRng(mixSeed(o.seed, s.split === 'train' ? 3 : 4, Number(s.file.replace(/\D/g, ''))));
  const n = o.imageSize;
  const img = new Uint8Array(n * n * 3);
  const male = s.gender === 1;
  const child = s.age <= 1;
  const teen = s.age === 2;
  const contrast = 1 - 0.5 * o.bias * (P.raceDisadvantage[s.race] ?? 0);
  const skin = P.skin[s.race]!.map((c) => c + 14 * rng.nextNormal());
  const dark = rng.nextFloat() < P.darkHair[s.race]!;
  const grey = s.age >= 7 ? 0.7 + 0.3 * rng.nextFloat() : s.age === 6 ? 0.5 * rng.nextFloat() : 0;
  const hairBase = dark ? [35, 28, 24] : rng.nextFloat() < 0.5 ? [110, 80, 50] : [200, 170, 110];
  const hair = hairBase.map((c) => c * (1 - grey) + 200 * grey);
  const long = rng.nextFloat() < (male ? P.longHair.male : P.longHair.female);
  const beard = male && s.age >= 3 && rng.nextFloat() < P.beardAdultMale;
  const bg = [rng.nextFloat() * 255, rng.nextFloat() * 255, rng.nextFloat() * 255];
  const cx = n / 2 + (rng.nextFloat() - 0.5) * n * 0.06;
  const cy = n * 0.48 + (rng.nextFloat() - 0.5) * n * 0.06;
  const headH = n * (child ? 0.34 : 0.3) * (0.95 + rng.nextFloat() * 0.1);
  const headW = headH * (child ? 0.88 : male ? 0.8 : 0.72) * (0.95 + rng.nextFloat() * 0.1);
  const eyeR = n * (child ? 0.035 : 0.025);
  const lips = male ? [150, 90, 80] : rng.nextFloat() < (teen || child ? 0.1 : 0.45) ? [190, 40, 60] : [170, 95, 90];
  const wrinkles = s.age >= 6;
  const shirt = [rng.nextFloat() * 255, rng.nextFloat() * 255, rng.nextFloat() * 255];
  const mix = (a: readonly number[], b: readonly number[], t: number) => a.map((v, i) => v + (b[i]! - v) * t);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      let c: readonly number[] = bg.map((v) => v * (0.8 + (0.2 * y) / n));
      const dx = (x - cx) / headW;
      const dy = (y - cy) / headH;
      const r = Math.hypot(dx, dy);
      // shoulders
      if (y > cy + headH * 1.3 && Math.abs(x - cx) < headW * 2.2) c = shirt;
      // hair: a cap above the face, long hair down the sides to the shoulders
      const hairCap = Math.hypot(dx / 1.12, (dy + 0.12) / 1.1) < 1 && dy < -0.35;
      const hairSide = long && Math.abs(dx) < 1.3 && Math.abs(dx) > 0.8 && dy > -0.4 && dy < 1.9;
      if (hairCap || hairSide) c = mix(c, hair, contrast + (1 - contrast) * 0.5);
      if (r < 1 && !hairCap) {
        let f: readonly number[] = skin.map((v) => v * (1 - 0.12 * dx * dx));
        // eyes
        for (const ex of [-0.38, 0.38]) {
          const e = Math.hypot((dx - ex) * headW, (dy + 0.12) * headH * 1.6) / eyeR;
          if (e < 1) f = mix(f, [30, 25, 25], contrast);
        }
        // mouth
        if (Math.abs(dy - 0.5) * headH < n * 0.012 && Math.abs(dx) < 0.32) f = mix(f, lips, contrast);
        // beard: lower face darker
        if (beard && dy > 0.25 && !(Math.abs(dy - 0.5) * headH < n * 0.012 && Math.abs(dx) < 0.32))
          f = mix(f, hair, 0.75 * contrast);
        // wrinkles: forehead lines
        if (wrinkles && dy < -0.3 && dy > -0.6 && Math.abs(dx) < 0.6 && Math.round((dy + 0.6) * 18) % 3 === 0)
          f = mix(f, [90, 60, 50], 0.35 * contrast);
        c = f;
      }
      const k = (y * n + x) * 3;
      for (let ch = 0; ch < 3; ch++)
        img[k + ch] = Math.min(255, Math.max(0, Math.round(c[ch]! + 5 * rng.nextNormal())));
    }
  }
  return img;
}

/** Writes the synthetic FairFace into `dir` with synth.json (written last). Returns the samples. */
export function synthesizeFairFace(dir: string, options: FairFaceSynthOptions): FairFaceSynthSample[] {
  const o = checkFairFaceSynthOptions(options);
  const samples = fairfaceSynthSamples(o);
  const write = (path: string, data: string | Uint8Array) => {
    try {
      writeFileSync(path, data);
    } catch (e) {
      throw ioError(e, path, 'write');
    }
  };
  try {
    for (const f of ['train', 'val']) mkdirSync(join(dir, f), { recursive: true });
  } catch (e) {
    throw ioError(e, dir, 'create');
  }
  const header = `${formatCsvRow([...FAIRFACE_COLUMNS])}\n`;
  const rows = { train: header, val: header };
  for (const s of samples) {
    const rgb = renderFace(o, s);
    const rgba = new Uint8Array(o.imageSize * o.imageSize * 4);
    for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
      rgba[j] = rgb[i]!;
      rgba[j + 1] = rgb[i + 1]!;
      rgba[j + 2] = rgb[i + 2]!;
      rgba[j + 3] = 255;
    }
    const encoded = jpeg.encode({ data: rgba, width: o.imageSize, height: o.imageSize }, 90);
    write(join(dir, s.file), new Uint8Array(encoded.data));
    rows[s.split] +=
      `${formatCsvRow([s.file, FAIRFACE_AGES[s.age]!, FAIRFACE_GENDERS[s.gender]!, FAIRFACE_RACES[s.race]!, 'True'])}\n`;
  }
  write(join(dir, 'fairface_label_train.csv'), rows.train);
  write(join(dir, 'fairface_label_val.csv'), rows.val);
  write(join(dir, 'fairface_label_test.csv'), rows.val);
  const groups = (split: 'train' | 'val') => {
    const xs = samples.filter((s) => s.split === split);
    const by = (attr: 'age' | 'race', names: readonly string[]) =>
      Object.fromEntries(
        names.map((name, g) => {
          const inG = xs.filter((s) => s[attr] === g);
          return [name, { n: inG.length, male: inG.filter((s) => s.gender === 1).length }];
        }),
      );
    return {
      samples: xs.length,
      male: xs.filter((s) => s.gender === 1).length,
      topUp: xs.filter((s) => s.topUp).length,
      age: by('age', FAIRFACE_AGES),
      race: by('race', FAIRFACE_RACES),
    };
  };
  const record = {
    generator: '@fairclip/datasets synthesizeFairFace',
    versions: { synth: FAIRFACE_SYNTH_VERSION },
    seed: o.seed,
    options: o,
    parameters: FAIRFACE_SYNTH_PARAMETERS,
    biasMechanism:
      'exposure set for light skin: the contrast of hair edge, beard, eyes and lips × (1 − 0.5·bias·d), d = 1 Black, ' +
      '0.5 Indian, 0 otherwise. Level set a priori, not tuned to any method.',
    splitConstruction:
      'train/: a natural draw of `train` people. val/ (validation and test, as in the study): a natural draw of ' +
      '`val` people, then for each age and race group and gender, while the cell holds fewer than valQuota, people ' +
      'are drawn from the population by rejection and those in the cell are added.',
    counts: { train: groups('train'), val: groups('val') },
  };
  write(join(dir, SYNTH_PROVENANCE_FILE), `${JSON.stringify(record, null, 2)}\n`);
  return samples;
}

/** The synthetic FairFace in `cacheRoot`, generated at first use (see ensureStructuredFairVlmed). */
export function ensureSynthFairFace(cacheRoot: string, options: FairFaceSynthOptions): CachedDataset {
  const o = checkFairFaceSynthOptions(options);
  const name = `fairface-synth-v${FAIRFACE_SYNTH_VERSION}-seed${o.seed}-${o.train}-${o.val}-q${o.valQuota}-b${o.bias}-${o.imageSize}px`;
  return ensureCached(cacheRoot, name, (tmp) => {
    synthesizeFairFace(tmp, o);
  });
}
