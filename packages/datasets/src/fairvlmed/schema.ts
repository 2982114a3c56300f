// Harvard-FairVLMed: the files (split folders, data_summary.csv columns, summary file names) and the official text
// rules (FairCLIP/src/modules.py). The attribute encodings (FAIRVLMED_ATTRIBUTES, FAIRVLMED_GROUPS, …) are shared
// with the fairness reports and live in @fairclip/io.

/** The code of "unknown" (every attribute). */
export const UNKNOWN = -1;

/** The split folders, with the spellings the official code used over time. */
export const FAIRVLMED_SPLITS = {
  train: ['Training'],
  val: ['Validation'],
  test: ['Test', 'Testing'],
} as const;
export type Split = keyof typeof FAIRVLMED_SPLITS;
export const SPLITS: readonly Split[] = ['train', 'val', 'test'];

/** The `use` values of data_summary.csv per split. */
export const SUMMARY_USE: Readonly<Record<Split, string>> = { train: 'training', val: 'validation', test: 'test' };

/** File names of the GPT-4 summaries, the dataset's spelling first, then the one the official scripts pass. */
export const SUMMARY_FILES = ['gpt-4_summarized_notes.csv', 'gpt4_summarized_notes.csv'] as const;

/** Columns of data_summary.csv that we read. */
export const DATA_SUMMARY_COLUMNS = [
  'filename',
  'age',
  'gender',
  'race',
  'ethnicity',
  'language',
  'maritalstatus',
  'glaucoma',
  'use',
] as const;
/** All columns of data_summary.csv as released (the synthetic generator writes all of them). */
export const DATA_SUMMARY_ALL_COLUMNS = [
  'filename',
  'age',
  'gender',
  'race',
  'ethnicity',
  'language',
  'maritalstatus',
  'note',
  'gpt4_summary',
  'glaucoma',
  'use',
] as const;

/** The zero-shot prompts of the official evaluation: class 0, class 1. */
export const FAIRVLMED_PROMPTS = ['A photo of non-glaucoma', 'A photo of glaucoma'] as const;

/** Maximum caption length (characters) of the official truncation. */
export const NOTE_MAX_LENGTH = 180;

/**
 * The official `truncate_note(note, 180)`: a note longer than `maxLength` characters (Unicode code points, like
 * Python's len) is cut to `maxLength` and then back to its last space, the space excluded. Exactly like Python's
 * `note[:note.rfind(' ')]`, a prefix without any space loses its last character (rfind gives −1).
 */
export function truncateNote(note: string, maxLength = NOTE_MAX_LENGTH): string {
  const cps = Array.from(note);
  if (cps.length <= maxLength) return note;
  const head = cps.slice(0, maxLength);
  const lastSpace = head.lastIndexOf(' ');
  return (lastSpace === -1 ? head.slice(0, -1) : head.slice(0, lastSpace)).join('');
}

/** Python's str.strip(): removes leading and trailing whitespace. */
export function pyStrip(s: string): string {
  return s.replace(PY_WS_EDGES, '');
}
// Python's str.isspace() characters.
const PY_WS = '\\t\\n\\v\\f\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_WS_EDGES = new RegExp(`^[${PY_WS}]+|[${PY_WS}]+$`, 'g');

/** The label caption of `--text_source label`. */
export function labelCaption(glaucoma: number): string {
  return glaucoma === 1 ? 'A photo of glaucoma' : 'A photo of non-glaucoma';
}
