import {
  columnIndex,
  encodeNpz,
  FAIRVLMED_GROUP_NAMES,
  formatCsvRow,
  halfBitsToNumber,
  mixSeed,
  numberToHalfBits,
  parseCsv,
  permutation,
  readNpz,
  SeededRng,
} from '@fairclip/io';

// CSV (RFC 4180): quoted fields, doubled quotes; errors name the file, the line and the column.
const table = parseCsv('file,race,note\ndata_00001.npz,1,"dry eyes, ""mild"""\n', 'notes.csv');
console.log(columnIndex(table, ['race', 'note']).note, table.rows[0]?.[2]); // → 2 dry eyes, "mild"
console.log(formatCsvRow(['a', 'b,c', 'say "hi"'])); // → a,"b,c","say ""hi"""
try {
  columnIndex(parseCsv('race,score,race\n0,0.5,1\n', 'scores.csv'), ['score', 'race']);
} catch (e) {
  console.log(String(e)); // → IoError: CSV_DUPLICATE_COLUMN: scores.csv: column 'race' appears 2 times in the header (columns 1, 3); rename or remove the extra one
}

// npz as numpy.savez writes it, and back.
const npz = encodeNpz({ race: { dtype: 'int64', shape: [], data: BigInt64Array.of(2n) } });
console.log(readNpz(npz, 'sample.npz').get('race')?.data[0]); // → 2

// float16 rounding as numpy and torch do it (to nearest, ties to even).
console.log(halfBitsToNumber(numberToHalfBits(1 / 3))); // → 0.333251953125

// One seeded generator: same seed, same stream, on every platform.
const rng = new SeededRng(mixSeed(1, 0));
console.log(rng.nextInt(10), rng.nextInt(10), rng.nextFloat() < 1); // → 4 6 true
console.log(Array.from(permutation(5, 42)).join(' ')); // → 3 0 2 1 4

// Harvard-FairVLMed's group names by code (for @fairclip/fairness' groupNames).
console.log(Object.values(FAIRVLMED_GROUP_NAMES.ethnicity).join(', ')); // → Non-Hispanic, Hispanic
