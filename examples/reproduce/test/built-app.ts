// The built reproduce app for the executor tests: worker processes (--jobs N children, Slurm array tasks) run the
// bundle, since plain Node cannot run the workspace's sources. Each test file builds its own copy from the current
// sources with the package's tsup configuration into .test-results/built-<name>.js (one folder below the package,
// as dist/main.js: the bundle finds the repository root and the libraries from there), then runs it as a child.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Builds the app into .test-results/built-<name>.js and returns that path. */
export function buildApp(name: string): string {
  const dir = join(PACKAGE_ROOT, '.test-results');
  mkdirSync(dir, { recursive: true });
  const config = join(dir, `tsup.${name}.config.ts`);
  writeFileSync(
    config,
    [
      "import { appConfig } from '../../../config/tsup.base.ts';",
      `const options = appConfig({ 'built-${name}': 'src/main.ts' });`,
      "export default { ...options, outDir: '.test-results', clean: false, sourcemap: false };",
      '',
    ].join('\n'),
  );
  const r = spawnSync('pnpm', ['exec', 'tsup', '--config', config], { cwd: PACKAGE_ROOT, encoding: 'utf8' });
  const main = join(dir, `built-${name}.js`);
  if (r.status !== 0 || !existsSync(main)) throw new Error(`building the app failed:\n${r.stdout}\n${r.stderr}`);
  return main;
}

export interface AppRun {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** `node <main> ...argv` with the test process's environment plus `env`, killed after timeoutMs. */
export function runBuilt(
  main: string,
  argv: readonly string[],
  opts: { env?: Record<string, string>; timeoutMs?: number; onStderr?: (chunk: string) => void } = {},
): Promise<AppRun> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [main, ...argv], {
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      opts.onStderr?.(c);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, seconds: (performance.now() - t0) / 1000 });
    });
  });
}

/** The report of a run folder with its generation time taken out (everything else must match). */
export function reportOf(out: string): { markdown: string; json: string; figures: Map<string, string> } {
  const figures = new Map<string, string>();
  const walk = (dir: string, rel: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }))
      if (e.isDirectory()) walk(join(dir, e.name), `${rel}${e.name}/`);
      else figures.set(`${rel}${e.name}`, readFileSync(join(dir, e.name), 'utf8'));
  };
  walk(join(out, 'figures'), '');
  return {
    markdown: readFileSync(join(out, 'report.md'), 'utf8').replace(/^Generated .*$/m, 'Generated <time>.'),
    json: readFileSync(join(out, 'report.json'), 'utf8'),
    figures,
  };
}

/** The tiny grid of the executor tests: 4 runs (CLIP fine-tuned and A-FairCLIP [race], seeds 1 and 2), 2 epochs. */
export const TINY_GRID = [
  '--preset',
  'clip-finetune,a-fairclip',
  '--attributes',
  'race',
  '--seeds',
  '1,2',
  '--backend',
  'wasm',
  '--epochs',
  '2',
  '--batch-size',
  '4',
  '--set',
  'data.limits.train=8',
  '--set',
  'data.limits.val=10',
  '--set',
  'data.limits.test=16',
  '--set',
  'fairness.groupBatchSize=4',
  '--no-fairface',
  '--quiet',
];
