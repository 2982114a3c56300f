// A minimal zip writer (stored or deflated entries, CRC-32, zip64 records when sizes or offsets need them), enough to
// write .npz files that numpy.load reads.
import { deflateRawSync } from 'node:zlib';
import { IoError } from '../errors.ts';
import { crc32 } from './crc32.ts';
import { checkEntryPath } from './read.ts';

/** One file to put into an archive. */
export interface ZipInput {
  name: string;
  data: Uint8Array;
}

export interface ZipWriteOptions {
  /** Deflate the entries (like numpy.savez_compressed); stored otherwise (like numpy.savez). Default true. */
  compress?: boolean;
  /** zlib level 0..9 (default 6, Python's zipfile default). */
  level?: number;
  /** Modification time written into the headers (default 1980-01-01 00:00, for reproducible output). */
  date?: Date;
  /**
   * Write zip64 records even when nothing needs them: zip64 sizes and offsets in every header and the zip64 end
   * records (what Python's `force_zip64` does for entries). Default false: only when sizes, offsets or the entry
   * count exceed the classic limits.
   */
  forceZip64?: boolean;
}

const U32_MAX = 0xffffffff;

function dosDateTime(d: Date): { time: number; date: number } {
  const year = Math.min(Math.max(d.getUTCFullYear(), 1980), 2107);
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
    date: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

function setU64(dv: DataView, offset: number, value: number): void {
  dv.setUint32(offset, value % 0x1_0000_0000, true);
  dv.setUint32(offset + 4, Math.floor(value / 0x1_0000_0000), true);
}

/** Builds a zip archive in memory. Names are checked like the reader checks them (no absolute paths, no `..`). */
export function writeZip(inputs: readonly ZipInput[], options: ZipWriteOptions = {}): Uint8Array {
  const compress = options.compress ?? true;
  const level = options.level ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new IoError('BAD_ARGUMENT', `zip level must be an integer 0..9, got ${level}`);
  }
  const { time, date } = dosDateTime(options.date ?? new Date(Date.UTC(1980, 0, 1)));
  const encoder = new TextEncoder();
  const names = new Set<string>();
  const force = options.forceZip64 ?? false;

  // Pass 1: names, checksums, bodies, and where everything goes.
  interface Planned {
    name: Uint8Array;
    flags: number;
    method: number;
    crc: number;
    body: Uint8Array;
    size: number;
    big: boolean;
    offset: number;
    offBig: boolean;
  }
  const plan: Planned[] = [];
  let offset = 0;
  let cdSize = 0;
  for (const input of inputs) {
    checkEntryPath(input.name, '<zip being written>');
    if (names.has(input.name)) throw new IoError('BAD_ARGUMENT', `duplicate zip entry ${JSON.stringify(input.name)}`);
    names.add(input.name);
    const name = encoder.encode(input.name);
    let body = input.data;
    if (compress) {
      const d = deflateRawSync(input.data, { level });
      body = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    }
    const size = input.data.length;
    const big = force || size >= U32_MAX || body.length >= U32_MAX;
    const offBig = force || offset >= U32_MAX;
    plan.push({
      name,
      flags: name.length === input.name.length ? 0 : 0x800,
      method: compress ? 8 : 0,
      crc: crc32(input.data),
      body,
      size,
      big,
      offset,
      offBig,
    });
    offset += 30 + name.length + (big ? 20 : 0) + body.length;
    cdSize += 46 + name.length + ((big ? 16 : 0) + (offBig ? 8 : 0) > 0 ? 4 + (big ? 16 : 0) + (offBig ? 8 : 0) : 0);
  }
  const cdOffset = offset;
  const count = inputs.length;
  const zip64 = force || count >= 0xffff || cdOffset >= U32_MAX || cdSize >= U32_MAX;
  const out = new Uint8Array(cdOffset + cdSize + (zip64 ? 76 : 0) + 22);
  const dv = new DataView(out.buffer);

  // Pass 2: local headers + data, then the central directory, then the end records.
  for (const e of plan) {
    let p = e.offset;
    dv.setUint32(p, 0x04034b50, true);
    dv.setUint16(p + 4, e.big ? 45 : 20, true);
    dv.setUint16(p + 6, e.flags, true);
    dv.setUint16(p + 8, e.method, true);
    dv.setUint16(p + 10, time, true);
    dv.setUint16(p + 12, date, true);
    dv.setUint32(p + 14, e.crc, true);
    dv.setUint32(p + 18, e.big ? U32_MAX : e.body.length, true);
    dv.setUint32(p + 22, e.big ? U32_MAX : e.size, true);
    dv.setUint16(p + 26, e.name.length, true);
    dv.setUint16(p + 28, e.big ? 20 : 0, true);
    out.set(e.name, p + 30);
    p += 30 + e.name.length;
    if (e.big) {
      dv.setUint16(p, 0x0001, true);
      dv.setUint16(p + 2, 16, true);
      setU64(dv, p + 4, e.size);
      setU64(dv, p + 12, e.body.length);
      p += 20;
    }
    out.set(e.body, p);
  }
  let p = cdOffset;
  for (const e of plan) {
    // zip64 extra with the saturated fields, in the order size, csize, offset.
    const z64: number[] = [];
    if (e.big) z64.push(e.size, e.body.length);
    if (e.offBig) z64.push(e.offset);
    const extra = z64.length > 0 ? 4 + 8 * z64.length : 0;
    const v = e.big || e.offBig ? 45 : 20;
    dv.setUint32(p, 0x02014b50, true);
    dv.setUint16(p + 4, v, true);
    dv.setUint16(p + 6, v, true);
    dv.setUint16(p + 8, e.flags, true);
    dv.setUint16(p + 10, e.method, true);
    dv.setUint16(p + 12, time, true);
    dv.setUint16(p + 14, date, true);
    dv.setUint32(p + 16, e.crc, true);
    dv.setUint32(p + 20, e.big ? U32_MAX : e.body.length, true);
    dv.setUint32(p + 24, e.big ? U32_MAX : e.size, true);
    dv.setUint16(p + 28, e.name.length, true);
    dv.setUint16(p + 30, extra, true);
    dv.setUint32(p + 38, 0o600 << 16, true);
    dv.setUint32(p + 42, e.offBig ? U32_MAX : e.offset, true);
    out.set(e.name, p + 46);
    p += 46 + e.name.length;
    if (extra > 0) {
      dv.setUint16(p, 0x0001, true);
      dv.setUint16(p + 2, 8 * z64.length, true);
      z64.forEach((x, i) => setU64(dv, p + 4 + 8 * i, x));
      p += extra;
    }
  }
  if (zip64) {
    dv.setUint32(p, 0x06064b50, true);
    setU64(dv, p + 4, 44);
    dv.setUint16(p + 12, 45, true);
    dv.setUint16(p + 14, 45, true);
    setU64(dv, p + 24, count);
    setU64(dv, p + 32, count);
    setU64(dv, p + 40, cdSize);
    setU64(dv, p + 48, cdOffset);
    dv.setUint32(p + 56, 0x07064b50, true);
    setU64(dv, p + 64, cdOffset + cdSize);
    dv.setUint32(p + 72, 1, true);
    p += 76;
  }
  dv.setUint32(p, 0x06054b50, true);
  dv.setUint16(p + 8, zip64 ? 0xffff : count, true);
  dv.setUint16(p + 10, zip64 ? 0xffff : count, true);
  dv.setUint32(p + 12, zip64 ? U32_MAX : cdSize, true);
  dv.setUint32(p + 16, zip64 ? U32_MAX : cdOffset, true);
  return out;
}
