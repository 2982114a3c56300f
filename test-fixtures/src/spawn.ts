// Runs a TypeScript script of a package's tests in a fresh Node process (through tsx, workspace packages from
// source) and collects its output: for the tests that need a process of their own (memory-bomb peaks measured with
// `process.resourceUsage().maxRSS`, exit and teardown behaviour, output of a whole process).
import { spawn } from 'node:child_process';

export interface ScriptResult {
  /** Exit code, or null when the process ended on a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunScriptOptions {
  /** Node flags before `--import tsx` (e.g. `--expose-gc`). */
  nodeArgs?: readonly string[];
  /** Killed with SIGKILL after this long (default 120 s). */
  timeoutMs?: number;
  /** Resolve workspace packages from their sources (`--conditions=@fairclip/source`; default true). */
  source?: boolean;
}

/** `node [nodeArgs] [--conditions=@fairclip/source] --import tsx <script> [args]` run in `cwd`. */
export function runNodeScript(
  cwd: string,
  script: string,
  args: readonly string[] = [],
  opts: RunScriptOptions = {},
): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        ...(opts.nodeArgs ?? []),
        ...(opts.source === false ? [] : ['--conditions=@fairclip/source']),
        '--import',
        'tsx',
        script,
        ...args,
      ],
      { cwd, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
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
