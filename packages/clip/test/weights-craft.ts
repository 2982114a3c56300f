// Hand-made PyTorch checkpoints for the hostile-input tests: a protocol-2 pickle writer for state dicts of
// `_rebuild_tensor_v2` calls (what torch.save writes, with any sizes, strides, offsets and storage sizes) and a zip
// writer that stores given bytes under given headers (declared sizes, deflated data made elsewhere, any CRC), so that
// a test can declare what a hostile file declares. Used in-process and by the child scripts under test/spawned/.
import { deflateRawSync, constants as zlibConstants } from 'node:zlib';

const enc = new TextEncoder();

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 (zip's), for stored entries. */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Pickle opcodes and arguments, concatenated. */
export function bytesOf(...parts: (number | Uint8Array | number[])[]): Uint8Array {
  const flat: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') flat.push(p);
    else flat.push(...p);
  }
  return new Uint8Array(flat);
}

/** BINUNICODE. */
export function pStr(s: string): Uint8Array {
  const b = enc.encode(s);
  return bytesOf(0x58, b.length & 0xff, (b.length >> 8) & 0xff, (b.length >> 16) & 0xff, b.length >>> 24, b);
}

/** LONG1 of 8 bytes: any integer in [-2^63, 2^63). */
export function pInt(v: number | bigint): Uint8Array {
  let x = BigInt.asUintN(64, BigInt(v));
  const out = [0x8a, 8];
  for (let i = 0; i < 8; i++) {
    out.push(Number(x & 0xffn));
    x >>= 8n;
  }
  return new Uint8Array(out);
}

/** GLOBAL module\nname\n. */
export function pGlobal(module: string, name: string): Uint8Array {
  return bytesOf(0x63, enc.encode(`${module}\n${name}\n`));
}

/** MARK items… TUPLE. */
export function pTuple(items: Uint8Array[]): Uint8Array {
  return bytesOf(0x28, ...items, 0x74);
}

export interface CraftTensor {
  /** Pickle bytes of the key (default: the BINUNICODE of `name`). */
  key?: Uint8Array;
  name: string;
  storageType?: string;
  storageKey: string;
  numel: number | bigint;
  offset: number | bigint;
  size: (number | bigint)[];
  stride: (number | bigint)[];
}

/** The pickle of `_rebuild_tensor_v2(storage, offset, size, stride, False, {})` for one tensor. */
export function pTensor(t: CraftTensor): Uint8Array {
  const pid = pTuple([
    pStr('storage'),
    pGlobal('torch', t.storageType ?? 'FloatStorage'),
    pStr(t.storageKey),
    pStr('cpu'),
    pInt(t.numel),
  ]);
  return bytesOf(
    pGlobal('torch._utils', '_rebuild_tensor_v2'),
    pTuple([
      bytesOf(pid, 0x51),
      pInt(t.offset),
      pTuple(t.size.map(pInt)),
      pTuple(t.stride.map(pInt)),
      bytesOf(0x89),
      bytesOf(0x7d),
    ]),
    0x52,
  );
}

/** A protocol-2 pickle of a dict {key: tensor, …}; `wrap` nests it as the value of a top-level key. */
export function pickleStateDict(tensors: CraftTensor[], prefix: Uint8Array = new Uint8Array(0)): Uint8Array {
  const items = tensors.map((t) => bytesOf(t.key ?? pStr(t.name), pTensor(t)));
  return bytesOf(0x80, 2, prefix, 0x7d, 0x28, ...items, 0x75, 0x2e);
}

/**
 * Pickle bytes that leave on the stack a tuple nested `depth` levels deep, each level `(t, t)` of the one below
 * (shared through the memo): 2^depth leaves in a few bytes per level.
 */
export function pNestedTupleKey(depth: number): Uint8Array {
  const parts: Uint8Array[] = [pStr('k'), bytesOf(0x71, 1, 0x30)];
  for (let i = 1; i <= depth; i++) parts.push(bytesOf(0x68, i, 0x68, i, 0x86, 0x71, i + 1, 0x30));
  parts.push(bytesOf(0x68, depth + 1));
  return bytesOf(...parts);
}

export interface CraftEntry {
  name: string;
  /** The bytes stored in the archive (deflated data when method is 8). */
  data: Uint8Array;
  method?: 0 | 8;
  /** Declared uncompressed size (default data.length). */
  uncompressedSize?: number;
  /** Declared CRC-32 (default: the CRC of data, right for stored entries). */
  crc?: number;
}

