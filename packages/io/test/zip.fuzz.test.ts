// Fuzzing the zip and npz readers with mutations of numpy-written .npz files (np.savez, np.savez_compressed, zip64
// records; test-fixtures/generators/datasets_npy_fixtures.py): truncation, bit flips, inflated size / length / offset
// / count fields, duplicated entries. Each input is either refused with a typed IoError (one line) or read to exactly
// the arrays numpy recorded; the sizes it may declare are capped, so no input allocates more than the cap.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { IoError, listZipEntries, readNpz, readZipEntry } from '../src/index.ts';
import { decodeEntryAsync } from '../src/zip/read.ts';
import { expectValues, fixtureBytes, type NpzFixture, npyFixtures } from './helpers.ts';

const fx = npyFixtures();
const names = ['stored', 'deflated', 'zip64'] as const;
const files = names.map((n) => ({
  name: n,
  bytes: fixtureBytes(`datasets/npz/${n}.npz`),
  fixture: fx.files[`npz/${n}.npz`] as NpzFixture,
}));
/** Cap used while fuzzing: above every fixture entry, far below what an inflated size field could declare. */
const CAP = { maxEntryBytes: 1 << 20 };

const SIG = { local: 0x04034b50, central: 0x02014b50, eocd: 0x06054b50, z64eocd: 0x06064b50, z64loc: 0x07064b50 };

/** Offsets of the size, length, offset and count fields of every record of a (valid) zip, with their widths. */
function fieldOffsets(bytes: Uint8Array): { at: number; width: 2 | 4 | 8; what: string }[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: { at: number; width: 2 | 4 | 8; what: string }[] = [];
  for (let p = 0; p + 4 <= bytes.length; p++) {
    const sig = dv.getUint32(p, true);
    if (sig === SIG.local && p + 30 <= bytes.length) {
      out.push({ at: p + 18, width: 4, what: 'local compressed size' }, { at: p + 22, width: 4, what: 'local size' });
      out.push(
        { at: p + 26, width: 2, what: 'local name length' },
        { at: p + 28, width: 2, what: 'local extra length' },
      );
    } else if (sig === SIG.central && p + 46 <= bytes.length) {
      for (const [o, w, what] of [
        [20, 4, 'compressed size'],
        [24, 4, 'uncompressed size'],
        [28, 2, 'name length'],
        [30, 2, 'extra length'],
        [32, 2, 'comment length'],
        [42, 4, 'local header offset'],
      ] as const)
        out.push({ at: p + o, width: w, what });
      // zip64 extra fields (8-byte sizes) after the name.
      const nameLength = dv.getUint16(p + 28, true);
      const extraLength = dv.getUint16(p + 30, true);
      for (let q = p + 46 + nameLength; q + 4 <= p + 46 + nameLength + extraLength; ) {
        const size = dv.getUint16(q + 2, true);
        if (dv.getUint16(q, true) === 1)
          for (let r = q + 4; r + 8 <= q + 4 + size; r += 8) out.push({ at: r, width: 8, what: 'zip64 field' });
        q += 4 + size;
      }
    } else if (sig === SIG.eocd && p + 22 <= bytes.length) {
      for (const [o, w, what] of [
        [8, 2, 'entries on disk'],
        [10, 2, 'entry count'],
        [12, 4, 'directory size'],
        [16, 4, 'directory offset'],
        [20, 2, 'comment length'],
      ] as const)
        out.push({ at: p + o, width: w, what });
    } else if (sig === SIG.z64eocd && p + 56 <= bytes.length) {
      for (const o of [24, 32, 40, 48]) out.push({ at: p + o, width: 8, what: 'zip64 end record field' });
    } else if (sig === SIG.z64loc && p + 20 <= bytes.length) {
      out.push({ at: p + 8, width: 8, what: 'zip64 end record offset' });
    }
  }
  return out;
}

function setField(bytes: Uint8Array, at: number, width: 2 | 4 | 8, value: bigint): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (width === 2) dv.setUint16(at, Number(value & 0xffffn), true);
  else if (width === 4) dv.setUint32(at, Number(value & 0xffffffffn), true);
  else dv.setBigUint64(at, value & 0xffffffffffffffffn, true);
}

/** Duplicates central directory record `k` (and fixes the end record's counts and size). */
function duplicateEntry(bytes: Uint8Array, k: number): Uint8Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = bytes.length - 22;
  while (eocd > 0 && dv.getUint32(eocd, true) !== SIG.eocd) eocd--;
  const cdOffset = dv.getUint32(eocd + 16, true);
  if (cdOffset === 0xffffffff) return bytes; // zip64 directory: left as is
  const records: [number, number][] = [];
  for (let p = cdOffset; dv.getUint32(p, true) === SIG.central; ) {
    const len = 46 + dv.getUint16(p + 28, true) + dv.getUint16(p + 30, true) + dv.getUint16(p + 32, true);
    records.push([p, len]);
    p += len;
  }
  const [start, len] = records[k % records.length]!;
  const out = new Uint8Array(bytes.length + len);
  out.set(bytes.subarray(0, eocd));
  out.set(bytes.subarray(start, start + len), eocd);
  out.set(bytes.subarray(eocd), eocd + len);
  const odv = new DataView(out.buffer);
  const e = eocd + len;
  odv.setUint16(e + 8, odv.getUint16(e + 8, true) + 1, true);
  odv.setUint16(e + 10, odv.getUint16(e + 10, true) + 1, true);
  odv.setUint32(e + 12, odv.getUint32(e + 12, true) + len, true);
  return out;
}

