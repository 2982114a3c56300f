// Run by scripts/pack-smoke.mjs in a project where the packed packages are installed: a CommonJS consumer. The
// packages are ES modules only: CommonJS loads them with `await import()` (every Node version), or with `require()`
// where Node supports require(esm) (Node >= 20.19 and >= 22.12; process.features.require_module).
'use strict';
const tf = require('@tensorflow/tfjs-core');
const { checkGradients } = require('./gradient-checks.cjs');

(async () => {
  const compute = await import('@fairclip/compute');
  const handle = await compute.initCompute({ backend: 'cpu' });
  const n = checkGradients(tf);
  await handle.dispose();
  let viaRequire = 'require() of an ES module is not supported by this Node';
  if (process.features.require_module) {
    if (require('@fairclip/compute').initCompute !== compute.initCompute) {
      throw new Error("require('@fairclip/compute') and import() gave different modules");
    }
    // Every installed package (npm install recorded the tarballs in this project's package.json).
    const installed = Object.keys(require('./package.json').dependencies ?? {});
    if (installed.length === 0) throw new Error('no package is installed in this project');
    for (const name of installed) {
      if (Object.keys(require(name)).length === 0) throw new Error(`require('${name}') exported nothing`);
    }
    viaRequire = `require() loads all ${installed.length} packages`;
  }
  console.log(`${n} gradients match their closed forms from CommonJS; ${viaRequire}`);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
