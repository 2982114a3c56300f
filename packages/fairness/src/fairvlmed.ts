/**
 * Harvard-FairVLMed's integer encodings (FairCLIP README; reference brief §1.2). Pass FAIRVLMED_GROUP_NAMES as
 * `groupNames` to fairnessReport to get display names. Unknown (−1) is not a group: FairCLIP drops those samples
 * from validation and test before evaluating.
 */
export const FAIRVLMED_ATTRIBUTES = ['race', 'gender', 'ethnicity', 'language'] as const;

export const FAIRVLMED_GROUP_NAMES: Readonly<
  Record<(typeof FAIRVLMED_ATTRIBUTES)[number], Readonly<Record<number, string>>>
> = {
  race: { 0: 'Asian', 1: 'Black', 2: 'White' },
  gender: { 0: 'Female', 1: 'Male' },
  ethnicity: { 0: 'Non-Hispanic', 1: 'Hispanic' },
  language: { 0: 'English', 1: 'Spanish', 2: 'Other' },
};
