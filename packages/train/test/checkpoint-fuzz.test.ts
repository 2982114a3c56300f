// Fuzzing the checkpoint reader: a run folder with two checkpoints (written by writeCheckpoint) gets one mutation of
// one of its files — truncation, a bit flip, an inflated length field, a duplicated JSON entry — and reading it
// either gives exactly one of the two checkpoints as written (the latest, or the previous one when the latest is
// damaged) or throws the one-line CheckpointError; never another error, never a value that was not written.
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CheckpointError, type LoadedCheckpoint, readLatestCheckpoint, writeCheckpoint } from '../src/checkpoint.ts';
import type { OptimizerState } from '../src/optim.ts';
import { tempDir } from './helpers/runs.ts';

interface State {
  epoch: number;
  note: string;
}

const FILES = ['state.json', 'model.safetensors', 'optimizer.safetensors', 'manifest.json'];
let template = '';
let work = '';
const written: { state: State; model: Map<string, number[]>; optimizer: OptimizerState }[] = [];

function contents(epoch: number) {
  const model = new Map([
    ['w', { shape: [2, 3], data: Float32Array.from({ length: 6 }, (_, i) => i * 0.5 - epoch) }],
    ['b', { shape: [3], data: Float32Array.of(epoch, -epoch, 0.25) }],
  ]);
  const optimizer: OptimizerState = {
    kind: 'adam',
    step: 7 * epoch,
    buffers: {
      'w/m': { shape: [2, 3], data: new Float32Array(6).fill(0.01 * epoch) },
      'w/v': { shape: [2, 3], data: new Float32Array(6).fill(0.02 * epoch) },
    },
  };
  return { state: { epoch, note: `checkpoint ${epoch}` }, model, optimizer };
}

const plain = (c: LoadedCheckpoint<State>) => ({
  state: c.state,
  model: new Map([...c.model].map(([k, t]) => [k, Array.from(t.data as Float32Array)])),
  optimizer: c.optimizer,
});

beforeAll(() => {
  const root = tempDir('fc-train-ckfuzz-');
  template = join(root, 'template');
  work = join(root, 'work');
  for (const [name, epoch] of [
    ['epoch-0000', 1],
    ['epoch-0001', 2],
  ] as const) {
    const c = contents(epoch);
    writeCheckpoint(template, name, c);
    written.push({
      state: c.state,
      model: new Map([...c.model].map(([k, t]) => [k, Array.from(t.data)])),
      optimizer: c.optimizer,
    });
  }
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'inflate'; value: number }
  | { kind: 'duplicate'; at: number };

function mutate(bytes: Buffer, file: string, m: Mutation): Buffer {
  const pos = (f: number) => Math.min(bytes.length - 1, Math.floor(f * bytes.length));
  switch (m.kind) {
    case 'truncate':
      return bytes.subarray(0, pos(m.at));
    case 'flip': {
      const out = Buffer.from(bytes);
      out[pos(m.at)]! ^= 1 << m.bit;
      return out;
    }
    case 'inflate': {
      const out = Buffer.from(bytes);
      if (file.endsWith('.safetensors'))
        out.writeBigUInt64LE(BigInt(m.value), 0); // the header length
      else return Buffer.from(bytes.toString('utf8').replace(/\d+/, String(m.value))); // the first number
      return out;
    }
    case 'duplicate': {
      // a JSON object's first entry repeated at its end (JSON.parse keeps the last); other files: a span repeated
      const text = bytes.toString('utf8');
      const entry = /^\{("[^"]*":(?:"[^"]*"|[^,{}[\]]*)),/.exec(text);
      if (file.endsWith('.json') && entry) return Buffer.from(`${text.trimEnd().slice(0, -1)},${entry[1]}}`);
      const p = pos(m.at);
      return Buffer.concat([bytes.subarray(0, p), bytes.subarray(p, p + 64), bytes.subarray(p)]);
    }
  }
}

describe('checkpoint reader fuzz', () => {
  test('each mutated run folder reads as a checkpoint that was written, or throws CheckpointError', () => {
    const target = fc.oneof(
      fc.constant({ folder: '', file: 'latest.json' }),
      fc.record({ folder: fc.constantFrom('epoch-0000', 'epoch-0001'), file: fc.constantFrom(...FILES) }),
    );
    const mutation: fc.Arbitrary<Mutation> = fc.oneof(
      fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
      fc.record({
        kind: fc.constant('flip' as const),
        at: fc.double({ min: 0, max: 1, noNaN: true }),
        bit: fc.integer({ min: 0, max: 7 }),
      }),
      fc.record({
        kind: fc.constant('inflate' as const),
        value: fc.constantFrom(2 ** 31, 2 ** 40, Number.MAX_SAFE_INTEGER, 99),
      }),
      fc.record({ kind: fc.constant('duplicate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(target, mutation), { minLength: 1, maxLength: 3 }), (mutations) => {
        rmSync(work, { recursive: true, force: true });
        cpSync(template, work, { recursive: true });
        for (const [{ folder, file }, m] of mutations) {
          const path = join(work, folder, file);
          writeFileSync(path, mutate(readFileSync(path), file, m));
        }
        let got: LoadedCheckpoint<State> | null;
        try {
          got = readLatestCheckpoint<State>(work);
        } catch (e) {
          expect(e).toBeInstanceOf(CheckpointError);
          expect((e as Error).message).not.toContain('\n');
          expect((e as Error).message.length).toBeLessThan(2000);
          return;
        }
        expect(got).not.toBeNull();
        expect([written[0], written[1]]).toContainEqual(plain(got!));
      }),
    );
  });

  test('the untouched folder reads as the latest checkpoint', () => {
    expect(plain(readLatestCheckpoint<State>(template)!)).toEqual(written[1]);
  });
});
