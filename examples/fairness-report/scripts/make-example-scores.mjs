#!/usr/bin/env node
// Generates data/example-scores.csv: a synthetic test set shaped like Harvard-FairVLMed's (reference brief
// fairclip.md §1.5) with zero-shot-CLIP-like scores and a built-in bias between groups. Deterministic (seeded
// mulberry32); rerun with `node scripts/make-example-scores.mjs` to regenerate the committed file byte for byte.
//
// - group proportions: race Asian 8.2% / Black 14.9% / White 76.9%; gender female 56.3% / male 43.7%;
//   ethnicity non-Hispanic / Hispanic 90.6 : 4.0; language English / Spanish / other 92.5 : 1.7 : 3.0
//   (unknowns are not generated: FairCLIP drops them from the test set);
// - glaucoma rate by race: Black 64.9%, Asian 48.7%, White 47.9%;
// - score = softmax probability of "glaucoma" from raw cosines as in FairCLIP's zero-shot evaluation, so scores sit
//   near 0.5: score = σ(d), d = separation_g · (label − ½) + offset_g + noise. Separation is weaker for Black,
//   Hispanic and Spanish-speaking patients and for men (lower group AUC), offsets shift selection rates (DPD).
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SEED = 20240329;
const ROWS = 600;

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = mulberry32(SEED);
const pick = (weights) => {
  const total = weights.reduce((s, w) => s + w, 0);
  let u = rand() * total;
  for (let k = 0; k < weights.length; k++) {
    u -= weights[k];
    if (u < 0) return k;
  }
  return weights.length - 1;
};
const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());

const glaucomaRate = [0.487, 0.649, 0.479]; // Asian, Black, White
const separation = { race: [0.11, 0.06, 0.1], gender: [0, -0.02], ethnicity: [0, -0.05], language: [0, -0.06, -0.01] };
const offset = { race: [0.02, 0.04, 0], gender: [0, 0.015], ethnicity: [0, -0.03], language: [0, 0.02, -0.02] };

const lines = ['score,label,race,gender,ethnicity,language'];
for (let i = 0; i < ROWS; i++) {
  const race = pick([8.2, 14.9, 76.9]);
  const gender = pick([56.3, 43.7]);
  const ethnicity = pick([90.6, 4.0]);
  const language = pick([92.5, 1.7, 3.0]);
  const label = rand() < glaucomaRate[race] ? 1 : 0;
  const sep =
    separation.race[race] + separation.gender[gender] + separation.ethnicity[ethnicity] + separation.language[language];
  const off = offset.race[race] + offset.gender[gender] + offset.ethnicity[ethnicity] + offset.language[language];
  const d = Math.max(0, sep) * (label - 0.5) + off + 0.1 * normal();
  const score = 1 / (1 + Math.exp(-d));
  lines.push(`${score.toFixed(6)},${label},${race},${gender},${ethnicity},${language}`);
}

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'data', 'example-scores.csv');
writeFileSync(out, `${lines.join('\n')}\n`);
console.log(`wrote ${ROWS} rows to ${out} (seed ${SEED})`);
