// Spawned by quiet-output.test.ts (node --import tsx): initialises each backend named on the command line, runs one
// op on it and prints the result as a JSON line; webgpu is initialised twice (with a probe first), as apps and test
// files do. Then it provokes one genuine tfjs warning (a kernel registered twice, printed through tfjs' log.warn,
// the channel tfjs' PROD/IS_TEST flags would mute) so the test can check that warnings still get through.
import * as tf from '@tensorflow/tfjs-core';
import { type BackendName, initCompute, probeWebGPU } from '../../src/index.ts';

const backends = process.argv.slice(2) as BackendName[];
for (const backend of backends) {
  if (backend === 'webgpu') await probeWebGPU();
  for (let round = 0; round < (backend === 'webgpu' ? 2 : 1); round++) {
    const handle = await initCompute({ backend, allowSoftwareAdapter: true, registerGradients: false });
    // On webgpu, run on the GPU even for this small input (tfjs-webgpu would otherwise forward it to its CPU code).
    if (backend === 'webgpu') tf.env().set('WEBGPU_CPU_FORWARD', false);
    const x = tf.tensor1d([1, 2, 3, 4]);
    const y = tf.mul(x, 3);
    const values = Array.from(await handle.read(y));
    tf.dispose([x, y]);
    console.log(JSON.stringify({ backend: handle.backend, values }));
    await handle.dispose();
  }
}

const probeKernel: tf.KernelConfig = {
  kernelName: 'FairclipQuietOutputProbe',
  backendName: 'cpu',
  kernelFunc: () => {
    throw new Error('never called');
  },
};
tf.registerKernel(probeKernel);
tf.registerKernel(probeKernel); // tfjs: "The kernel 'FairclipQuietOutputProbe' for backend 'cpu' is already registered"
