// The README's runnable example: FairCLIP's fairness term, one batch cloud of similarity scores against each group's
// cloud, as one differentiable call. Run: pnpm exec tsx examples/fairclip-loss.ts (test/example.test.ts runs it too).
// It checks itself: it throws if a value or gradient disagrees with the float64 references it recomputes.
import { initCompute } from '@fairclip/compute';
import {
  type DivergenceInfo,
  divergenceFromSolution,
  exact1d,
  samplesLoss,
  sinkhorn,
  solveDivergence,
} from '@fairclip/ot';
import * as tf from '@tensorflow/tfjs-core';

const handle = await initCompute({ backend: 'cpu' }); // 'auto' picks a hardware GPU, else wasm, else cpu

// 1. Sinkhorn on a cost matrix (POT's role): plan, potentials, ⟨P, C⟩, marginal error, iterations, convergence.
const C = [
  [0, 1, 4],
  [1, 0, 1],
];
const plan = sinkhorn([0.5, 0.5], [0.25, 0.5, 0.25], C, 0.1, { method: 'log', tol: 1e-9 });
console.log('plan', Array.from(plan.plan, (v) => v.toFixed(4)).join(' '), 'converged', plan.converged);

// 2. Point clouds with geomloss semantics: cost ½|x − y|², ε = blur², debiased Sinkhorn divergence.
const x = [0.1, 0.5, 0.9, 1.7];
const y = [0.3, 1.1, 1.2];
const geomloss = samplesLoss(x, y, { blur: 0.05, scaling: 0.5, geomlossCompatible: true }); // exactly geomloss 0.2.6
const converged = samplesLoss(x, y, { blur: 0.05, solver: 'sinkhorn' }); // same schedule, then iterate to 1e-9
const fast = samplesLoss(x, y, { blur: 1e-4 }); // 1-D, tiny ε: the exact sorted-quantile solver, error bound reported
console.log('S_ε geomloss', geomloss.value, 'converged', converged.value, `(${converged.iterations} its)`);
console.log('FairCLIP-sized ε:', fast.solver, fast.value, '±', fast.errorBound);
if (fast.solver !== 'exact-1d' || fast.value !== exact1d(x, y).value) throw new Error('exact 1-D route broken');

// 3. FairCLIP's loss term: Σ_g S_ε(batch scores, group-g scores), blur 1e-4, gradient to the batch scores only.
const batch = tf.tensor1d([24.1, 25.3, 23.8, 26.0, 24.9, 25.5, 23.2, 24.4]);
const groups = [
  tf.tensor1d([23.9, 24.8, 25.1, 24.0]),
  tf.tensor1d([25.7, 26.2, 25.0, 24.6, 26.4]),
  tf.tensor1d([22.8, 23.5, 24.2]),
];
const problems = groups.map((g) => ({ x: batch, y: g }));
let infos: DivergenceInfo[] = [];
// Async: reads the scores, validates them, routes (here: float64 exact 1-D on the CPU, on any backend).
const solution = await solveDivergence(problems, { blur: 1e-4, onInfo: (i) => (infos = i) });
const { value, grads } = tf.valueAndGrads((b: tf.Tensor) =>
  tf.sum(
    divergenceFromSolution(
      groups.map((g) => ({ x: b, y: g })),
      solution,
    ),
  ),
)([batch]);
const loss = (await value.data())[0]!;
const grad = await grads[0]!.data();
console.log('fairness term', loss, infos.map((i) => `${i.engine}/${i.solver}`).join(', '), 'route:', solution.route);
console.log('d term / d batch scores', Array.from(grad, (v) => v.toFixed(4)).join(' '));

// Self-check against the float64 core, group by group.
const xs = Array.from(await batch.data());
let ref = 0;
const refGrad = new Float64Array(xs.length);
for (const g of groups) {
  const r = samplesLoss(xs, Array.from(await g.data()), { blur: 1e-4 });
  ref += r.value;
  r.gradX.forEach((v, i) => {
    refGrad[i] = refGrad[i]! + v;
  });
}
if (Math.abs(loss - ref) > 1e-5 * ref) throw new Error(`fairness term ${loss} != ${ref}`);
grad.forEach((v, i) => {
  if (Math.abs(v - refGrad[i]!) > 1e-5) throw new Error(`gradient ${i}: ${v} != ${refGrad[i]}`);
});

tf.dispose([batch, ...groups, value, ...grads]);
await handle.dispose();
