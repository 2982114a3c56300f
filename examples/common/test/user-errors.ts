// The user mistakes every app must answer with one line on stderr ("<app>: what, which path or flag, how to fix")
// and exit code 2, before any work: bad paths, a file as --out or as one of its parents, --out under /proc (in a
// child process with a time limit: Node's recursive mkdir spins there forever), bad flags and numbers. Each app's
// test calls userErrorSuite(...).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Io, runCaptured } from '../src/index.ts';
import { bundleCli, runCli } from './cli-process.ts';

export type RunApp = (argv: readonly string[], io: Io) => Promise<number>;

/** Runs the app in-process and checks: exit code 2, nothing on stdout, exactly one line "<app>: ..." on stderr. */
export async function expectOneLine(runApp: RunApp, app: string, argv: readonly string[]): Promise<string> {
  const r = await runCaptured(runApp, argv);
  expect(r.code, argv.join(' ')).toBe(2);
  expect(r.stdout, argv.join(' ')).toBe('');
  expect(r.stderr.split('\n'), argv.join(' ')).toHaveLength(1);
  expect(r.stderr.startsWith(`${app}: `), r.stderr).toBe(true);
  return r.stderr;
}

export interface UserErrorSuite {
  /** The program name (prefix of its error lines). */
  app: string;
  runApp: RunApp;
  /** The app's folder (its command-line entry is bundled and run in a child process for the /proc case). */
  appDir: string;
  /** The command-line entry under appDir (default src/cli.ts). */
  entry?: string;
  /** Arguments that make the app otherwise valid (e.g. a required --weights). */
  base?: readonly string[];
}

export function userErrorSuite(s: UserErrorSuite): void {
  describe(`${s.app}: every user mistake is one line and exit code 2`, () => {
    const tmp = mkdtempSync(join(tmpdir(), 'fc-user-errors-'));
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));
    const base = s.base ?? [];
    const out = join(tmp, 'out');
    const one = (argv: readonly string[]) => expectOneLine(s.runApp, s.app, [...base, ...argv]);

    test('bad paths name the path (and the expected layout)', async () => {
      expect(await one(['--out', out, '--data', join(tmp, 'no-data')])).toContain(
        `dataset folder not found: ${join(tmp, 'no-data')} (expected: `,
      );
      expect(await one(['--out', out, '--data', file])).toContain(`must be a folder: ${file}`);
      expect(await one(['--out', out, '--weights', join(tmp, 'no.pt')])).toContain(
        `weights file not found: ${join(tmp, 'no.pt')}`,
      );
      expect(await one(['--out', out, '--vocab', join(tmp, 'no-vocab.txt.gz')])).toContain(
        `vocabulary file not found: ${join(tmp, 'no-vocab.txt.gz')}`,
      );
    });

    test('a file as --out, or as a parent of --out, is refused', async () => {
      expect(await one(['--out', file])).toBe(
        `${s.app}: --out ${file}: is a file, not a folder; remove or rename it, or choose another --out`,
      );
      expect(await one(['--out', join(file, 'sub', 'dir')])).toContain(`${file} is a file, not a folder`);
    });

    test('bad flags and numbers name the flag', async () => {
      expect(await one(['--out', out, '--bogus'])).toBe(`${s.app}: unknown option --bogus (see --help)`);
      expect(await one(['--out', out, '--backend', 'tpu'])).toContain('--backend: expected auto, webgpu, wasm or cpu');
      for (const v of ['9007199254740993', '-1', '1.5', '0x10', '1e3'])
        expect(await one(['--out', out, '--seeds', v])).toContain(`--seeds: expected comma-separated decimal integers`);
      for (const v of ['0', '0x10', '1e3', '-2'])
        expect(await one(['--out', out, '--epochs', v])).toContain('--epochs: expected a decimal integer from 1 to');
      expect(await one(['--out', out, '--batch-size', '1.5'])).toContain('--batch-size: expected a decimal integer');
      expect(await one(['--out', out, '--lambda', '0x10'])).toContain('--lambda: expected a decimal number');
      expect(await one(['--out', out, '--set', 'training.epochs=-1'])).toContain('training.epochs');
    });

    describe('--out under /proc, /sys or /dev: refused at once (a child process, killed after 60 s)', () => {
      let bundle = '';
      beforeAll(async () => {
        bundle = await bundleCli(s.appDir, s.entry);
      });
      test.each(['/proc/x', '/proc/self/fc/out', '/sys/fc-out'])('%s', async (bad) => {
        const r = await runCli(bundle, [...base, '--out', bad], 60_000);
        expect(r.timedOut).toBe(false);
        expect(r.code).toBe(2);
        expect(r.stdout).toBe('');
        const root = bad.split('/')[1];
        expect(r.stderr).toBe(
          `${s.app}: --out ${bad}: /${root} is a kernel pseudo-file system, not a place for outputs; choose another --out\n`,
        );
      });
    });
  });
}
