// Executable architecture rules (see README "Architecture"):
//  - fairness and datasets take plain typed arrays and depend on no tensor engine;
//  - io is a leaf: no tensor engine and no other @fairclip package;
//  - only @fairclip/compute depends on concrete tfjs backends or Dawn; other libraries never pick a backend;
//  - every library package has explicit exports with the source condition, sideEffects false and a README.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const errors = [];
const backendDeps = [
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-backend-webgpu',
  'webgpu',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
];
const tensorFree = new Set(['@fairclip/fairness', '@fairclip/datasets', '@fairclip/io']);
const leaves = new Set(['@fairclip/io']);
for (const dir of readdirSync(join(root, 'packages'))) {
  const pj = join(root, 'packages', dir, 'package.json');
  if (!existsSync(pj)) continue;
  const pkg = JSON.parse(readFileSync(pj, 'utf8'));
  const deps = Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies });
  if (tensorFree.has(pkg.name)) {
    for (const d of deps)
      if (d.startsWith('@tensorflow/') || d === 'webgpu' || d === '@fairclip/compute')
        errors.push(`${pkg.name} must not depend on ${d}`);
  }
  if (leaves.has(pkg.name)) {
    for (const d of deps)
      if (d.startsWith('@fairclip/')) errors.push(`${pkg.name} is a leaf and must not depend on ${d}`);
  }
  if (pkg.name !== '@fairclip/compute') {
    for (const d of deps)
      if (backendDeps.includes(d))
        errors.push(`${pkg.name} must not depend on the backend ${d} (only @fairclip/compute and apps pick backends)`);
  }
  if (pkg.sideEffects !== false) errors.push(`${pkg.name}: "sideEffects": false is required`);
  const dot = pkg.exports?.['.'];
  if (!dot?.['@fairclip/source'] || !dot.types || !dot.import)
    errors.push(`${pkg.name}: exports["."] needs "@fairclip/source", "types" and "import"`);
  if (!existsSync(join(root, 'packages', dir, 'README.md'))) errors.push(`${pkg.name}: README.md missing`);
}
if (errors.length) {
  console.error(`boundaries: ${errors.length} problem(s)\n  ${errors.join('\n  ')}`);
  process.exit(1);
}
console.log('boundaries: ok');