/** A zip archive (no zip64: sizes below 4 GiB) holding the entries exactly as declared. */
export function craftZip(entries: CraftEntry[]): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    const method = e.method ?? 0;
    const size = e.uncompressedSize ?? e.data.length;
    const crc = e.crc ?? crc32(e.data);
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, method, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, e.data.length, true);
    lv.setUint32(22, size, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const central = new Uint8Array(46 + name.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, method, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, e.data.length, true);
    cv.setUint32(24, size, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    central.set(name, 46);
    locals.push(local, e.data);
    centrals.push(central);
    offset += local.length + e.data.length;
  }
  const cdSize = centrals.reduce((n, c) => n + c.length, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + 22);
  let at = 0;
  for (const part of [...locals, ...centrals, eocd]) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A torch.save-like archive: archive/data.pkl, archive/byteorder, and the given storages (stored). */
export function craftCheckpoint(pickle: Uint8Array, storages: Record<string, Uint8Array>): Uint8Array {
  return craftZip([
    { name: 'archive/data.pkl', data: pickle },
    { name: 'archive/byteorder', data: enc.encode('little') },
    ...Object.entries(storages).map(([key, data]) => ({ name: `archive/data/${key}`, data })),
    { name: 'archive/version', data: enc.encode('3\n') },
  ]);
}

/**
 * A raw deflate stream of `mib` MiB of zeros without ever holding them: one MiB deflated with a full flush (a chunk
 * that refers to nothing before it), repeated, then an empty final block.
 */
export function deflatedZeros(mib: number): Uint8Array {
  const chunk = deflateRawSync(new Uint8Array(2 ** 20), { level: 9, finishFlush: zlibConstants.Z_FULL_FLUSH });
  const end = deflateRawSync(new Uint8Array(0));
  const out = new Uint8Array(chunk.length * mib + end.length);
  for (let i = 0; i < mib; i++) out.set(chunk, i * chunk.length);
  out.set(end, chunk.length * mib);
  return out;
}

/** The memory bombs of issue 14 (and their safetensors relatives), each a few bytes to a few MB. */
export function bomb(kind: string): { bytes: Uint8Array; file: string } {
  const f32one = new Uint8Array(4);
  switch (kind) {
    case 'deflated-storage': {
      // 3.2 GB of zeros declared honestly by the pickle (800M floats) and by the zip entry, from ~3 MB of deflate.
      const mib = 3200;
      const numel = (mib * 2 ** 20) / 4;
      const pkl = pickleStateDict([{ name: 'w', storageKey: '0', numel, offset: 0, size: [numel], stride: [1] }]);
      const data = deflatedZeros(mib);
      const bytes = craftZip([
        { name: 'archive/data.pkl', data: pkl },
        // The CRC of 3.2 GB of zeros is not computed: a reader never gets that far without inflating everything.
        { name: 'archive/data/0', data, method: 8, uncompressedSize: mib * 2 ** 20, crc: 0 },
      ]);
      return { bytes, file: 'deflate-bomb.pt' };
    }
    case 'stride0-16384': {
      const pkl = pickleStateDict([
        { name: 'w', storageKey: '0', numel: 1, offset: 0, size: [16384, 16384], stride: [0, 0] },
      ]);
      return { bytes: craftCheckpoint(pkl, { '0': f32one }), file: 'stride0.pt' };
    }
    case 'stride0-2^31x2': {
      const pkl = pickleStateDict([
        { name: 'w', storageKey: '0', numel: 1, offset: 0, size: [2 ** 31, 2], stride: [0, 0] },
      ]);
      return { bytes: craftCheckpoint(pkl, { '0': f32one }), file: 'stride0-big.pt' };
    }
    case 'nested-tuple-key': {
      const pkl = pickleStateDict([
        { key: pNestedTupleKey(34), name: '', storageKey: '0', numel: 1, offset: 0, size: [1], stride: [1] },
      ]);
      return { bytes: craftCheckpoint(pkl, { '0': f32one }), file: 'tuple-key.pt' };
    }
    case 'safetensors-deep-header': {
      // 15 MiB of nested lists under the default 16 MiB header cap (JSON.parse would build ~700 MB from it).
      const depth = (15 * 2 ** 20) / 2;
      const json = new Uint8Array(2 * depth + 6);
      json.set(enc.encode('{"a":'));
      json.fill(0x5b, 5, 5 + depth);
      json.fill(0x5d, 5 + depth, 5 + 2 * depth);
      json[json.length - 1] = 0x7d;
      return { bytes: safetensorsWithHeader(json), file: 'deep.safetensors' };
    }
    case 'safetensors-wide-header': {
      // 15 MiB of tiny entries `"k123":{}`, 1.5 million keys (JSON.parse: ~30 s and ~450 MB).
      return {
        bytes: safetensorsWithHeader(repeatedEntries(15 * 2 ** 20, (i) => `"k${i}":{}`)),
        file: 'wide.safetensors',
      };
    }
    case 'safetensors-most-entries': {
      // The largest header accepted by entry count: 99,999 empty tensors (a valid file).
      const entry = (i: number) => `"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`;
      return {
        bytes: safetensorsWithHeader(repeatedEntries(Number.POSITIVE_INFINITY, entry, 99_999)),
        file: 'many.safetensors',
      };
    }
    default:
      throw new Error(`unknown bomb ${kind}`);
  }
}

/** `{e(0),e(1),…}` up to `maxBytes` bytes or `maxCount` entries, written straight into one buffer. */
function repeatedEntries(
  maxBytes: number,
  entry: (i: number) => string,
  maxCount = Number.POSITIVE_INFINITY,
): Uint8Array {
  let out = new Uint8Array(Math.min(maxBytes, 2 ** 20));
  out[0] = 0x7b;
  let length = 1;
  for (let i = 0; i < maxCount; i++) {
    const text = `${i === 0 ? '' : ','}${entry(i)}`;
    if (length + text.length + 1 > maxBytes) break;
    if (length + 4 * text.length + 1 > out.length) {
      const grown = new Uint8Array(
        Math.min(
          Math.max(out.length * 2, length + 4 * text.length + 1),
          maxBytes === Number.POSITIVE_INFINITY ? Number.MAX_SAFE_INTEGER : maxBytes,
        ),
      );
      grown.set(out.subarray(0, length));
      out = grown;
    }
    length += enc.encodeInto(text, out.subarray(length)).written;
  }
  out[length++] = 0x7d;
  return out.subarray(0, length);
}

/** A safetensors file with the given header (text or bytes) and no data. */
export function safetensorsWithHeader(json: string | Uint8Array): Uint8Array {
  const header = typeof json === 'string' ? enc.encode(json) : json;
  const out = new Uint8Array(8 + header.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  return out;
}
