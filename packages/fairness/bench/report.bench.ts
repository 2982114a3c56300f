/**
 * Benchmark: AUC + every group metric for 4 attributes (race, gender, ethnicity, language) on n = 10^6 samples,
 * as a ratio to scikit-learn's roc_auc_score (AUC only!) on the same data, measured in the same run.
 *
 * The data are generated here from a seeded generator, written to a temporary file, and loaded by
 * /usr/bin/python3 with numpy; Python times only roc_auc_score (median and best of 9 runs after one warm-up), we time
 * fairnessReport the same way. Ratio = sklearn time / our time (> 1: we are faster while computing much more),
 * for wall-clock time and for CPU time of the process (the latter is steadier on a shared machine).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAIRVLMED_GROUP_NAMES, SeededRng } from '@fairclip/io';
import { bench, describe } from 'vitest';
import { fairnessReport, rocAuc } from '../src/index.ts';

const N = 1_000_000;
const REPEATS = 9;

function draw(rng: SeededRng, probs: readonly number[]): number {
  let u = rng.nextFloat();
  for (let k = 0; k < probs.length - 1; k++) {
    u -= probs[k] as number;
    if (u < 0) return k;
  }
  return probs.length - 1;
}

/** FairVLMed-like proportions (fairclip.md §1.5), a group-dependent shift, continuous float64 scores. */
function makeData() {
  const rng = new SeededRng(20240331);
  const scores = new Float64Array(N);
  const labels = new Uint8Array(N);
  const race = new Int32Array(N);
  const gender = new Int32Array(N);
  const ethnicity = new Int32Array(N);
  const language = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    race[i] = draw(rng, [0.082, 0.149, 0.769]);
    gender[i] = draw(rng, [0.563, 0.437]);
    ethnicity[i] = draw(rng, [0.958, 0.042]);
    language[i] = draw(rng, [0.925, 0.017, 0.058]);
    const y = rng.nextFloat() < 0.505 ? 1 : 0;
    labels[i] = y;
    const u = 1 - rng.nextFloat();
    const noise = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextFloat());
    const shift = race[i] === 1 ? 0.3 : 0;
    scores[i] = 1 / (1 + Math.exp(-(0.9 * y - 0.45 + shift + noise)));
  }
  return { scores, labels, attributes: { race, gender, ethnicity, language } };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

const data = makeData();

const PY = `
import json, sys, time
import numpy as np
import sklearn
from sklearn.metrics import roc_auc_score
s = np.fromfile(sys.argv[1], dtype='<f8'); y = np.fromfile(sys.argv[2], dtype='u1')
roc_auc_score(y, s)
times = []; cpu = []
for _ in range(int(sys.argv[3])):
    t = time.perf_counter(); c = time.process_time(); auc = roc_auc_score(y, s)
    cpu.append(time.process_time() - c); times.append(time.perf_counter() - t)
print(json.dumps({"median_ms": float(np.median(times)) * 1e3, "cpu_ms": float(np.median(cpu)) * 1e3,
                  "min_ms": float(np.min(times)) * 1e3, "auc": float(auc), "sklearn": sklearn.__version__}))
`;

function sklearnBaseline():
  | { median_ms: number; cpu_ms: number; min_ms: number; auc: number; sklearn: string }
  | string {
  const dir = mkdtempSync(join(tmpdir(), 'fairness-bench-'));
  try {
    const sPath = join(dir, 'scores.f64');
    const yPath = join(dir, 'labels.u8');
    writeFileSync(sPath, new Uint8Array(data.scores.buffer));
    writeFileSync(yPath, data.labels);
    const r = spawnSync('/usr/bin/python3', ['-c', PY, sPath, yPath, String(REPEATS)], { encoding: 'utf8' });
    if (r.error || r.status !== 0)
      return `python3/sklearn unavailable (${r.error?.message ?? r.stderr.trim().split('\n').pop()})`;
    return JSON.parse(r.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function timeOurs(): { median_ms: number; cpu_ms: number; min_ms: number; auc: number | null } {
  const run = () => fairnessReport(data.labels, data.scores, data.attributes, { groupNames: FAIRVLMED_GROUP_NAMES });
  let auc = run().auc.value;
  const times: number[] = [];
  const cpu: number[] = [];
  for (let k = 0; k < REPEATS; k++) {
    const t = performance.now();
    const c = process.cpuUsage();
    auc = run().auc.value;
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000);
    times.push(performance.now() - t);
  }
  return { median_ms: median(times), cpu_ms: median(cpu), min_ms: Math.min(...times), auc };
}

const base = sklearnBaseline();
const ours = timeOurs();
if (typeof base === 'string') {
  console.log(
    `[fairness bench] n = ${N}: fairnessReport (AUC + 4 attributes) ${ours.median_ms.toFixed(1)} ms; ratio skipped: ${base}`,
  );
} else {
  const diff = Math.abs((ours.auc ?? Number.NaN) - base.auc);
  console.log(
    [
      `[fairness bench] n = ${N}, 4 attributes (race 3, gender 2, ethnicity 2, language 3 groups), ${REPEATS} runs each`,
      `  sklearn ${base.sklearn} roc_auc_score (AUC only):          median ${base.median_ms.toFixed(1)} ms wall, ${base.cpu_ms.toFixed(1)} ms CPU; best ${base.min_ms.toFixed(1)} ms`,
      `  fairnessReport (AUC + all group metrics, 4 attributes): median ${ours.median_ms.toFixed(1)} ms wall, ${ours.cpu_ms.toFixed(1)} ms CPU; best ${ours.min_ms.toFixed(1)} ms`,
      `  RATIO sklearn / ours = ${(base.median_ms / ours.median_ms).toFixed(2)}x (median wall), ${(base.cpu_ms / ours.cpu_ms).toFixed(2)}x (median CPU), ${(base.min_ms / ours.min_ms).toFixed(2)}x (best wall)  (> 1: faster than sklearn)`,
      `  AUC agreement: |ours − sklearn| = ${diff.toExponential(2)}${diff > 1e-12 ? '  <-- MISMATCH' : ''}`,
    ].join('\n'),
  );
}

describe(`n = ${N}`, () => {
  bench(
    'fairnessReport: AUC + all group metrics, 4 attributes',
    () => {
      fairnessReport(data.labels, data.scores, data.attributes);
    },
    { iterations: 5, warmupIterations: 1 },
  );
  bench(
    'rocAuc only',
    () => {
      rocAuc(data.labels, data.scores);
    },
    { iterations: 5, warmupIterations: 1 },
  );
});
