// The whole fine-tuning path of @fairclip/train against PyTorch on the CPU, measured in the same run: runTraining with
// the preset clip-finetune on the default tiny CLIP (test-fixtures/data/default-model) and the embedded synthetic
// FairVLMed (test-fixtures/data/fairvlmed-mini, 48 / 16 / 32 samples) on the wasm backend — npz files read,
// FairCLIP's preprocessing, captions tokenized, forward/backward, Adam steps, zero-shot evaluation of validation and
// test with every group metric each epoch, checkpoints and output files — against bench/torch_train.py doing the
// same work the way FairCLIP's finetune_CLIP.py does (numpy + PIL preprocessing, same architecture and weights, same
// batches in the same order, torch.optim.Adam with the preset's settings, sklearn's AUC). Each side runs one warm-up
// (1 epoch, a few samples) before its timed runs; a fresh output folder and a fresh image cache each run.
//
// Printed: both parameter counts (asserted equal), the losses of the first step (same weights, same batch: asserted
// equal to 1e-4 relative, so both sides do the same computation), the largest loss difference over the run (asserted
// <= 1e-4: the Adam steps agree too), the final validation/test AUCs, and RATIO = PyTorch time / fairclip-ts time
// (> 1: we are faster).
//
// `pnpm bench` (vitest bench --run) from packages/train. Default: 2 epochs at batch 16 (6 steps, 2 evaluations), one
// timed run each, about a minute on a 2-core machine.
// Environment:
//   FAIRCLIP_BENCH_FULL=1  the preset's own schedule: 10 epochs at batch 32 (20 steps, 10 evaluations), 3 timed runs
//   BENCH_EPOCHS, BENCH_BATCH, BENCH_ITERATIONS  override those numbers
//   BENCH_BACKEND          tfjs backend of our side (default wasm; cpu, webgpu)
//   BENCH_PYTHON           Python with torch, numpy, PIL, scikit-learn (default /usr/bin/python3; the ratio is skipped
//                          with a message if it cannot start: scripts/install-python-refs.sh installs them)
//   BENCH_TORCH_THREADS    torch.set_num_threads for the baseline (default: torch's choice, printed)
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseClipConfig } from '@fairclip/clip';
import { type BackendName, initCompute } from '@fairclip/compute';
import { batchPlan, epochOrder } from '@fairclip/datasets';
import { fixturePath } from '@fairclip/test-fixtures';
import { bench, describe } from 'vitest';
import { startTorchWorker } from '../../clip/bench/torch-worker.ts';
import { sharedImagePool } from '../src/image-pool.ts';
import { paramGroups, resolvePresetConfig, runTraining, type TrainConfig } from '../src/index.ts';

const env = process.env;
const full = env.FAIRCLIP_BENCH_FULL === '1';
const EPOCHS = Number(env.BENCH_EPOCHS ?? (full ? 10 : 2));
const BATCH = Number(env.BENCH_BATCH ?? (full ? 32 : 16));
const ITERATIONS = Number(env.BENCH_ITERATIONS ?? (full ? 3 : 1));
const BACKEND = (env.BENCH_BACKEND ?? 'wasm') as BackendName;
const MODEL_FILE = fixturePath('default-model/config.json');
const DATA = fixturePath('fairvlmed-mini');
const TRAIN_FILES = readdirSync(join(DATA, 'Training')).filter((f) => f.endsWith('.npz')).length;

const modelJson = JSON.parse(readFileSync(MODEL_FILE, 'utf8')) as { constructor_args: unknown };
const clipConfig = parseClipConfig(modelJson.constructor_args, MODEL_FILE);

function benchConfig(epochs: number, limits: { train: number; val: number; test: number } | null): TrainConfig {
  return resolvePresetConfig('clip-finetune', [
    `model.arch=${JSON.stringify(MODEL_FILE)}`,
    `training.epochs=${epochs}`,
    `training.batchSize=${BATCH}`,
    // PyTorch on the CPU trains in float32 (clip.load on 'cpu'); the preset's fp16 emulation is the GPU's arithmetic.
    'training.precision="fp32"',
    ...(limits ? Object.entries(limits).map(([k, v]) => `data.limits.${k}=${v}`) : []),
  ]);
}

