// Runs one of test/spawned/*.ts in a fresh Node process (through tsx, from source) and collects its output.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ScriptResult {
  /** Exit code, or null when the process ended on a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const packageRoot = fileURLToPath(new URL('..', import.meta.url));

/** `node [nodeArgs] --import tsx test/spawned/<name> [args]`, killed after timeoutMs. */
export function runScript(
  name: string,
  args: readonly string[] = [],
  opts: { nodeArgs?: readonly string[]; timeoutMs?: number } = {},
): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...(opts.nodeArgs ?? []), '--import', 'tsx', `test/spawned/${name}`, ...args],
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
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
