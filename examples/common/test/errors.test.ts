// One clear error everywhere: runMain turns every FairclipError and every operating-system error that is a user
// problem into one line and exit code 2 (real errors made here: /dev/full, files where folders are expected, a
// read-only mount and an immutable folder where the machine allows them); anything else keeps its stack. The output
// folder check (checkOutDir) and the inputs stamp of the run folders (inputsStamp, dataFingerprint, moveAside).
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoError, isFairclipError } from '@fairclip/io';
import { ConfigError, resolvePresetConfig } from '@fairclip/train';
import { afterAll, describe, expect, test } from 'vitest';
import {
  CliError,
  checkOutDir,
  DEFAULT_MODEL,
  dataFingerprint,
  EMBEDDED_FAIRVLMED,
  inputsStamp,
  moveAside,
  parseRunArgs,
  runMain,
} from '../src/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'fc-example-errors-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function main(fn: (watch: (out: string) => void) => unknown) {
  const stderr: string[] = [];
  const code = await runMain('fc-app', { stdout: () => {}, stderr: (t) => stderr.push(t) }, async (ctx) => {
    await fn((out) => ctx.watch(parseRunArgs(['--out', out], { preset: 'clip-zeroshot', out: 'x' })));
    return 0;
  });
  return { code, stderr };
}

/** One line "fc-app: ..." and exit code 2. */
async function oneLine(fn: (watch: (out: string) => void) => unknown): Promise<string> {
  const r = await main(fn);
  expect(r.code).toBe(2);
  expect(r.stderr).toHaveLength(1);
  const line = r.stderr[0] as string;
  expect(line).not.toContain('\n');
  expect(line.startsWith('fc-app: ')).toBe(true);
  return line;
}

