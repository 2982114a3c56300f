// Runs an app's real command-line entry (src/cli.ts: process.argv, process.exitCode, processIo) in a child Node
// process with a time limit, for the cases an in-process run cannot bound (a synchronous call that never returns,
// such as Node's recursive mkdir under /proc). The entry is bundled from source first (the workspace packages through
// their "@fairclip/source" condition; other packages stay external), as tsup bundles the apps, because tsx cannot
// load the presets' JSON (a top-level "eval" key).
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export interface CliResult {
  /** Exit code, or null when the process was killed (time limit) or ended on a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Whether the time limit killed it. */
  timedOut: boolean;
}

type EsbuildPlugin = {
  name: string;
  setup(b: { onResolve(o: object, f: (a: { path: string; importer: string }) => unknown): void }): void;
};

/** Bundles `<appDir>/<entry>` into `<appDir>/.test-results/cli-bundle.mjs` and returns the bundle's path. */
export async function bundleCli(appDir: string, entry = 'src/cli.ts'): Promise<string> {
  // esbuild comes with tsup (a workspace devDependency of the root)
  const esbuild = createRequire(createRequire(join(appDir, 'package.json')).resolve('tsup'))('esbuild') as {
    build(o: object): Promise<unknown>;
  };
  const outDir = join(appDir, '.test-results');
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, 'cli-bundle.mjs');
  const externalUnlessWorkspace: EsbuildPlugin = {
    name: 'external-unless-workspace',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (a) => {
        if (a.path.startsWith('@fairclip/') || a.path.startsWith('node:')) return undefined;
        // other packages: external, found from the importing file's folder (a library's own dependencies)
        try {
          return { path: createRequire(a.importer).resolve(a.path), external: true };
        } catch {
          return { path: a.path, external: true };
        }
      });
    },
  };
  await esbuild.build({
    entryPoints: [join(appDir, entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    conditions: ['@fairclip/source'],
    plugins: [externalUnlessWorkspace],
    logLevel: 'error',
  });
  return outfile;
}

/** `node <bundle> ...argv` with stdin closed, killed after timeoutMs. */
export function runCli(bundle: string, argv: readonly string[], timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle, ...argv], { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}
