// Clinical notes in the style of FairCLIP's GPT-4 summaries ("Summarize the key details, including the presence of
// glaucoma, from the clinical note within 180 characters", fairclip.md §1.3): "The 56 y/o female patient has …".
// What a note says about glaucoma is its kind: informative (agrees with the label), uninformative (says nothing
// about glaucoma: a visit for something else), misleading (suggests the other label: a glaucoma suspect without
// glaucoma, a treated glaucoma described as stable and unremarkable). The label phrase comes first, so FairCLIP's
// 180-character cut keeps it. The pretraining corpus has its own wording (a shifted style): captions of a fundus
// atlas rather than visit summaries.
import type { SeededRng } from '@fairclip/io';

/** What a note says about the label. */
export type NoteKind = 'informative' | 'uninformative' | 'misleading';

/** The facts a note may mention. */
export interface NoteFacts {
  glaucoma: number;
  age: number;
  /** 0 female, 1 male. */
  gender: number;
  /** Cup-to-disc ratio as a clinician would read it (rounded to 0.05). */
  cupToDisc: number;
  md: number;
  iop: number;
}

const choose = <T>(rng: SeededRng, xs: readonly T[]): T => xs[rng.nextInt(xs.length)]!;
const cdr = (f: NoteFacts) => f.cupToDisc.toFixed(2);

const POSITIVE = [
  (f: NoteFacts) => `has primary open-angle glaucoma OU with a cup-to-disc ratio of ${cdr(f)}`,
  (f: NoteFacts) => `has glaucoma with optic nerve cupping (C/D ${cdr(f)}) and visual field loss`,
  (f: NoteFacts) => `is diagnosed with moderate glaucoma, MD ${f.md.toFixed(1)} dB, on latanoprost`,
  (f: NoteFacts) => `has normal-tension glaucoma with an enlarged cup, C/D ${cdr(f)}`,
  (_f: NoteFacts) => 'has advanced glaucoma in both eyes with thinning of the neuroretinal rim',
];
const NEGATIVE = [
  (f: NoteFacts) => `shows no signs of glaucoma; optic nerves healthy with a C/D of ${cdr(f)}`,
  (_f: NoteFacts) => 'has no glaucoma, with normal optic nerves and full visual fields',
  (f: NoteFacts) => `was evaluated for glaucoma, which was ruled out (C/D ${cdr(f)}, normal fields)`,
  (f: NoteFacts) => `has healthy optic discs without glaucomatous damage, IOP ${f.iop} mmHg`,
];
const UNINFORMATIVE = [
  (_f: NoteFacts) => 'was seen for a cataract evaluation with mild blurred vision',
  (_f: NoteFacts) => 'presents with dry eye symptoms and was given artificial tears',
  (_f: NoteFacts) => 'came for diabetic retinopathy screening; no retinopathy was found',
  (_f: NoteFacts) => 'reports new floaters; the retina is attached without tears',
  (_f: NoteFacts) => 'had a routine refraction and a new glasses prescription',
];
/** Misleading for a non-glaucoma patient: reads like glaucoma. */
const MISLEADING_FOR_NEGATIVE = [
  (f: NoteFacts) => `is a glaucoma suspect with elevated IOP of ${f.iop} mmHg, started on timolol`,
  (_f: NoteFacts) => 'has a family history of glaucoma and suspicious optic nerve cupping',
  (f: NoteFacts) => `has ocular hypertension treated as glaucoma, C/D ${cdr(f)}`,
];
/** Misleading for a glaucoma patient: reads like a healthy eye. */
const MISLEADING_FOR_POSITIVE = [
  (_f: NoteFacts) => 'is stable with well-controlled pressures and unremarkable optic nerves',
  (f: NoteFacts) => `has no new complaints; IOP ${f.iop} mmHg and the exam is unchanged`,
  (_f: NoteFacts) => 'has normal-appearing discs per the referring note; fields deferred',
];
const PLANS = [
  'Follow-up in 6 months with repeat visual fields.',
  'Return in 3 months for an IOP check.',
  'Routine annual exam recommended.',
  'OCT of the RNFL at the next visit.',
  'Continue current drops.',
];

/** A GPT-4-style summary (the training text). */
export function summaryNote(rng: SeededRng, f: NoteFacts, kind: NoteKind): string {
  const who = `The ${Math.round(f.age)} y/o ${f.gender === 1 ? 'male' : 'female'} patient`;
  const phrases =
    kind === 'uninformative'
      ? UNINFORMATIVE
      : kind === 'informative'
        ? f.glaucoma === 1
          ? POSITIVE
          : NEGATIVE
        : f.glaucoma === 1
          ? MISLEADING_FOR_POSITIVE
          : MISLEADING_FOR_NEGATIVE;
  const text = choose(rng, phrases)(f);
  return `${who} ${text}. ${choose(rng, PLANS)}`;
}

/** The raw note (data_summary.csv's `note`): longer, the summary's facts in the clinic's shorthand. */
export function rawNote(rng: SeededRng, f: NoteFacts, summary: string, race: string, language: string): string {
  const title = f.gender === 1 ? 'mr.' : 'ms.';
  const person = f.gender === 1 ? 'man' : 'woman';
  return (
    `${title} PERSON is a ${Math.round(f.age)} yo ${person} (race: ${race}; preferred language: ${language}). ` +
    `IOP ${f.iop} mmHg OD, ${f.iop + rng.nextInt(5) - 2} mmHg OS. Assessment: ${summary.replace(/^The [^ ]+ [^ ]+ [^ ]+ patient /, 'patient ')}`
  );
}

const ATLAS_POSITIVE = [
  (f: NoteFacts) => `fundus photograph of an eye with glaucoma, cup to disc ratio ${cdr(f)}`,
  (_f: NoteFacts) => 'a photo of glaucoma',
  (_f: NoteFacts) => 'glaucomatous optic disc with a large cup and a thin rim',
  (_f: NoteFacts) => 'retina image, glaucoma',
];
const ATLAS_NEGATIVE = [
  (f: NoteFacts) => `fundus photograph of a healthy eye without glaucoma, cup to disc ratio ${cdr(f)}`,
  (_f: NoteFacts) => 'a photo of non-glaucoma',
  (_f: NoteFacts) => 'normal optic disc with a small cup and a healthy rim, non-glaucoma',
  (_f: NoteFacts) => 'retina image, no glaucoma',
];

/** A caption of the pretraining corpus (atlas style; always agrees with the label unless `flip`). */
export function atlasCaption(rng: SeededRng, f: NoteFacts, flip: boolean): string {
  const positive = (f.glaucoma === 1) !== flip;
  return choose(rng, positive ? ATLAS_POSITIVE : ATLAS_NEGATIVE)(f);
}
