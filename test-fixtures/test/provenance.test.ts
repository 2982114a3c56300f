// Every committed fixture records where it came from: generator, library versions and seed.
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
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

  // A model configuration (`config.json`) is read by a loader in a fixed format (Hugging Face's, OpenAI's
  // constructor arguments) that cannot always carry our fields: its provenance is the generated output beside it
  // (or one folder up), which must record generator, versions and seed itself; or the config records its generator
  // and seed.
  const configs = files.filter((f) => basename(f) === 'config.json');
  test.each(configs)('%s: its generator is recorded (in the file or by the output beside it)', (file) => {
    const json = readFixtureJson<Record<string, unknown>>(file);
    const siblings = [dirname(file), dirname(dirname(file))].flatMap((d) =>
      files.filter((f) => dirname(f) === d && basename(f) !== 'config.json'),
    );
    const recorded = siblings.some((f) => {
      const s = readFixtureJson<Record<string, unknown>>(f);
      return Boolean(s.generator) && typeof s.versions === 'object' && s.seed !== undefined;
    });
    expect(recorded || (Boolean(json.generator) && json.seed !== undefined), `${file}: no provenance`).toBe(true);
  });

  test.each(files.filter((f) => basename(f) !== 'config.json'))('%s records generator, versions and seed', (file) => {
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
