// Runs one of test/spawned-tok/*.ts in a fresh Node process (through tsx, workspace packages from source) and parses
// the one JSON line it prints: the memory-bomb tests measure the child's peak RSS (`process.resourceUsage().maxRSS`).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ChildReport {
  /** Error class name, code and message the child caught (absent when nothing was thrown). */
  name?: string;
  code?: string;
  message?: string;
  /** Peak resident set size of the child, in kilobytes. */
  maxRssKb: number;
  [key: string]: unknown;
}

const packageRoot = fileURLToPath(new URL('../..', import.meta.url));

/** `node --conditions=@fairclip/source --import tsx test/spawned-tok/<name> [args]`, killed after timeoutMs. */
export function runChild(name: string, args: readonly string[] = [], timeoutMs = 120_000): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@fairclip/source', '--import', 'tsx', `test/spawned-tok/${name}`, ...args],
      { cwd: packageRoot, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) {
        reject(new Error(`${name} ${args.join(' ')} exited with ${code ?? signal}: ${stderr.slice(-2000)}${stdout}`));
        return;
      }
      resolve(JSON.parse(line) as ChildReport);
    });
  });
}

/** What a child prints: the error it caught (or its result) and its peak RSS. */
export function report(result: Record<string, unknown>, error?: unknown): void {
  const e = error as { name?: unknown; code?: unknown; message?: unknown } | undefined;
  const out: Record<string, unknown> = { ...result, maxRssKb: process.resourceUsage().maxRSS };
  if (error !== undefined) {
    out.name = String(e?.name);
    out.code = e?.code === undefined ? undefined : String(e.code);
    out.message = String(e?.message);
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