type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; xor: number }
  | { kind: 'field'; field: number; value: bigint }
  | { kind: 'duplicate'; entry: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({
    kind: fc.constant('field' as const),
    field: fc.nat(),
    value: fc.oneof(
      fc.constantFrom(0n, 1n, 0xffffn, 0xffffffffn, 2n ** 31n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    ),
  }),
  fc.record({ kind: fc.constant('duplicate' as const), entry: fc.nat() }),
);

function apply(bytes: Uint8Array, m: Mutation, fields: ReturnType<typeof fieldOffsets>): Uint8Array {
  switch (m.kind) {
    case 'truncate':
      return bytes.slice(0, m.at % bytes.length);
    case 'flip': {
      const out = bytes.slice();
      out[m.at % bytes.length]! ^= m.xor;
      return out;
    }
    case 'field': {
      const out = bytes.slice();
      const f = fields[m.field % fields.length]!;
      setField(out, f.at, f.width, m.value);
      return out;
    }
    case 'duplicate':
      return duplicateEntry(bytes.slice(), m.entry);
  }
}

function expectTyped(e: unknown): void {
  expect(e, String(e)).toBeInstanceOf(IoError);
  expect((e as Error).message).not.toMatch(/\n/);
  expect((e as Error).message.length).toBeLessThan(600);
}

function expectNumpyArrays(result: Map<string, { data: ArrayLike<number | bigint> }>, fixture: NpzFixture): void {
  expect([...result.keys()]).toEqual(fixture.entries.map((e) => e.replace(/\.npy$/, '')));
  for (const [k, a] of Object.entries(fixture.arrays)) {
    expectValues(result.get(k)!.data as never, a.values_file, k);
  }
}

describe('zip / npz fuzz (numpy-written .npz files)', () => {
  test('the fixtures themselves read to numpy values, and every field the mutations touch is found', () => {
    for (const f of files) {
      expectNumpyArrays(readNpz(f.bytes, f.name, CAP), f.fixture);
      expect(fieldOffsets(f.bytes).length).toBeGreaterThan(f.fixture.entries.length * 10);
    }
  });

  test('each mutation is a typed error or numpy values (readNpz, readZipEntry)', () => {
    const withFields = files.map((f) => ({ ...f, fields: fieldOffsets(f.bytes) }));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: files.length - 1 }), mutation, (which, m) => {
        const f = withFields[which]!;
        const damaged = apply(f.bytes, m, f.fields);
        let result: Map<string, { data: ArrayLike<number | bigint> }> | undefined;
        try {
          result = readNpz(damaged, 'damaged.npz', CAP);
        } catch (e) {
          expectTyped(e);
        }
        if (result !== undefined) expectNumpyArrays(result, f.fixture);
        // The raw entry reader: every entry either decodes to the bytes of the original entry or is refused.
        let entries: ReturnType<typeof listZipEntries> = [];
        try {
          entries = listZipEntries(damaged, 'damaged.npz');
        } catch (e) {
          expectTyped(e);
        }
        const original = new Map(
          listZipEntries(f.bytes, f.name).map((e) => [e.name, readZipEntry(f.bytes, e, f.name)]),
        );
        for (const e of entries) {
          try {
            const data = readZipEntry(damaged, e, 'damaged.npz', CAP);
            expect(Buffer.from(data).equals(Buffer.from(original.get(e.name)!))).toBe(true);
          } catch (err) {
            expectTyped(err);
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  test("an inflated uncompressed size is refused before inflating: TOO_LARGE over the cap, ZIP_CORRUPT past deflate's ratio", async () => {
    const f = files[1]!;
    const [entry] = listZipEntries(f.bytes, f.name);
    const raw = f.bytes.subarray(0, entry!.compressedSize); // any bytes: never inflated
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: CAP.maxEntryBytes + 1, max: Number.MAX_SAFE_INTEGER }), async (size) => {
        const inflated = { ...entry!, uncompressedSize: size };
        let error: unknown;
        try {
          await decodeEntryAsync(raw, inflated, 'bomb.npz', CAP);
        } catch (e) {
          error = e;
        }
        expectTyped(error);
        expect((error as IoError).code).toBe('TOO_LARGE');
        const roomy = { maxEntryBytes: Number.MAX_SAFE_INTEGER };
        try {
          await decodeEntryAsync(raw, inflated, 'bomb.npz', roomy);
          error = undefined;
        } catch (e) {
          error = e;
        }
        expectTyped(error);
        expect((error as IoError).code).toMatch(/^(ZIP_CORRUPT|TOO_LARGE)$/);
      }),
      { numRuns: 100 },
    );
  });
});
