// Every committed fixture records where it came from: generator, library versions and seed.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { dataDir, fixturePath, readFixtureJson } from '../src/index.ts';

function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return jsonFiles(p);
    return name.endsWith('.json') ? [p] : [];
  });
}

// Files that describe other files (configs, notes) rather than being generated outputs themselves.
const descriptive = new Set(['golden/clip/tiny-vit/config.json', 'golden/clip/preprocess/notes.json']);

describe('fixture provenance', () => {
  const files = jsonFiles(dataDir)
    .map((p) => relative(dataDir, p))
    .filter((p) => !descriptive.has(p));

  test('there are fixtures', () => {
    expect(files.length).toBeGreaterThan(3);
  });

  test.each(files)('%s records generator, versions and seed', (file) => {
    const json = readFixtureJson<Record<string, unknown>>(file);
    expect(json.generator, `${file}: generator`).toBeTruthy();
    expect(json.versions, `${file}: versions`).toBeTypeOf('object');
    // Golden files (copied from ../shared/golden) document their seeds in golden/README.md, "Set parameters";
    // our own generators write the seed into each output.
    if (!file.startsWith('golden/')) expect(json.seed, `${file}: seed`).toBeDefined();
  });

  test('fixturePath names the missing file', () => {
    expect(() => fixturePath('does/not/exist.json')).toThrow(/does\/not\/exist\.json/);
  });
});
