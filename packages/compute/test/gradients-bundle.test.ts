// The bundling of tfjs-core's register_all_gradients that gives plain Node gradients (config/tsup.base.ts,
// tfjsCorePublicApiPlugin, used by this package's tsup build): built here with the same plugin, then checked against
// tfjs-core itself: its CommonJS build's public API (a different artifact from the ES files the plugin reads) and
// what plain `node` registers when it runs the bundle. scripts/pack-smoke.mjs checks the packed package end to end.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { tfjsCorePublicApiPlugin } from '../../../config/tsup.base.ts';

const require = createRequire(import.meta.url);
const coreDir = realpathSync(dirname(require.resolve('@tensorflow/tfjs-core/package.json')));
const entry = join(coreDir, 'dist', 'register_all_gradients.js');
const work = mkdtempSync(join(tmpdir(), 'fairclip-gradients-bundle-'));
let bundle = '';
let inputs: string[] = [];
type EsbuildBuild = (options: Record<string, unknown>) => Promise<{
  outputFiles: { text: string }[];
  metafile: { inputs: Record<string, unknown> };
}>;

beforeAll(async () => {
  // tsup's own esbuild (not a dependency of this package).
  const esbuild = createRequire(require.resolve('tsup'))('esbuild') as { build: EsbuildBuild };
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    write: false,
    metafile: true,
    external: ['@tensorflow/tfjs-core'],
    plugins: [tfjsCorePublicApiPlugin()],
  });
  bundle = result.outputFiles[0]!.text;
  inputs = Object.keys(result.metafile.inputs);
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

test('no copy of a tfjs-core module that holds or registers global state is bundled', () => {
  const copied = inputs.filter((i) => !i.startsWith('tfjs-core-public-api:')).map((i) => i.replace(/.*\/dist\//, ''));
  expect(copied).toContain('register_all_gradients.js');
  expect(copied.filter((f) => f.startsWith('gradients/')).length).toBeGreaterThan(90);
  const stateful = ['engine.js', 'environment.js', 'flags.js', 'kernel_registry.js', 'base.js', 'index.js'];
  expect(copied.filter((f) => stateful.includes(f) || f.startsWith('platforms/') || f.startsWith('backends/'))).toEqual(
    [],
  );
});

test("every binding taken from the public API exists in tfjs-core's CommonJS build", () => {
  const tf = require('@tensorflow/tfjs-core') as Record<string, Record<string, unknown>>;
  const named = [...bundle.matchAll(/import\s*\{([^}]*)\}\s*from\s*["']@tensorflow\/tfjs-core["']/g)].flatMap((m) =>
    m[1]!.split(',').map((s) => s.trim().split(/\s+as\s+/)[0]!),
  );
  const members = [...bundle.matchAll(/\b__tf\d*\.(\w+)(?:\.(\w+)|\(\))/g)].map((m) => [m[1]!, m[2]] as const);
  expect(named.length).toBeGreaterThan(50);
  expect(members.length).toBeGreaterThan(5);
  expect(named.filter((n) => n !== '' && !(n in tf))).toEqual([]);
  expect(members.filter(([ns, k]) => !(ns in tf) || (k !== undefined && !(k in tf[ns]!)))).toEqual([]);
});

test('plain node running the bundle registers one gradient per config it lists, without warnings', () => {
  // The kernels register_all_gradients registers, read from its own source.
  const listed = [...readFileSync(entry, 'utf8').matchAll(/import \{ (\w+GradConfig) \}/g)].map((m) => m[1]!);
  expect(listed.length).toBeGreaterThan(90);
  const app = join(work, 'app');
  mkdirSync(join(app, 'node_modules', '@tensorflow'), { recursive: true });
  symlinkSync(coreDir, join(app, 'node_modules', '@tensorflow', 'tfjs-core'));
  writeFileSync(join(app, 'gradients.mjs'), bundle);
  writeFileSync(
    join(app, 'check.mjs'),
    `import * as tf from '@tensorflow/tfjs-core';
const kernels = [...new Set(Object.values(tf).filter((v) => typeof v === 'string'))]; // tf.Sum === 'Sum', …
const registered = () => kernels.filter((k) => typeof tf.getGradient(k)?.gradFunc === 'function');
const before = registered().length;
await import('./gradients.mjs');
console.log(JSON.stringify({ before, after: registered().length, sum: registered().includes('Sum') }));
`,
  );
  const r = spawnSync(process.execPath, ['check.mjs'], {
    cwd: app,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual({ before: 0, after: listed.length, sum: true });
});
