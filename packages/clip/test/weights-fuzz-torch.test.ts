// Fuzzing the PyTorch checkpoint reader: mutations of valid torch.save files (truncation, bit flips, inflated zip size
// fields, duplicated zip entries, inflated integers in the pickle, truncated pickles). Each mutated file either reads
// to exactly the tensors torch.load reads from the original, or is refused with a WeightsError (a FairclipError with
// a code): never another error, never a hang. Seeds: FC_SEED / FC_NUM_RUNS (config/vitest.setup.ts).
import { FairclipError, listZipEntries, readZipEntry, writeZip } from '@fairclip/io';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { readWeights, type StateDict, WeightsError } from '../src/index.ts';
import { expectSameValues, readFixtureBytes } from './model-helpers.ts';
import { pInt } from './weights-craft.ts';
import { expectTorchValues, HOSTILE, hostileFixture } from './weights-reference.ts';

interface Base {
  name: string;
  bytes: Uint8Array;
  /** Checks a state dict against what torch.load reads from the original file. */
  check: (sd: StateDict) => void;
}

const REF = readWeights(readFixtureBytes('clip/weights/reference.safetensors'), 'reference.safetensors').stateDict;

const BASES: Base[] = [
  {
    name: 'tiny.pt',
    bytes: new Uint8Array(hostileFixture('tiny.pt')),
    check: (sd) => expectTorchValues(sd, HOSTILE.tiny, 'tiny.pt'),
  },
  {
    name: 'views.pt',
    bytes: new Uint8Array(hostileFixture('views.pt')),
    check: (sd) => expectTorchValues(sd, HOSTILE.views, 'views.pt'),
  },
  {
    name: 'deflated.pt',
    bytes: new Uint8Array(hostileFixture('deflated.pt')),
    check: (sd) => expectTorchValues(sd, HOSTILE.tiny, 'deflated.pt'),
  },
  {
    // torch.save of the reference weights with views (clip_weights.py), equal to reference.safetensors there.
    name: 'noncontiguous.pt',
    bytes: new Uint8Array(readFixtureBytes('clip/weights/noncontiguous.pt')),
    check: (sd) => {
      expect([...sd.keys()].sort()).toEqual([...REF.keys()].sort());
      for (const [k, t] of REF) {
        expect(sd.get(k)!.shape, k).toEqual(t.shape);
        expectSameValues(sd.get(k)!.data, t.data, k);
      }
    },
  },
];

/** Reads a mutated file: the same tensors as the original, or a typed error. Returns which. */
function readOrRefuse(base: Base, bytes: Uint8Array, mustThrow = false): 'same' | 'refused' {
  let sd: StateDict;
  try {
    sd = readWeights(bytes, `fuzz-${base.name}`, { naming: 'openai' }).stateDict;
  } catch (e) {
    expect(e, (e as Error)?.stack).toBeInstanceOf(WeightsError);
    expect(e).toBeInstanceOf(FairclipError);
    expect(typeof (e as WeightsError).code).toBe('string');
    expect((e as Error).message).not.toContain('\n');
    expect((e as Error).message.length).toBeLessThan(600);
    return 'refused';
  }
  expect(mustThrow, 'a file that cannot be valid was read').toBe(false);
  base.check(sd);
  return 'same';
}

// Drawn by name (a counterexample prints the name, not the bytes); plain Uint8Arrays, so slice() copies.
const baseArb = fc.constantFrom(...BASES.map((b) => b.name)).map(
  (name) => BASES.find((b) => b.name === name)!,
  (b) => (b as Base).name,
);

/** Offsets of the central-directory records (no zip64 in these small files). */
function centralRecords(bytes: Uint8Array): { eocd: number; records: number[] } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eocd = bytes.length - 22;
  expect(dv.getUint32(eocd, true)).toBe(0x06054b50);
  const count = dv.getUint16(eocd + 10, true);
  let p = dv.getUint32(eocd + 16, true);
  const records: number[] = [];
  for (let i = 0; i < count; i++) {
    records.push(p);
    p += 46 + dv.getUint16(p + 28, true) + dv.getUint16(p + 30, true) + dv.getUint16(p + 32, true);
  }
  return { eocd, records };
}

/**
 * The archive with central-directory record `pick` (mod count) written twice in a row, every count, size and offset
 * after it updated (the classic end record and, where torch wrote them, the zip64 end record and its locator).
 */
function duplicateRecord(bytes: Uint8Array, pick: number): Uint8Array {
  const { eocd, records } = centralRecords(bytes);
  const dv0 = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const cdEnd = dv0.getUint32(eocd + 16, true) + dv0.getUint32(eocd + 12, true);
  const i = pick % records.length;
  const start = records[i]!;
  const end = i + 1 < records.length ? records[i + 1]! : cdEnd;
  const record = bytes.subarray(start, end);
  const n = record.length;
  const out = new Uint8Array(bytes.length + n);
  out.set(bytes.subarray(0, end));
  out.set(record, end);
  out.set(bytes.subarray(end), end + n);
  const dv = new DataView(out.buffer);
  const e = eocd + n;
  dv.setUint16(e + 8, records.length + 1, true);
  dv.setUint16(e + 10, records.length + 1, true);
  dv.setUint32(e + 12, dv.getUint32(e + 12, true) + n, true);
  const locator = e - 20;
  if (locator >= 0 && dv.getUint32(locator, true) === 0x07064b50) {
    const z = Number(dv.getBigUint64(locator + 8, true)) + n;
    dv.setBigUint64(locator + 8, BigInt(z), true);
    expect(dv.getUint32(z, true)).toBe(0x06064b50);
    dv.setBigUint64(z + 24, BigInt(records.length + 1), true);
    dv.setBigUint64(z + 32, BigInt(records.length + 1), true);
    dv.setBigUint64(z + 40, dv.getBigUint64(z + 40, true) + BigInt(n), true);
  }
  return out;
}

