// Harvard-FairVLMed's attribute encodings against the reference brief (fairclip.md §1.2 README encodings, §1.3
// data_summary.csv values, §4.2 the evaluated attributes).
import { describe, expect, test } from 'vitest';
import {
  FAIRVLMED_ATTRIBUTES,
  FAIRVLMED_EVAL_ATTRIBUTES,
  FAIRVLMED_GROUP_NAMES,
  FAIRVLMED_GROUPS,
} from '../src/index.ts';

describe('FairVLMed encodings', () => {
  test('five attributes in the data (label-tensor order, then marital status); four evaluated', () => {
    expect(FAIRVLMED_ATTRIBUTES).toEqual(['race', 'gender', 'ethnicity', 'language', 'maritalstatus']);
    expect(FAIRVLMED_EVAL_ATTRIBUTES).toEqual(FAIRVLMED_ATTRIBUTES.slice(0, 4));
  });

  test('group values by code, as data_summary.csv spells them', () => {
    expect(FAIRVLMED_GROUPS).toEqual({
      race: ['asian', 'black', 'white'],
      gender: ['female', 'male'],
      ethnicity: ['non-hispanic', 'hispanic'],
      language: ['english', 'spanish', 'other'],
      maritalstatus: ['married or partnered', 'single', 'divorced', 'widowed', 'legally separated'],
    });
  });

  test('display names of the evaluated attributes, as the README and the papers print them', () => {
    expect(FAIRVLMED_GROUP_NAMES).toEqual({
      race: { 0: 'Asian', 1: 'Black', 2: 'White' },
      gender: { 0: 'Female', 1: 'Male' },
      ethnicity: { 0: 'Non-Hispanic', 1: 'Hispanic' },
      language: { 0: 'English', 1: 'Spanish', 2: 'Other' },
    });
  });
});
