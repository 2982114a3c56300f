// An "honest" npz bomb in a FairVLMed sample: the label and attribute entries of a real sample plus a `slo_fundus`
// float32 image whose deflate stream really inflates to the size it declares (zeros; 1 MiB full-flushed blocks
// repeated, then an empty final block). About 1 KB on disk per MiB declared.
import { writeFileSync } from 'node:fs';
import { constants, crc32, deflateRawSync } from 'node:zlib';
import { encodeNpy, type NpyInput } from '@fairclip/io';

const MiB = 1024 * 1024;

interface RawEntry {
  name: string;
  method: 0 | 8;
  data: Uint8Array;
  crc: number;
  size: number;
}

/** A deflated `.npy` of a float32 [h, w] image of zeros, built without allocating it. */
function zeroImageEntry(h: number, w: number): RawEntry {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${h}, ${w}), }`;
  const header = new Uint8Array(128);
  header.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]);
  header.set(new TextEncoder().encode(`${dict}${' '.repeat(118 - dict.length - 1)}\n`), 10);
  const dataBytes = h * w * 4;
  if (dataBytes % MiB !== 0) throw new Error('image bytes must be a multiple of 1 MiB');
  const flush = { finishFlush: constants.Z_FULL_FLUSH, level: 9 };
  const zeros = new Uint8Array(MiB);
  const parts: Uint8Array[] = [deflateRawSync(header, flush)];
  let crc = crc32(header);
  const block = deflateRawSync(zeros, flush);
  for (let i = 0; i < dataBytes / MiB; i++) {
    parts.push(block);
    crc = crc32(zeros, crc);
  }
  parts.push(Uint8Array.of(0x03, 0x00));
  return { name: 'slo_fundus.npy', method: 8, data: Buffer.concat(parts), crc: crc >>> 0, size: 128 + dataBytes };
}

function zip(entries: RawEntry[]): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = new TextEncoder().encode(e.name);
    const l = new DataView(new ArrayBuffer(30));
    l.setUint32(0, 0x04034b50, true);
    l.setUint16(4, 20, true);
    l.setUint16(8, e.method, true);
    l.setUint32(14, e.crc, true);
    l.setUint32(18, e.data.length, true);
    l.setUint32(22, e.size, true);
    l.setUint16(26, name.length, true);
    const c = new DataView(new ArrayBuffer(46));
    c.setUint32(0, 0x02014b50, true);
    c.setUint16(4, 20, true);
    c.setUint16(6, 20, true);
    c.setUint16(10, e.method, true);
    c.setUint32(16, e.crc, true);
    c.setUint32(20, e.data.length, true);
    c.setUint32(24, e.size, true);
    c.setUint16(28, name.length, true);
    c.setUint32(42, offset, true);
    locals.push(new Uint8Array(l.buffer), name, e.data);
    centrals.push(new Uint8Array(c.buffer), name);
    offset += 30 + name.length + e.data.length;
  }
  const cdSize = centrals.reduce((a, b) => a + b.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, cdSize, true);
  end.setUint32(16, offset, true);
  return Buffer.concat([...locals, ...centrals, new Uint8Array(end.buffer)]);
}

/** Writes a FairVLMed sample npz whose image declares [h, w] float32 zeros; returns the file size. */
export function writeSampleBomb(path: string, h: number, w: number): number {
  const scalar = (v: number): NpyInput => ({ dtype: 'int64', shape: [], data: BigInt64Array.of(BigInt(v)) });
  const scalars: [string, NpyInput][] = [
    ['glaucoma', scalar(1)],
    ['race', scalar(0)],
    ['gender', scalar(1)],
    ['ethnicity', scalar(0)],
    ['language', scalar(0)],
    ['maritalstatus', scalar(0)],
  ];
  const entries: RawEntry[] = scalars.map(([k, a]) => {
    const data = encodeNpy(a);
    return { name: `${k}.npy`, method: 0, data, crc: crc32(data) >>> 0, size: data.length };
  });
  entries.push(zeroImageEntry(h, w));
  const bytes = zip(entries);
  writeFileSync(path, bytes);
  return bytes.length;
}
