import type { Io } from './index.ts';

/** What an app printed in one in-process run: its exit code, stdout and stderr lines, and the progress bar output. */
export interface CapturedRun {
  code: number;
  /** The stdout lines joined with "\n". */
  stdout: string;
  /** The stderr lines joined with "\n". */
  stderr: string;
  /** Everything written to the progress bar, concatenated. */
  bar: string;
}

/**
 * Runs an app's runApp(argv, io) in-process with an Io that captures its output (the apps' tests use it instead of
 * spawning the bundled CLI).
 */
export async function runCaptured(
  runApp: (argv: readonly string[], io: Io) => Promise<number>,
  argv: readonly string[],
): Promise<CapturedRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const bar: string[] = [];
  const code = await runApp(argv, {
    stdout: (t) => stdout.push(t),
    stderr: (t) => stderr.push(t),
    progress: { write: (s) => bar.push(s) },
  });
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n'), bar: bar.join('') };
}