const config = benchConfig(EPOCHS, null);
const warmupConfig = benchConfig(1, { train: BATCH, val: 8, test: 8 });

interface Outcome {
  ms: number;
  losses: number[];
  valAuc: (number | null)[];
  testAuc: (number | null)[];
  params: number;
  trainable: number;
  splits: { train: number; val: number; test: number };
}

const compute = await initCompute({ backend: BACKEND, allowSoftwareAdapter: true });

async function runOurs(cfg: TrainConfig): Promise<Outcome> {
  const outDir = mkdtempSync(join(tmpdir(), 'fc-train-bench-'));
  const losses: number[] = [];
  try {
    const t0 = performance.now();
    const run = await runTraining({
      config: cfg,
      dataRoot: DATA,
      outDir,
      compute,
      hooks: { onStep: (s) => void losses.push(s.loss) },
    });
    const ms = performance.now() - t0;
    const model = run.model!;
    const size = (vs: Iterable<{ size: number }>) => [...vs].reduce((n, v) => n + v.size, 0);
    const result = JSON.parse(readFileSync(run.files.result, 'utf8')) as { data: { sizes: Outcome['splits'] } };
    const out: Outcome = {
      ms,
      losses,
      valAuc: run.epochs.map((e) => e.val?.auc ?? null),
      testAuc: run.epochs.map((e) => e.test?.auc ?? null),
      params: size(model.parameters().values()),
      trainable: size(paramGroups(model, cfg.optim.trainable).flatMap((g) => g.params)),
      splits: result.data.sizes,
    };
    model.dispose();
    return out;
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

// torch_train.py trains model.visual and model.transformer: the preset's optim.trainable 'official'.
if (config.optim.trainable !== 'official') throw new Error('the PyTorch baseline trains the official parameter groups');
const started = await startTorchWorker(
  env.BENCH_PYTHON ?? '/usr/bin/python3',
  fileURLToPath(new URL('./torch_train.py', import.meta.url)),
  clipConfig,
);
const torch = started?.worker;
if (started) console.log(`[train bench] PyTorch baseline: ${started.info} (torch version, device, threads)`);

async function runTorch(cfg: TrainConfig): Promise<Outcome> {
  const outDir = mkdtempSync(join(tmpdir(), 'fc-train-bench-torch-'));
  const nTrain = Math.min(cfg.data.limits.train ?? TRAIN_FILES, TRAIN_FILES);
  const spec = {
    modelConfig: MODEL_FILE,
    dataRoot: DATA,
    outDir,
    limits: cfg.data.limits,
    summaryMaxChars: cfg.data.summaryMaxChars,
    prompts: cfg.eval.prompts,
    threshold: cfg.eval.threshold,
    evalBatchSize: cfg.eval.batchSize,
    lr: cfg.optim.lr,
    betas: cfg.optim.betas,
    eps: cfg.optim.eps,
    weightDecay: cfg.optim.weightDecay,
    // The batches of runTraining, in its order (@fairclip/datasets' sampler, seeded by training.seed and the epoch).
    plans: Array.from({ length: cfg.training.epochs }, (_, e) =>
      batchPlan(epochOrder(nTrain, cfg.training.seed, e), cfg.training.batchSize, cfg.training.dropLast),
    ),
  };
  try {
    const r = JSON.parse(await torch!.run(JSON.stringify(spec))) as Record<string, unknown>;
    if (typeof r.error === 'string') throw new Error(`PyTorch baseline failed:\n${r.error}`);
    return {
      ms: r.ms as number,
      losses: r.losses as number[],
      valAuc: r.val_auc as (number | null)[],
      testAuc: r.test_auc as (number | null)[],
      params: r.params as number,
      trainable: r.trainable as number,
      splits: r.splits as Outcome['splits'],
    };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

const ours: Outcome[] = [];
const theirs: Outcome[] = [];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : x.toFixed(4));

/** Same model, same data, same first step on both sides, then the ratio line. Throws on a mismatch. */
function report(): void {
  const a = ours.at(-1)!;
  const b = theirs.at(-1)!;
  console.log(
    [
      `[train bench] parameters: fairclip-ts ${a.params} (trained ${a.trainable}), PyTorch ${b.params} (trained ${b.trainable})`,
      `[train bench] samples train/val/test: fairclip-ts ${Object.values(a.splits).join('/')}, PyTorch ${Object.values(b.splits).join('/')}`,
    ].join('\n'),
  );
  if (a.params !== b.params || a.trainable !== b.trainable)
    throw new Error(
      `parameter counts differ: fairclip-ts ${a.params}/${a.trainable}, PyTorch ${b.params}/${b.trainable}`,
    );
  if (JSON.stringify(a.splits) !== JSON.stringify(b.splits))
    throw new Error(`split sizes differ: ${JSON.stringify(a.splits)} vs ${JSON.stringify(b.splits)}`);
  if (a.losses.length !== b.losses.length)
    throw new Error(`step counts differ: fairclip-ts ${a.losses.length}, PyTorch ${b.losses.length}`);
  const first = Math.abs(a.losses[0]! - b.losses[0]!) / Math.max(1, Math.abs(b.losses[0]!));
  const drift = Math.max(...a.losses.map((l, i) => Math.abs(l - b.losses[i]!)));
  console.log(
    [
      `[train bench] first-step loss: fairclip-ts ${a.losses[0]}, PyTorch ${b.losses[0]} (relative difference ${first.toExponential(2)}); largest loss difference over ${a.losses.length} steps ${drift.toExponential(2)}`,
      `[train bench] last epoch val/test AUC: fairclip-ts ${fmt(a.valAuc.at(-1))}/${fmt(a.testAuc.at(-1))}, PyTorch ${fmt(b.valAuc.at(-1))}/${fmt(b.testAuc.at(-1))}`,
    ].join('\n'),
  );
  if (!(first <= 1e-4))
    throw new Error(
      `first-step losses differ (${a.losses[0]} vs ${b.losses[0]}): the two sides do not compute the same`,
    );
  if (!(drift <= 1e-4))
    throw new Error(`the loss trajectories diverge (largest difference ${drift}): the optimisers do not do the same`);
  const t = median(ours.map((o) => o.ms));
  const p = median(theirs.map((o) => o.ms));
  const pool = sharedImagePool();
  console.log(
    `[train bench] images decoded and preprocessed: ${pool.counts.worker} by ${pool.size} worker thread(s), ${pool.counts.local} in the main thread (all runs, warm-up included; FAIRCLIP_IMAGE_WORKERS sets the count); load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `[train bench] whole run (median of ${ours.length}): fairclip-ts ${BACKEND} ${(t / 1000).toFixed(2)} s, PyTorch cpu ${(p / 1000).toFixed(2)} s  RATIO PyTorch / fairclip-ts = ${(p / t).toFixed(2)}  (> 1: we are faster)`,
  );
}

const steps = config.training.epochs * Math.ceil(TRAIN_FILES / BATCH);
console.log(
  `[train bench] clip-finetune, default tiny CLIP, fairvlmed-mini: ${EPOCHS} epochs × batch ${BATCH} (${steps} steps), evaluation every epoch; ${ITERATIONS} timed run(s) per side after a warm-up${full ? ' (FAIRCLIP_BENCH_FULL)' : ''}`,
);
// Warm-ups (untimed): wasm kernels and torch's lazy initialisation.
await runOurs(warmupConfig);
if (torch) await runTorch(warmupConfig);
const options = { iterations: ITERATIONS, time: 0, warmupIterations: 0, warmupTime: 0 };

describe(`clip-finetune on the default tiny CLIP, ${EPOCHS} epochs × batch ${BATCH}, whole run`, () => {
  bench(
    `fairclip-ts ${BACKEND} (runTraining)`,
    async () => {
      ours.push(await runOurs(config));
    },
    options,
  );
  if (torch) {
    bench(
      'pytorch cpu (baseline, bench/torch_train.py)',
      async () => {
        theirs.push(await runTorch(config));
        if (theirs.length === ITERATIONS) report();
      },
      options,
    );
  }
});

process.on('exit', () => torch?.stop());