describe('runMain', () => {
  test('every FairclipError (any package, CliError included) is one line and exit code 2', async () => {
    expect(await oneLine(() => Promise.reject(new CliError('--seeds: bad')))).toBe('fc-app: --seeds: bad');
    expect(await oneLine(() => Promise.reject(new IoError('CSV_PARSE', 'bad quote', { file: '/d/a.csv' })))).toBe(
      'fc-app: CSV_PARSE: /d/a.csv: bad quote',
    );
    const cfg = await oneLine(() => resolvePresetConfig('clip-finetune', ['training.epochs=-3']));
    expect(cfg).toContain('training.epochs');
    // a message spread over lines is still printed as one
    expect(await oneLine(() => Promise.reject(new ConfigError('a.b', 'first\n  second')))).not.toContain('\n');
    expect(isFairclipError(new CliError('x'), 'CLI_USAGE')).toBe(true);
  });

  test('disk full (ENOSPC, /dev/full) is one line naming the path and the fix', async () => {
    const line = await oneLine(() => writeFileSync('/dev/full', 'x'.repeat(1 << 16)));
    expect(line).toBe(
      'fc-app: cannot write: no space left on the device (ENOSPC); free some space or choose another --out',
    );
    // Node's write errors name no file: the line says where the outputs go
    const out = join(tmp, 'out-enospc');
    const named = await oneLine((watch) => {
      watch(out);
      writeFileSync('/dev/full', 'x'.repeat(1 << 16));
    });
    expect(named).toBe(
      `fc-app: cannot write: no space left on the device (ENOSPC); free some space or choose another --out (the outputs go to ${out})`,
    );
    // an open that fails names its path
    expect(await oneLine(() => mkdirSync('/dev/full/x'))).toContain('mkdir /dev/full/x: a part of the path is a file');
  });

  test('a file where a folder is expected (ENOTDIR, EEXIST) is one line naming the path', async () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    expect(await oneLine(() => writeFileSync(join(file, 'child.txt'), 'x'))).toContain(
      `${join(file, 'child.txt')}: a part of the path is a file, not a folder (ENOTDIR)`,
    );
    expect(await oneLine(() => mkdirSync(file))).toContain(`mkdir ${file}: exists and is not a folder (EEXIST)`);
  });

  test("ENOENT is the user's problem under the user's paths only; other errors keep their stack", async () => {
    const out = join(tmp, 'out-enoent');
    mkdirSync(out);
    const line = await oneLine((watch) => {
      watch(out);
      return statSync(join(out, 'seed-1', 'checkpoints', 'gone.safetensors'));
    });
    expect(line).toContain(`${join(out, 'seed-1', 'checkpoints', 'gone.safetensors')}: not found`);
    // a file of the installation (not a path the user gave) missing is a bug: rethrown with its stack
    await expect(main(() => statSync(join(tmp, 'not-a-user-path')))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(main(() => Promise.reject(new TypeError('x is undefined')))).rejects.toThrow(TypeError);
    await expect(main(() => Promise.reject(new RangeError('bug')))).rejects.toThrow('bug');
  });

  // A read-only file system and an immutable folder need root (mount, chattr); elsewhere a folder without write
  // permission gives EACCES.
  const isRoot = process.getuid?.() === 0;
  test('a read-only or unwritable --out is refused in one line before anything is created', async (ctx) => {
    const dir = join(tmp, 'locked');
    mkdirSync(dir);
    let undo: () => void;
    let expected: RegExp;
    if (!isRoot) {
      execFileSync('chmod', ['555', dir]);
      undo = () => execFileSync('chmod', ['755', dir]);
      expected = /permission denied \(EACCES\)/;
    } else {
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', dir], { stdio: 'ignore' });
      } catch {
        ctx.skip(); // no mount permission in this container
      }
      undo = () => execFileSync('umount', [dir]);
      expected = /the file system is read-only \(EROFS\); choose a writable --out$/;
    }
    try {
      const line = await oneLine(() => checkOutDir(join(dir, 'run', 'out')));
      expect(line).toMatch(expected);
      expect(line).toContain(`--out ${join(dir, 'run', 'out')}: cannot create files in ${dir}`);
      // the operating-system error itself, mid-run, is one line too
      expect(await oneLine(() => writeFileSync(join(dir, 'x'), 'x'))).toMatch(expected);
    } finally {
      undo();
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  test('an immutable folder (EPERM) is refused in one line', async (ctx) => {
    if (!isRoot) ctx.skip();
    const dir = join(tmp, 'immutable');
    mkdirSync(dir);
    try {
      execFileSync('chattr', ['+i', dir], { stdio: 'ignore' });
    } catch {
      ctx.skip(); // no chattr or no CAP_LINUX_IMMUTABLE here
    }
    try {
      expect(await oneLine(() => checkOutDir(join(dir, 'out')))).toMatch(
        /cannot create files in .*immutable: operation not permitted \(EPERM\)/,
      );
    } finally {
      execFileSync('chattr', ['-i', dir]);
    }
  });
});

describe('checkOutDir', () => {
  const refuse = (out: string, message: RegExp) => {
    let err: unknown;
    try {
      checkOutDir(out);
    } catch (e) {
      err = e;
    }
    expect(isFairclipError(err, 'CLI_PATH'), out).toBe(true);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  };

  test('refuses the kernel pseudo-file systems (Node mkdir spins forever under /proc) without creating anything', () => {
    refuse(
      '/proc/x',
      /^--out \/proc\/x: \/proc is a kernel pseudo-file system, not a place for outputs; choose another --out$/,
    );
    refuse('/proc/self/x/y', /\/proc is a kernel pseudo-file system/);
    refuse('/sys/x', /\/sys is a kernel pseudo-file system/);
    refuse('/dev/fc-out', /\/dev is a kernel pseudo-file system/);
    refuse('/proc', /\/proc is a kernel pseudo-file system/);
  });

  test('refuses a file as the folder or as one of its parents', () => {
    const file = join(tmp, 'plain-file');
    writeFileSync(file, 'x');
    refuse(file, /: is a file, not a folder; remove or rename it, or choose another --out$/);
    refuse(join(file, 'a', 'b'), new RegExp(`${file} is a file, not a folder`));
  });

  test('accepts a new folder under a writable one without creating it, and leaves no probe behind', () => {
    const parent = join(tmp, 'writable');
    mkdirSync(parent);
    const out = join(parent, 'a', 'b');
    expect(checkOutDir(out)).toBe(out);
    expect(readdirSync(parent)).toEqual([]);
    expect(checkOutDir(parent)).toBe(parent);
    expect(readdirSync(parent)).toEqual([]);
  });
});

describe('the inputs stamp of a run folder', () => {
  test('dataFingerprint changes with a data file (content size or time, a new file), not otherwise', () => {
    const data = join(tmp, 'data');
    cpSync(EMBEDDED_FAIRVLMED, data, { recursive: true });
    const a = dataFingerprint(data);
    expect(dataFingerprint(data)).toBe(a);
    const npz = join(data, 'Test', readdirSync(join(data, 'Test')).find((f) => f.endsWith('.npz')) as string);
    const t = statSync(npz).mtime;
    utimesSync(npz, t, new Date(t.getTime() + 5000));
    const b = dataFingerprint(data);
    expect(b).not.toBe(a);
    writeFileSync(join(data, 'data_summary.csv'), 'changed');
    const c = dataFingerprint(data);
    expect(c).not.toBe(b);
    writeFileSync(join(data, 'Training', 'data_99999.npz'), 'x');
    expect(dataFingerprint(data)).not.toBe(c);
  });

  test('inputsStamp names the weights, vocabulary, model file and data; a replaced weights file changes it', () => {
    const w = join(tmp, 'w.safetensors');
    cpSync(join(DEFAULT_MODEL, '..', 'weights.safetensors'), w);
    const cfg = resolvePresetConfig('clip-zeroshot', [
      `model.arch=${JSON.stringify(DEFAULT_MODEL)}`,
      `model.weights=${JSON.stringify(w)}`,
      `data.path=${JSON.stringify(EMBEDDED_FAIRVLMED)}`,
    ]);
    const s1 = JSON.parse(inputsStamp(cfg));
    expect(s1.weights.file).toBe(w);
    expect(s1.vocab.file).toMatch(/default-model/);
    expect(s1.arch.file).toBe(DEFAULT_MODEL);
    expect(s1.data.files).toBe(dataFingerprint(EMBEDDED_FAIRVLMED));
    const t = statSync(w).mtime;
    utimesSync(w, t, new Date(t.getTime() + 5000));
    expect(inputsStamp(cfg)).not.toBe(JSON.stringify(s1));
  });

  test('moveAside keeps the old folder under a dated name, never over another', () => {
    const dir = join(tmp, 'runs', 'seed-1');
    const when = new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 678));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'result.json'), '{}');
    expect(moveAside(dir, when)).toBe(`${dir}.stale-20250102T030405Z`);
    mkdirSync(dir);
    expect(moveAside(dir, when)).toBe(`${dir}.stale-20250102T030405Z-2`);
    expect(existsSync(join(`${dir}.stale-20250102T030405Z`, 'result.json'))).toBe(true);
    expect(existsSync(dir)).toBe(false);
  });
});
