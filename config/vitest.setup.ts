// Shared test setup: fast-check's seed comes from FC_SEED and its run count from FC_NUM_RUNS.
// The seed is printed once per test file and fast-check prints it again with every counterexample,
// so any failure can be replayed with FC_SEED=<seed>.
import fc from 'fast-check';
import { beforeEach, expect } from 'vitest';

function readInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw new Error(`${name} must be an integer, got "${raw}"`);
  return value;
}

const seed = readInt('FC_SEED') ?? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
const numRuns = readInt('FC_NUM_RUNS');
fc.configureGlobal({ seed, ...(numRuns === undefined ? {} : { numRuns }) });
console.log(
  `[fast-check] FC_SEED=${seed}${numRuns === undefined ? '' : ` FC_NUM_RUNS=${numRuns}`} (replay with FC_SEED=${seed})`,
);

// Every test must assert something.
beforeEach(() => {
  expect.hasAssertions();
});
