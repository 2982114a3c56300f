// Builds "honest" zip bombs for the memory tests: an .npz whose one entry really inflates to the size it declares
// (a uint8 .npy of zeros), a few MB on disk. The deflate stream is one block of 1 MiB of data, full-flushed (no
// back-references across it), repeated, then an empty final block; the CRC-32 is that of the declared data.
import { writeFileSync } from 'node:fs';
import { constants, crc32, deflateRawSync } from 'node:zlib';

const MiB = 1024 * 1024;

/** A .npy header (version 1.0, padded to 128 bytes) for a uint8 vector of `n` elements. */
export function npyHeader(n: number, descr = '|u1'): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${n},), }`;
  const total = 128;
  const text = `${dict}${' '.repeat(total - 10 - dict.length - 1)}\n`;
  const out = new Uint8Array(total);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, (total - 10) & 0xff, (total - 10) >> 8]);
  out.set(new TextEncoder().encode(text), 10);
  return out;
}

/** Writes an .npz at `path` with one deflated entry `<key>.npy` that inflates to `declaredMiB` MiB. */
export function writeHonestNpzBomb(
  path: string,
  key: string,
  declaredMiB: number,
): { bytes: number; declared: number } {
  const declared = declaredMiB * MiB;
  const first = new Uint8Array(MiB);
  first.set(npyHeader(declared - 128));
  const zeros = new Uint8Array(MiB);
  const flush = { finishFlush: constants.Z_FULL_FLUSH, level: 9 };
  const head = deflateRawSync(first, flush);
  const block = deflateRawSync(zeros, flush);
  const tail = Uint8Array.of(0x03, 0x00); // an empty final block (fixed Huffman, end of block)
  let crc = crc32(first);
  for (let i = 1; i < declaredMiB; i++) crc = crc32(zeros, crc);
  const compressed = head.length + block.length * (declaredMiB - 1) + tail.length;
  const name = new TextEncoder().encode(`${key}.npy`);
  const local = new DataView(new ArrayBuffer(30));
  local.setUint32(0, 0x04034b50, true);
  local.setUint16(4, 20, true);
  local.setUint16(8, 8, true);
  local.setUint32(14, crc >>> 0, true);
  local.setUint32(18, compressed, true);
  local.setUint32(22, declared >>> 0, true);
  local.setUint16(26, name.length, true);
  const central = new DataView(new ArrayBuffer(46));
  central.setUint32(0, 0x02014b50, true);
  central.setUint16(4, 20, true);
  central.setUint16(6, 20, true);
  central.setUint16(10, 8, true);
  central.setUint32(16, crc >>> 0, true);
  central.setUint32(20, compressed, true);
  central.setUint32(24, declared >>> 0, true);
  central.setUint16(28, name.length, true);
  const cdOffset = 30 + name.length + compressed;
  const eocd = new DataView(new ArrayBuffer(22));
  eocd.setUint32(0, 0x06054b50, true);
  eocd.setUint16(8, 1, true);
  eocd.setUint16(10, 1, true);
  eocd.setUint32(12, 46 + name.length, true);
  eocd.setUint32(16, cdOffset, true);
  const parts: Uint8Array[] = [new Uint8Array(local.buffer), name, head];
  for (let i = 1; i < declaredMiB; i++) parts.push(block);
  parts.push(tail, new Uint8Array(central.buffer), name, new Uint8Array(eocd.buffer));
  const out = Buffer.concat(parts);
  writeFileSync(path, out);
  return { bytes: out.length, declared };
}
