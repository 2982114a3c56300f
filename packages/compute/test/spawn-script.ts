// Runs one of test/spawned/*.ts in a fresh Node process (through tsx) and collects its output.
import { fileURLToPath } from 'node:url';
import { type RunScriptOptions, runNodeScript, type ScriptResult } from '@fairclip/test-fixtures';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));

/** `node [nodeArgs] --import tsx test/spawned/<name> [args]`, killed after timeoutMs (default 90 s). */
export function runScript(
  name: string,
  args: readonly string[] = [],
  opts: RunScriptOptions = {},
): Promise<ScriptResult> {
  return runNodeScript(packageRoot, `test/spawned/${name}`, args, { source: false, timeoutMs: 90_000, ...opts });
}
