// Run by scripts/pack-smoke.mjs in a project where only @fairclip/ot and @fairclip/compute are installed from their
// tarballs: `webgpu` (Dawn) is an optional peer dependency of @fairclip/compute, loaded only for the webgpu backend.
//   node webgpu-optional.mjs missing   Dawn is not installed: initCompute({ backend: 'webgpu' }) rejects with one line
//                                      naming the package to install, and 'auto' falls back, recording that reason.
//   node webgpu-optional.mjs present   Dawn is installed: initCompute({ backend: 'webgpu' }) works (software adapters
//                                      allowed) and the fused softmin kernel agrees with its float64 reference.
//                                      Exits 3 when no WebGPU adapter exists (the caller skips, or fails under
//                                      REQUIRE_WEBGPU=1).
import { ComputeError, describeAdapter, initCompute, probeWebGPU, softmin, softminReference } from '@fairclip/compute';
import * as tf from '@tensorflow/tfjs-core';

const mode = process.argv[2];
if (mode === 'missing') {
  let err;
  try {
    const handle = await initCompute({ backend: 'webgpu' });
    await handle.dispose();
  } catch (e) {
    err = e;
  }
  if (!(err instanceof ComputeError) || err.code !== 'WEBGPU_UNAVAILABLE') {
    throw new Error(
      `initCompute({ backend: 'webgpu' }) without Dawn: expected ComputeError WEBGPU_UNAVAILABLE, got ${err}`,
    );
  }
  if (err.message.includes('\n') || !err.message.includes("'webgpu'") || !err.message.includes('npm install webgpu')) {
    throw new Error(`the error should be one line naming the package to install, got: ${err.message}`);
  }
  // allowSoftwareAdapter: on a machine whose only Vulkan driver is software (CI's lavapipe), 'auto' would otherwise skip
  // WebGPU before looking for Dawn at all; this checks the Dawn-missing path.
  const handle = await initCompute({ backend: 'auto', allowSoftwareAdapter: true });
  const reason = handle.fallbackReasons[0];
  await handle.dispose();
  if (handle.backend === 'webgpu') throw new Error("'auto' chose webgpu although Dawn is not installed");
  if (reason !== `webgpu: ${err.message}`) {
    throw new Error(`'auto' should record why it skipped webgpu, got ${JSON.stringify(handle.fallbackReasons)}`);
  }
  console.log(`without Dawn, backend 'webgpu' fails with: ${err.message} 'auto' runs on ${handle.backend}`);
} else if (mode === 'present') {
  const probe = await probeWebGPU();
  if (!probe.adapterInfo) {
    console.log(`no WebGPU adapter: ${probe.reason}`);
    process.exit(3);
  }
  const handle = await initCompute({ backend: 'webgpu', allowSoftwareAdapter: true });
  if (handle.backend !== 'webgpu' || tf.getBackend() !== 'webgpu') throw new Error(`backend ${handle.backend}`);
  const [n, m, d, eps] = [64, 48, 3, 0.05];
  const xs = Float32Array.from({ length: n * d }, (_, i) => Math.sin(0.37 * i));
  const ys = Float32Array.from({ length: m * d }, (_, i) => 0.5 + Math.cos(0.23 * i));
  const hs = Float32Array.from({ length: m }, (_, j) => -Math.log(m) + 0.01 * j);
  const f = softmin(tf.tensor2d(xs, [n, d]), tf.tensor2d(ys, [m, d]), tf.tensor1d(hs), eps, 2);
  const got = await handle.read(f);
  const want = softminReference(xs, ys, hs, n, m, d, eps, 2);
  let worst = 0;
  want.forEach((e, i) => {
    worst = Math.max(worst, Math.abs(got[i] - e) / (1 + Math.abs(e)));
  });
  const errors = handle.takeErrors();
  const adapter = describeAdapter(handle.adapterInfo);
  tf.disposeVariables();
  await handle.dispose();
  if (!(worst <= 1e-3)) throw new Error(`softmin on webgpu differs from its float64 reference by ${worst}`);
  if (errors.length > 0) throw new Error(`WebGPU errors: ${errors.join('; ')}`);
  console.log(`backend 'webgpu' on ${adapter}: softmin within ${worst.toExponential(1)} of its float64 reference`);
} else {
  throw new Error('usage: node webgpu-optional.mjs missing|present');
}