/** Positions of the integer opcodes (BININT1/2, BININT, LONG1) of a pickle, walking its opcodes. */
function intOpcodes(pkl: Uint8Array): { at: number; length: number }[] {
  const dv = new DataView(pkl.buffer, pkl.byteOffset, pkl.byteLength);
  const fixed: Record<number, number> = { 128: 1, 149: 8, 113: 1, 114: 4, 104: 1, 106: 4, 71: 8 };
  const ints: Record<number, number> = { 75: 1, 77: 2, 74: 4 };
  const noArg = new Set([
    0x2e, 0x28, 0x29, 0x5d, 0x7d, 0x4e, 0x88, 0x89, 0x85, 0x86, 0x87, 0x74, 0x6c, 0x61, 0x65, 0x73, 0x75, 0x64, 0x52,
    0x51, 0x62, 0x30, 0x31, 0x32, 0x94, 0x93,
  ]);
  const out: { at: number; length: number }[] = [];
  let p = 0;
  while (p < pkl.length) {
    const op = pkl[p]!;
    if (op === 0x2e) break;
    if (ints[op] !== undefined) {
      out.push({ at: p, length: 1 + ints[op] });
      p += 1 + ints[op];
    } else if (op === 0x8a) {
      out.push({ at: p, length: 2 + pkl[p + 1]! });
      p += 2 + pkl[p + 1]!;
    } else if (fixed[op] !== undefined) p += 1 + fixed[op];
    else if (noArg.has(op)) p += 1;
    else if (op === 0x8c || op === 0x43 || op === 0x55) p += 2 + pkl[p + 1]!;
    else if (op === 0x58 || op === 0x42 || op === 0x54) p += 5 + dv.getUint32(p + 1, true);
    else if (op === 0x63) {
      p = pkl.indexOf(0x0a, pkl.indexOf(0x0a, p + 1) + 1) + 1;
    } else break;
  }
  return out;
}

/** The archive's entries, with data.pkl replaced, written again (stored, CRCs right). */
function withPickle(bytes: Uint8Array, edit: (pkl: Uint8Array) => Uint8Array): Uint8Array {
  const entries = listZipEntries(bytes, 'base');
  return writeZip(
    entries.map((e) => {
      const data = readZipEntry(bytes, e, 'base');
      return { name: e.name, data: /\/data\.pkl$/.test(e.name) ? edit(data) : data };
    }),
    { compress: false },
  );
}

const HUGE = [2 ** 31, 2 ** 32 + 1, 2 ** 40, 2 ** 53 - 1, 2 ** 53, 2n ** 62n, 2n ** 63n - 1n, -1, -(2 ** 40)];

describe('PyTorch checkpoints under mutation: the same tensors or a WeightsError', () => {
  test('the originals read as torch.load reads them', () => {
    for (const base of BASES) expect(readOrRefuse(base, base.bytes)).toBe('same');
  });

  test('truncation is always refused', () => {
    fc.assert(
      fc.property(baseArb, fc.double({ min: 0, max: 1, noNaN: true }), (base, f) => {
        const keep = Math.min(base.bytes.length - 1, Math.floor(f * base.bytes.length));
        readOrRefuse(base, base.bytes.subarray(0, keep), true);
      }),
    );
  });

  test('bit flips anywhere (the zip CRCs guard the pickle and the storages)', () => {
    fc.assert(
      fc.property(
        baseArb,
        fc.array(
          fc.tuple(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), fc.integer({ min: 0, max: 7 })),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        (base, flips) => {
          const bytes = base.bytes.slice();
          for (const [f, bit] of flips) bytes[Math.floor(f * bytes.length)]! ^= 1 << bit;
          readOrRefuse(base, bytes);
        },
      ),
    );
  });

  test('inflated size fields of the central directory', () => {
    fc.assert(
      fc.property(
        baseArb,
        fc.nat(),
        fc.constantFrom(20, 24),
        fc.constantFrom(0xffffffff, 0x7fffffff, 0x80000000, 1, 0),
        (base, pick, field, value) => {
          const bytes = base.bytes.slice();
          const { records } = centralRecords(bytes);
          const at = records[pick % records.length]!;
          new DataView(bytes.buffer).setUint32(at + field, value, true);
          readOrRefuse(base, bytes);
        },
      ),
    );
  });

  test('a duplicated central-directory entry', () => {
    fc.assert(
      fc.property(baseArb, fc.nat(), (base, pick) => {
        readOrRefuse(base, duplicateRecord(base.bytes, pick), true);
      }),
    );
  });

  test('an integer of the pickle (a size, stride, offset or storage size) inflated or negated', () => {
    fc.assert(
      fc.property(baseArb, fc.nat(), fc.constantFrom(...HUGE), (base, pick, value) => {
        const bytes = withPickle(base.bytes, (pkl) => {
          const ops = intOpcodes(pkl);
          expect(ops.length).toBeGreaterThan(0);
          const { at, length } = ops[pick % ops.length]!;
          const out = new Uint8Array(pkl.length - length + 10);
          out.set(pkl.subarray(0, at));
          out.set(pInt(value), at);
          out.set(pkl.subarray(at + length), at + 10);
          return out;
        });
        readOrRefuse(base, bytes);
      }),
    );
  });

  test('a truncated pickle in a valid archive is refused', () => {
    fc.assert(
      fc.property(baseArb, fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), (base, f) => {
        const bytes = withPickle(base.bytes, (pkl) => pkl.subarray(0, Math.floor(f * pkl.length)));
        readOrRefuse(base, bytes, true);
      }),
    );
  });
});
