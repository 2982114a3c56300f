// Locations of the reference data used by the tests.
//   fixturePath('fairness/metrics.json')  -> test-fixtures/data/fairness/metrics.json (committed)
//   goldenPath('clip/bpe_simple_vocab_16e6.txt.gz') -> ../shared/golden/... (never committed; may be absent)
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** Root of the test-fixtures package (works from src/ and from dist/). */
export const fixturesRoot: string = resolve(here, '..');
/** Folder of the committed fixture data. */
export const dataDir: string = join(fixturesRoot, 'data');

/** Absolute path of a committed fixture file; throws with the path when it is missing. */
export function fixturePath(relative: string): string {
  const p = join(dataDir, relative);
  if (!existsSync(p))
    throw new Error(`fixture not found: ${p} (regenerate with the scripts in test-fixtures/generators)`);
  return p;
}

/** Parses a committed JSON fixture. */
export function readFixtureJson<T = unknown>(relative: string): T {
  return JSON.parse(readFileSync(fixturePath(relative), 'utf8')) as T;
}

/**
 * The shared golden folder (`../shared/golden` beside the repository, or FAIRCLIP_GOLDEN_DIR).
 * Returns undefined when it is absent, so tests that need files only found there (OpenAI's BPE vocabulary)
 * can skip with a clear message.
 */
export function goldenDir(): string | undefined {
  const candidates = [process.env.FAIRCLIP_GOLDEN_DIR, resolve(fixturesRoot, '..', '..', 'shared', 'golden')];
  for (const c of candidates) if (c && existsSync(c)) return c;
  return undefined;
}

/** Absolute path of a file in the shared golden folder, or undefined when it is not available. */
export function goldenPath(relative: string): string | undefined {
  const dir = goldenDir();
  if (!dir) return undefined;
  const p = join(dir, relative);
  return existsSync(p) ? p : undefined;
}
export type { RunScriptOptions, ScriptResult } from './spawn.ts';
export { runNodeScript } from './spawn.ts';
