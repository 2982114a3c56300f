// Runs one of test/spawned/*.ts in a fresh Node process (through tsx, from source) and collects its output.
import { fileURLToPath } from 'node:url';
import { type RunScriptOptions, runNodeScript, type ScriptResult } from '@fairclip/test-fixtures';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));

/** `node --import tsx test/spawned/<name> [args]` from the package folder. */
export function runScript(
  name: string,
  args: readonly string[] = [],
  opts: RunScriptOptions = {},
): Promise<ScriptResult> {
  return runNodeScript(packageRoot, `test/spawned/${name}`, args, opts);
}
