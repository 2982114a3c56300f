// The README's runnable example: FairCLIP as the official code computes it (preset fairclip-official-2024) on the
// embedded synthetic FairVLMed with the default tiny model, for 2 short epochs. Runs under plain Node (initCompute
// registers tfjs-core's gradients) and under vitest: pnpm exec vitest run test/example.test.ts (from packages/train)
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initCompute } from '@fairclip/compute';
import { resolvePresetConfig, runTraining } from '@fairclip/train';

const fixtures = fileURLToPath(new URL('../../../test-fixtures/data/', import.meta.url));
const compute = await initCompute({ backend: 'wasm' }); // 'auto': a hardware GPU, else wasm, else cpu

// A preset plus field overrides (the same strings as the apps' --set FIELD=VALUE); validated before anything runs.
const config = resolvePresetConfig('fairclip-official-2024', [
  `model.arch=${JSON.stringify(join(fixtures, 'default-model', 'config.json'))}`,
  'data.limits.train=4',
  'data.limits.val=8',
  'data.limits.test=8',
  'training.batchSize=4',
  'training.epochs=2',
  'fairness.groupBatchSize=4',
]);

const run = await runTraining({
  config,
  dataRoot: join(fixtures, 'fairvlmed-mini'), // used because the preset's data.path is null
  outDir: mkdtempSync(join(tmpdir(), 'fairclip-quickstart-')), // run again with the same folder: it resumes
  compute,
  progress: true, // step, loss terms, samples/s, ETA on stderr
});

for (const e of run.epochs)
  console.log(
    `epoch ${e.epoch}: loss ${e.trainLoss?.toFixed(4)}, clip ${e.terms.clip?.toFixed(4)}, test AUC ${e.test?.auc}`,
  );
console.log(`selected epoch ${run.selectedEpoch} (${config.eval.selection}, optimistic) -> ${run.files.summary}`);
run.model?.dispose();

export { run };
