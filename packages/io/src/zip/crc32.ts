// CRC-32 (IEEE 802.3, the zip checksum). Uses node:zlib's native crc32 where the runtime has it (Node >= 20.15),
// a table-driven JavaScript version otherwise.
import * as zlib from 'node:zlib';

let crcTable: Uint32Array | undefined;

function table(): Uint32Array {
  if (crcTable) return crcTable;
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  crcTable = t;
  return t;
}

/** CRC-32 in plain JavaScript (the reference the native path is tested against). */
export function crc32Js(data: Uint8Array, initial = 0): number {
  const t = table();
  let c = (initial ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 of `data` (continuing from `initial`), as an unsigned 32-bit number. */
export function crc32(data: Uint8Array, initial = 0): number {
  if (nativeCrc32 !== undefined) return nativeCrc32(data, initial) >>> 0;
  return crc32Js(data, initial);
}
