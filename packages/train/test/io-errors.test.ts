// Operating-system errors while a run creates its output folder or writes its outputs and checkpoints become one
// line: a TrainError with code 'IO' naming the path, what the error means and the fix (free space, a writable
// --out), the system error attached as its cause — never a bare ENOENT / EACCES stack trace, never a hang.
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initCompute } from '@fairclip/compute';
import { FairclipError } from '@fairclip/io';
import { runNodeScript } from '@fairclip/test-fixtures';
import { beforeAll, describe, expect, test } from 'vitest';
import { ensureDir, writeCheckpoint, writeFileAtomic } from '../src/checkpoint.ts';
import { ImageCache } from '../src/data.ts';
import { TrainError, writeError } from '../src/errors.ts';
import { resolvePresetConfig } from '../src/presets.ts';
import { runTraining } from '../src/run.ts';
import { microFairVlmed, TINY_MODEL, tempDir } from './helpers/runs.ts';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
const isRoot = process.getuid?.() === 0;

function expectIoError(e: unknown, path: string, meaning: RegExp, fix: RegExp): TrainError {
  expect(e).toBeInstanceOf(TrainError);
  expect(e).toBeInstanceOf(FairclipError);
  const err = e as TrainError;
  expect(err.code).toBe('IO');
  expect(err.message).not.toContain('\n');
  expect(err.message).toContain(path);
  expect(err.message).toMatch(meaning);
  expect(err.message).toMatch(fix);
  expect((err.cause as NodeJS.ErrnoException | undefined)?.code).toMatch(/^E[A-Z]+$/);
  return err;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

/** ensureDir in a child process (killed after 30 s: a spinning mkdir cannot be timed out in-process). */
async function ensureDirInChild(path: string): Promise<{ out: string; signal: NodeJS.Signals | null }> {
  const r = await runNodeScript(packageRoot, 'test/spawned/ensure-dir.ts', [path], { timeoutMs: 30_000 });
  return { out: r.stdout, signal: r.signal };
}

describe('the errno meanings', () => {
  test.each([
    [
      'ENOSPC',
      /no space left on the device \(ENOSPC\); free some space or choose an output folder on another disk \(--out\)/,
    ],
    ['EDQUOT', /disk quota is exceeded \(EDQUOT\); free some space/],
    ['EROFS', /the file system is read-only \(EROFS\); choose a writable output folder \(--out\)/],
    ['EACCES', /permission denied \(EACCES\); choose a writable output folder \(--out\)/],
    ['ENOTDIR', /a part of the path is a file, not a folder \(ENOTDIR\); choose another output folder/],
    ['EIO', /input\/output error .*\(EIO\)/],
    ['EWHATEVER', /the operating system refused it \(EWHATEVER\)/],
  ])('%s', (code, message) => {
    const cause = Object.assign(new Error(`${code}: something, write`), { code, syscall: 'write' });
    const e = writeError('/data/out/result.json', cause);
    expectIoError(e, '/data/out/result.json', message, /--out|ulimit|disk/);
    expect((e as Error).cause).toBe(cause);
  });

  test('a bug or one of our errors passes through unchanged', () => {
    const bug = new TypeError('x is undefined');
    expect(writeError('/p', bug)).toBe(bug);
    const ours = new TrainError('BAD_DATA', 'bad');
    expect(writeError('/p', ours)).toBe(ours);
  });
});

describe('output folder', () => {
  test.skipIf(!existsSync('/proc/self'))('under /proc: a one-line error, no endless mkdir', async () => {
    const { out, signal } = await ensureDirInChild('/proc/fc-train-out/run/x');
    expect(signal).toBeNull();
    const e = JSON.parse(out) as { name: string; code: string; message: string };
    expect(e.name).toBe('TrainError');
    expect(e.code).toBe('IO');
    expect(e.message).toMatch(
      /^cannot create the folder \/proc\/fc-train-out: .*\(ENOENT\); choose a writable output folder \(--out\)$/,
    );
  });

  test('a file where a folder is expected (ENOTDIR, EEXIST)', () => {
    const file = join(tempDir('fc-train-io-'), 'a-file');
    writeFileSync(file, 'x');
    expectIoError(
      thrown(() => ensureDir(join(file, 'run'))),
      file,
      /is a file, not a folder \(ENOTDIR\)/,
      /--out/,
    );
    expectIoError(
      thrown(() => ensureDir(file)),
      file,
      /a file is in the way where a folder is needed \(EEXIST\)/,
      /--out/,
    );
    expectIoError(
      thrown(() =>
        writeCheckpoint(join(file, 'checkpoints'), 'epoch-0000', { state: {}, model: new Map(), optimizer: null }),
      ),
      file,
      /ENOTDIR/,
      /--out/,
    );
    expectIoError(
      thrown(() => writeFileAtomic(join(file, 'result.json'), '{}')),
      file,
      /ENOTDIR/,
      /--out/,
    );
  });

  test.skipIf(!existsSync('/sys/kernel'))('a folder nobody may write into (/sys, even as root)', () => {
    expectIoError(
      thrown(() => writeFileAtomic('/sys/fc-train-result.json', '{}')),
      '/sys/fc-train-result.json',
      /(permission denied|operation not permitted) \(E(ACCES|PERM)\)/,
      /choose a writable output folder \(--out\)/,
    );
    expectIoError(
      thrown(() => ensureDir('/sys/fc-train-out')),
      '/sys/fc-train-out',
      /\(E(ACCES|PERM)\)/,
      /--out/,
    );
  });

  test.skipIf(isRoot)(
    'a read-only folder (chmod 555; skipped as root, whom chmod does not stop — the /sys case covers it)',
    () => {
      const dir = join(tempDir('fc-train-io-'), 'ro');
      mkdirSync(dir);
      chmodSync(dir, 0o555);
      try {
        expectIoError(
          thrown(() => ensureDir(join(dir, 'out'))),
          join(dir, 'out'),
          /permission denied \(EACCES\)/,
          /--out/,
        );
        expectIoError(
          thrown(() => writeFileAtomic(join(dir, 'a.json'), '{}')),
          join(dir, 'a.json'),
          /EACCES/,
          /--out/,
        );
      } finally {
        chmodSync(dir, 0o755);
      }
    },
  );

  test('a failed write leaves no temporary file behind', () => {
    const dir = tempDir('fc-train-io-');
    mkdirSync(join(dir, 'result.json'));
    writeFileSync(join(dir, 'result.json', 'inside'), 'x');
    expectIoError(
      thrown(() => writeFileAtomic(join(dir, 'result.json'), '{}')),
      'result.json',
      /\(E[A-Z]+\)/,
      /--out/,
    );
    expect(readdirSync(dir)).toEqual(['result.json']);
  });
});

describe('runTraining', () => {
  let data = '';
  beforeAll(async () => {
    data = microFairVlmed({ train: 4, val: 2, test: 2, seed: 3 });
    await initCompute({ backend: 'wasm' });
  });
  test('--out under a file: TrainError IO before any training, naming the file', async () => {
    const file = join(tempDir('fc-train-io-'), 'not-a-folder');
    writeFileSync(file, 'x');
    const steps: number[] = [];
    const e = await runTraining({
      config: resolvePresetConfig('clip-finetune', [TINY_MODEL, 'training.epochs=1', 'training.batchSize=2']),
      outDir: join(file, 'run'),
      dataRoot: data,
      imageCache: new ImageCache(),
      hooks: { onStep: (s) => void steps.push(s.globalStep) },
    }).then(
      () => null,
      (err: unknown) => err,
    );
    expectIoError(e, file, /ENOTDIR/, /choose another output folder \(--out\)/);
    expect(steps).toEqual([]);
  });
});
