// Harvard-FairVLMed's sensitive attributes and their integer codes (the dataset README's encodings, reference brief
// §1.2; group values as data_summary.csv spells them, §1.3). The one definition, shared by the dataset adapter
// (@fairclip/datasets), the fairness reports (@fairclip/fairness takes plain arrays and never needs @fairclip/datasets)
// and the apps.

/** The sensitive attributes in the data, in the order of the official label tensor (race, gender, ethnicity,
 * language), then marital status (in every npz, unused by the official code). */
export const FAIRVLMED_ATTRIBUTES = ['race', 'gender', 'ethnicity', 'language', 'maritalstatus'] as const;
export type FairVlmedAttribute = (typeof FAIRVLMED_ATTRIBUTES)[number];

/** The four attributes FairCLIP evaluates and filters on (marital status is not evaluated, brief §4.2). */
export const FAIRVLMED_EVAL_ATTRIBUTES = ['race', 'gender', 'ethnicity', 'language'] as const;
export type FairVlmedEvalAttribute = (typeof FAIRVLMED_EVAL_ATTRIBUTES)[number];

/** Group values per attribute as data_summary.csv spells them; the index is the integer code in the npz. −1 is
 * "unknown" for every attribute and is not a group. */
export const FAIRVLMED_GROUPS: Readonly<Record<FairVlmedAttribute, readonly string[]>> = {
  race: ['asian', 'black', 'white'],
  gender: ['female', 'male'],
  ethnicity: ['non-hispanic', 'hispanic'],
  language: ['english', 'spanish', 'other'],
  maritalstatus: ['married or partnered', 'single', 'divorced', 'widowed', 'legally separated'],
};

/** Every word capitalised, hyphenated parts too: 'non-hispanic' → 'Non-Hispanic'. */
function displayName(value: string): string {
  return value.replace(/(^|[\s-])([a-z])/g, (_, before: string, c: string) => before + c.toUpperCase());
}

/**
 * Display names of the groups of the evaluated attributes, by integer code ({ race: { 0: 'Asian', 1: 'Black',
 * 2: 'White' }, … }): FAIRVLMED_GROUPS capitalised. Pass it as `groupNames` to @fairclip/fairness' fairnessReport.
 */
export const FAIRVLMED_GROUP_NAMES: Readonly<Record<FairVlmedEvalAttribute, Readonly<Record<number, string>>>> =
  Object.fromEntries(
    FAIRVLMED_EVAL_ATTRIBUTES.map((a) => [
      a,
      Object.fromEntries(FAIRVLMED_GROUPS[a].map((g, i) => [i, displayName(g)])),
    ]),
  ) as Record<FairVlmedEvalAttribute, Record<number, string>>;
