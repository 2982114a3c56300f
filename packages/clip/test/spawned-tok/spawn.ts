// Runs one of test/spawned-tok/*.ts in a fresh Node process (through tsx, workspace packages from source) and parses
// the one JSON line it prints: the memory-bomb tests measure the child's peak RSS (`process.resourceUsage().maxRSS`).
import { fileURLToPath } from 'node:url';
import { runNodeScript } from '@fairclip/test-fixtures';

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
export async function runChild(name: string, args: readonly string[] = [], timeoutMs = 120_000): Promise<ChildReport> {
  const r = await runNodeScript(packageRoot, `test/spawned-tok/${name}`, args, { timeoutMs });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code !== 0 || !line.startsWith('{'))
    throw new Error(`${name} ${args.join(' ')} exited with ${r.code ?? r.signal}: ${r.stderr.slice(-2000)}${r.stdout}`);
  return JSON.parse(line) as ChildReport;
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
