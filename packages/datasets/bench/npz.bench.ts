// Samples per second read and decoded from the .npz files of the mini FairVLMed (664 × 512 float32 images,
// deflated), as a ratio against numpy.load on the same files measured in the same run. Target: ratio >= 1.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpz, readNpzFileAsync } from '@fairclip/io';
import { fixturePath } from '@fairclip/test-fixtures';
import { bench, describe } from 'vitest';
import { toFloatImage } from '../src/index.ts';

const folder = join(fixturePath('fairvlmed-mini'), 'Training');
const files = readdirSync(folder)
  .filter((f) => f.endsWith('.npz'))
  .map((f) => join(folder, f));
const PASSES = 5;

/** numpy: best pass of np.load + every array (+ slo_fundus.astype(float32)), in samples per second. */
function numpyRate(): number | undefined {
  const script = `
import json, sys, time, numpy as np
files = sys.argv[2:]
best = float('inf')
for _ in range(int(sys.argv[1])):
    t = time.perf_counter()
    for f in files:
        with np.load(f) as z:
            arrays = {k: z[k] for k in z.files}
            img = arrays['slo_fundus'].astype(np.float32)
    best = min(best, time.perf_counter() - t)
print(json.dumps(len(files) / best))`;
  const r = spawnSync('/usr/bin/python3', ['-', String(PASSES), ...files], { input: script, encoding: 'utf8' });
  if (r.status !== 0) {
    console.warn(`[bench] numpy baseline unavailable: ${r.stderr || r.error}`);
    return undefined;
  }
  return JSON.parse(r.stdout) as number;
}

function oursSync(): void {
  for (const f of files) {
    const arrays = readNpz(readFileSync(f), f);
    toFloatImage(arrays.get('slo_fundus')!, f);
  }
}

async function oursAsync(): Promise<void> {
  await Promise.all(
    files.map(async (f) => {
      const arrays = await readNpzFileAsync(f);
      toFloatImage(arrays.get('slo_fundus')!, f);
    }),
  );
}

async function bestRate(fn: () => unknown): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let p = 0; p < PASSES; p++) {
    const t = performance.now();
    await fn();
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  return files.length / best;
}

// The ratio line: numpy measured first, then ours, same files, same methodology (best of PASSES passes).
const numpy = numpyRate();
const sync = await bestRate(oursSync);
const async_ = await bestRate(oursAsync);
const line = (name: string, rate: number) =>
  `${name.padEnd(34)}${rate.toFixed(0).padStart(8)} samples/s${numpy ? `   ratio vs numpy.load ${(rate / numpy).toFixed(2)}` : ''}`;
console.log(
  [
    `read + decode ${files.length} npz samples (664x512 float32, deflated), best of ${PASSES} passes`,
    numpy ? line('numpy.load (baseline, same run)', numpy) : 'numpy.load baseline: unavailable',
    line('readNpz (sync)', sync),
    line('readNpzFileAsync (all files at once)', async_),
  ].join('\n'),
);

describe(`read + decode ${files.length} npz samples`, () => {
  bench('readNpz + toFloatImage (sync)', oursSync, { iterations: 3 });
  bench('readNpzFileAsync + toFloatImage', oursAsync, { iterations: 3 });
});
