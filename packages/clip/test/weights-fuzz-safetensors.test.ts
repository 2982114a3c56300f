// Fuzzing the safetensors reader: mutations of valid files written by clip_weights_hostile.py (truncation, bit flips
// in the header and in the data, an inflated header length, inflated or malformed shape and offset fields, duplicated
// entries). A mutated file either reads to the tensors torch.load reads from the original (for a bit flip in the
// data: those values with that one bit flipped; for a flip in a name: the same tensors, one renamed), or is refused
// with a WeightsError (a FairclipError with a code): never another error, never a hang. Seeds: FC_SEED / FC_NUM_RUNS.
import { FairclipError } from '@fairclip/io';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { readSafetensors, readWeights, type StateDict, WeightsError } from '../src/index.ts';
import { safetensorsWithHeader } from './weights-craft.ts';
import { HOSTILE, hostileFixture, type TensorExpect } from './weights-reference.ts';

interface Entry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

interface Base {
  name: string;
  bytes: Uint8Array;
  want: Record<string, TensorExpect>;
  header: Record<string, Entry>;
  dataStart: number;
}

function base(name: string, want: Record<string, TensorExpect>): Base {
  const bytes = new Uint8Array(hostileFixture(name)); // a plain copy: slice() copies
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, Entry>;
  delete header.__metadata__;
  return { name, bytes, want, header, dataStart: 8 + n };
}

const BASES = [base('tiny.safetensors', HOSTILE.tiny), base('nonfinite.safetensors', HOSTILE.nonfinite)];
const baseArb = fc.constantFrom(...BASES.map((b) => b.name)).map(
  (name) => BASES.find((b) => b.name === name)!,
  (b) => (b as Base).name,
);

const num = (v: number | string): number =>
  v === 'nan' ? Number.NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : (v as number);

/** Reference values as stored bytes (little-endian, in the file's dtype), built from torch's values. */
function storedBytes(e: Entry, t: TensorExpect): Uint8Array {
  const out = new Uint8Array(e.data_offsets[1] - e.data_offsets[0]);
  const dv = new DataView(out.buffer);
  t.values.forEach((v, i) => {
    if (e.dtype === 'F32') dv.setFloat32(4 * i, num(v), true);
    else if (e.dtype === 'I64') dv.setBigInt64(8 * i, BigInt(v), true);
    else if (e.dtype === 'F16') dv.setUint16(2 * i, halfBits(num(v)), true);
    else throw new Error(`dtype ${e.dtype} not in the fixtures`);
  });
  return out;
}

/** float16 bits of a value that is exactly a float16 (torch's upcast values are). */
function halfBits(v: number): number {
  if (Number.isNaN(v)) return 0x7e00;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === Infinity) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | Math.round(a / 2 ** -24);
  const exp = Math.floor(Math.log2(a));
  return sign | ((exp + 15) << 10) | Math.round((a / 2 ** exp - 1) * 1024);
}

/** float16 bits to a number. */
function halfValue(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** What a state dict must hold: the reference's stored bytes, decoded (float16 upcast, bool/int as int64). */
function decodeStored(e: Entry, raw: Uint8Array): number[] | bigint[] {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const n = e.shape.reduce((a, b) => a * b, 1);
  if (e.dtype === 'I64') return Array.from({ length: n }, (_, i) => dv.getBigInt64(8 * i, true));
  if (e.dtype === 'F16') return Array.from({ length: n }, (_, i) => Math.fround(halfValue(dv.getUint16(2 * i, true))));
  return Array.from({ length: n }, (_, i) => dv.getFloat32(4 * i, true));
}

function expectTensor(sd: StateDict, name: string, e: Entry, raw: Uint8Array, label: string): void {
  const t = sd.get(name);
  expect(t, `${label}: ${name}`).toBeDefined();
  expect(t!.shape, `${label}: ${name}`).toEqual(e.shape);
  expect([...t!.data], `${label}: ${name}`).toEqual(decodeStored(e, raw));
}

function refuse(e: unknown): 'refused' {
  expect(e, (e as Error)?.stack).toBeInstanceOf(WeightsError);
  expect(e).toBeInstanceOf(FairclipError);
  expect(typeof (e as WeightsError).code).toBe('string');
  expect((e as Error).message).not.toContain('\n');
  expect((e as Error).message.length).toBeLessThan(600);
  return 'refused';
}

/** Reads a file; also through readWeights (format detection, non-finite check), which must refuse or agree. */
function read(b: Base, bytes: Uint8Array): StateDict | 'refused' {
  try {
    readWeights(bytes, `fuzz-${b.name}`, { naming: 'openai' });
  } catch (e) {
    refuse(e);
  }
  try {
    return readSafetensors(bytes, `fuzz-${b.name}`).tensors;
  } catch (e) {
    return refuse(e);
  }
}

/** The reference tensors, each as its stored bytes, optionally with one byte of one tensor flipped. */
function expectReference(b: Base, sd: StateDict, label: string, rename?: Map<string, string>): void {
  const names = Object.keys(b.header).map((n) => rename?.get(n) ?? n);
  expect([...sd.keys()].sort(), label).toEqual(names.sort());
  for (const [name, e] of Object.entries(b.header)) {
    expectTensor(sd, rename?.get(name) ?? name, e, storedBytes(e, b.want[name]!), label);
  }
}

const unit = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });

