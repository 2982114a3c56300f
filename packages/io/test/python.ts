// Runs /usr/bin/python3 with numpy when it is available (the reference reader for files we write).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const PYTHON = process.env.FAIRCLIP_PYTHON ?? '/usr/bin/python3';

let available: string | undefined | null = null;

/** Why numpy cannot be used here, or undefined when it can. */
export function numpyUnavailable(): string | undefined {
  if (available !== null) return available;
  if (!existsSync(PYTHON)) {
    available = `${PYTHON} not found`;
  } else {
    const r = spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' });
    available =
      r.status === 0 ? undefined : `numpy not importable with ${PYTHON}: ${r.stderr.trim().split('\n').pop()}`;
  }
  if (available) console.warn(`[skip] Python/numpy interop tests skipped: ${available}`);
  return available;
}

/** Runs a Python script (stdin) with arguments and parses its stdout as JSON. */
export function runPythonJson<T>(script: string, args: string[] = []): T {
  const r = spawnSync(PYTHON, ['-', ...args], { input: script, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