describe('safetensors under mutation: the reference tensors or a WeightsError', () => {
  test('the originals read as torch.load reads them', () => {
    for (const b of BASES) {
      const sd = read(b, b.bytes);
      expect(sd).not.toBe('refused');
      expectReference(b, sd as StateDict, b.name);
    }
  });

  test('truncation is always refused', () => {
    fc.assert(
      fc.property(baseArb, unit, (b, f) => {
        expect(read(b, b.bytes.subarray(0, Math.floor(f * b.bytes.length)))).toBe('refused');
      }),
    );
  });

  test('a bit flip in the data: read, with exactly that bit of that value flipped', () => {
    fc.assert(
      fc.property(baseArb, unit, fc.integer({ min: 0, max: 7 }), (b, f, bit) => {
        const at = b.dataStart + Math.floor(f * (b.bytes.length - b.dataStart));
        const bytes = b.bytes.slice();
        bytes[at]! ^= 1 << bit;
        const sd = read(b, bytes);
        expect(sd, 'a flipped data bit leaves a valid file').not.toBe('refused');
        for (const [name, e] of Object.entries(b.header)) {
          const raw = storedBytes(e, b.want[name]!);
          const rel = at - b.dataStart - e.data_offsets[0];
          if (rel >= 0 && rel < raw.length) raw[rel]! ^= 1 << bit;
          expectTensor(sd as StateDict, name, e, raw, `flip ${at}:${bit}`);
        }
      }),
    );
  });

  test('bit flips in the header: refused, or the same tensors (one possibly renamed)', () => {
    fc.assert(
      fc.property(baseArb, unit, fc.integer({ min: 0, max: 7 }), (b, f, bit) => {
        const at = Math.floor(f * b.dataStart);
        const bytes = b.bytes.slice();
        bytes[at]! ^= 1 << bit;
        const sd = read(b, bytes);
        if (sd === 'refused') return;
        // Which name did the flip change, if any? (The header as the test reads it: the flip is in one JSON string.)
        const got = new Set(sd.keys());
        const lost = Object.keys(b.header).filter((n) => !got.has(n));
        const gained = [...got].filter((n) => !(n in b.header));
        expect(lost.length, `flip ${at}:${bit}`).toBe(gained.length);
        expect(lost.length, `flip ${at}:${bit}`).toBeLessThanOrEqual(1);
        expectReference(b, sd, `flip ${at}:${bit}`, new Map(lost.map((n, i) => [n, gained[i]!])));
      }),
    );
  });

  test('an inflated header length is refused', () => {
    fc.assert(
      fc.property(
        baseArb,
        fc.oneof(
          fc.constantFrom(2n ** 64n - 1n, 2n ** 63n, 2n ** 32n, 100_000_001n, 16n * 2n ** 20n + 1n),
          fc.integer({ min: 1, max: 64 }).map((k) => -BigInt(k)), // relative: the true length + k
        ),
        (b, v) => {
          const bytes = b.bytes.slice();
          const n = BigInt(b.dataStart - 8);
          const declared = v < 0n ? n - v : v;
          new DataView(bytes.buffer).setBigUint64(0, declared, true);
          expect(read(b, bytes)).toBe('refused');
        },
      ),
    );
  });

  test('an inflated, negative or fractional shape or offset field is refused', () => {
    const fields = BASES.flatMap((b) =>
      Object.entries(b.header).flatMap(([name, e]) => [
        ...e.shape.map((_, i) => ({ b, name, field: 'shape' as const, i })),
        { b, name, field: 'data_offsets' as const, i: 0 },
        { b, name, field: 'data_offsets' as const, i: 1 },
      ]),
    );
    fc.assert(
      fc.property(
        fc.nat(fields.length - 1),
        fc.constantFrom(2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 1e300, -1, 0.5, 'plus1'),
        (k, value) => {
          const { b, name, field, i } = fields[k]!;
          const header: Record<string, unknown> = JSON.parse(JSON.stringify(b.header));
          const entry = header[name] as Entry;
          const v: number = value === 'plus1' ? entry[field][i]! + 1 : (value as number);
          // A begin moved by one past an empty tensor's end, or an end past the buffer: still refused.
          entry[field][i] = v;
          const data = b.bytes.subarray(b.dataStart);
          const head = safetensorsWithHeader(JSON.stringify(header));
          const bytes = new Uint8Array(head.length + data.length);
          bytes.set(head);
          bytes.set(data, head.length);
          expect(read(b, bytes), `${name}.${field}[${i}] = ${v}`).toBe('refused');
        },
      ),
    );
  });

  test('a duplicated entry: the same tensors (the last copy counts, as in Python) or refused', () => {
    fc.assert(
      fc.property(baseArb, fc.nat(), fc.nat(), (b, pick, other) => {
        const names = Object.keys(b.header);
        const name = names[pick % names.length]!;
        // The copy holds the entry itself or another tensor's fields.
        const copy = b.header[names[other % names.length]!]!;
        const text = new TextDecoder().decode(b.bytes.subarray(8, b.dataStart)).trimEnd();
        const json = `${text.slice(0, -1)},${JSON.stringify(name)}:${JSON.stringify(copy)}}`;
        const head = safetensorsWithHeader(json);
        const data = b.bytes.subarray(b.dataStart);
        const bytes = new Uint8Array(head.length + data.length);
        bytes.set(head);
        bytes.set(data, head.length);
        const sd = read(b, bytes);
        if (copy === b.header[name]) {
          expect(sd).not.toBe('refused');
          expectReference(b, sd as StateDict, `duplicate ${name}`);
        } else if (sd !== 'refused') {
          // Another tensor's fields under this name: only possible when both hold the same bytes, which these do not.
          throw new Error(`duplicate ${name} with ${JSON.stringify(copy)} was read`);
        }
      }),
    );
  });
});
