/**
 * safetensors (https://github.com/huggingface/safetensors, format as documented there): 8-byte little-endian header
 * length N, N bytes of JSON `{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__": { str: str } }`,
 * then the data buffer. Reading validates the header completely before touching data (length inside the file, JSON,
 * dtypes, shapes, offsets consistent with shapes, inside the buffer, without overlaps or holes); floats become
 * float32, integers int64. Writing sorts the names, pads the header with spaces to a multiple of 8 bytes and stores
 * `__metadata__`.
 */
import { decodeBFloat16, decodeFloat16, numberToBFloat16Bits, numberToHalfBits } from '@fairclip/io';
import { cut, quoteName } from './describe.ts';
import { WeightsError } from './errors.ts';
import { DecodeBudget, formatBytes, type WeightsLimits } from './limits.ts';
import { type HostTensor, numel, type StateDict } from './state-dict.ts';

export type SafetensorsDtype =
  | 'F64'
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'I64'
  | 'I32'
  | 'I16'
  | 'I8'
  | 'U64'
  | 'U32'
  | 'U16'
  | 'U8'
  | 'BOOL';

const DTYPE_BYTES: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

/** Largest header we ever accept (the reference implementation's limit is 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

/**
 * Largest header read by default: 16 MiB, some 300 times the header of ViT-L/14 (JSON.parse needs up to ~20 bytes of
 * memory per header byte, so the reference's 100 MB would cost 2 GB).
 */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 2 ** 20;

/** Largest tensor rank accepted (torch's own limit is 64). */
export const MAX_RANK = 64;

/**
 * Most entries (tensors and `__metadata__`) a header may list: some 160 times ViT-L/14's count. JSON.parse of an
 * object with millions of keys takes minutes, so the count is checked before parsing.
 */
export const MAX_HEADER_ENTRIES = 100_000;

/** Most fields in one entry (a tensor has 3; `__metadata__` holds a few strings). */
export const MAX_FIELDS_PER_ENTRY = 4096;

export interface ReadSafetensorsOptions extends WeightsLimits {
  /** Largest header length read (default DEFAULT_MAX_HEADER_BYTES; never more than MAX_HEADER_BYTES). */
  maxHeaderBytes?: number;
  /** Called with every tensor's name and shape after the header is validated and before any data is decoded. */
  checkShapes?: (shapes: ReadonlyMap<string, readonly number[]>) => void;
}

/**
 * Checks the shape of the header's JSON before parsing it: an object of objects whose values are strings, numbers or
 * flat lists of at most MAX_RANK + 1 items (a safetensors header is nothing else), so that no header can make
 * JSON.parse build deep or wide structures far larger than itself. Returns a reason, or undefined when the layout is
 * right.
 */
function headerLayoutProblem(raw: Uint8Array): string | undefined {
  let depth = 0;
  let inString = false;
  /** Commas seen in the current flat list, the current entry and the header object. */
  let items = 0;
  let fields = 0;
  let entries = 0;
  // Containers by depth: 1 the header object, 2 an entry (or __metadata__) object, 3 a flat array.
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x2c) {
      if (depth === 3 && ++items > MAX_RANK) {
        return `header is not a safetensors header: a list of more than ${MAX_RANK + 1} numbers`;
      }
      if (depth === 2 && ++fields >= MAX_FIELDS_PER_ENTRY) {
        return `header is not a safetensors header: an entry with more than ${MAX_FIELDS_PER_ENTRY} fields`;
      }
      if (depth === 1 && ++entries >= MAX_HEADER_ENTRIES) {
        return `the header lists more than ${MAX_HEADER_ENTRIES} tensors`;
      }
    } else if (c === 0x7b || c === 0x5b) {
      items = 0;
      if (depth === 1) fields = 0;
      depth++;
      const isObject = c === 0x7b;
      if (depth > 3) return 'header is not a safetensors header: JSON nested deeper than its 3 levels';
      if (depth === 1 && !isObject) return 'header is not a JSON object';
      if (depth <= 2 !== isObject) {
        return depth === 2
          ? 'header is not a safetensors header: a tensor entry is a list, not an object'
          : 'header is not a safetensors header: a field of an entry is an object (fields are strings, numbers or flat lists)';
      }
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth < 0) return 'header is not valid JSON: unbalanced brackets';
    }
  }
  return undefined;
}

export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Offsets into the data buffer (after the header). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** Byte offset of the data buffer in the file. */
  dataStart: number;
}

function corrupt(file: string, msg: string): never {
  throw new WeightsError('SAFETENSORS_CORRUPT', msg, { file });
}

/** Parses and validates the header (no tensor data is decoded). */
export function readSafetensorsHeader(
  bytes: Uint8Array,
  file = 'safetensors',
  options: Pick<ReadSafetensorsOptions, 'maxHeaderBytes'> = {},
): SafetensorsHeader {
  if (bytes.length < 8) corrupt(file, `file has ${bytes.length} bytes, less than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) {
    corrupt(
      file,
      `header length ${n} runs past the end of the file (${bytes.length - 8} bytes after the length field)`,
    );
  }
  const headerLength = Number(n);
  const maxHeader = Math.min(options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES, MAX_HEADER_BYTES);
  if (headerLength > maxHeader) {
    throw new WeightsError(
      'TOO_LARGE',
      `header length ${headerLength} (${formatBytes(headerLength)}) exceeds the cap of ${formatBytes(maxHeader)}; if the file is genuine, raise { maxHeaderBytes } (at most ${MAX_HEADER_BYTES})`,
      { file },
    );
  }
  if (headerLength < 2) corrupt(file, `header length ${headerLength} is too small for a JSON object`);
  const layout = headerLayoutProblem(bytes.subarray(8, 8 + headerLength));
  if (layout !== undefined) corrupt(file, layout);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (e) {
    throw new WeightsError(
      'SAFETENSORS_CORRUPT',
      `header is not valid UTF-8 JSON (${cut((e as Error).message, 120)})`,
      {
        file,
        cause: e,
      },
    );
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) corrupt(file, 'header is not a JSON object');
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const metadataEntries: [string, string][] = [];
  const entries: SafetensorsEntry[] = [];
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    const label = `tensor ${quoteName(name)}`;
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) corrupt(file, '__metadata__ is not an object');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') corrupt(file, `__metadata__[${quoteName(k)}] is not a string`);
        metadataEntries.push([k, v as string]);
      }
      continue;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      corrupt(file, `${label}: entry is not an object`);
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e.dtype !== 'string') corrupt(file, `${label}: missing dtype`);
    const dtype = e.dtype as string;
    if (!Object.hasOwn(DTYPE_BYTES, dtype)) {
      throw new WeightsError(
        'UNSUPPORTED_DTYPE',
        `${label}: dtype ${cut(dtype, 20)} is not supported (supported: ${Object.keys(DTYPE_BYTES).join(', ')})`,
        { file },
      );
    }
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      corrupt(
        file,
        `${label}: shape ${cut(JSON.stringify(e.shape) ?? 'missing')} is not a list of non-negative integers`,
      );
    }
    if ((e.shape as number[]).length > MAX_RANK) {
      corrupt(file, `${label}: shape has ${(e.shape as number[]).length} dimensions (at most ${MAX_RANK})`);
    }
    const offsets = e.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    ) {
      corrupt(
        file,
        `${label}: data_offsets ${cut(JSON.stringify(offsets) ?? 'missing')} is not [begin, end] with begin ≤ end`,
      );
    }
    const [begin, end] = offsets as [number, number];
    const shape = e.shape as number[];
    const expected = numel(shape) * DTYPE_BYTES[dtype as SafetensorsDtype];
    if (!Number.isSafeInteger(expected) || end - begin !== expected) {
      corrupt(
        file,
        `${label}: ${dtype}[${cut(shape.join(', '), 60)}] needs ${expected} bytes, data_offsets span ${end - begin}`,
      );
    }
    if (end > dataLength) {
      corrupt(file, `${label}: data_offsets [${begin}, ${end}] run past the data buffer (${dataLength} bytes)`);
    }
    entries.push({ name, dtype: dtype as SafetensorsDtype, shape, begin, end });
  }
  // The buffer must be exactly covered: no overlaps, no holes (as the reference implementation requires).
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of sorted) {
    if (e.begin < cursor)
      corrupt(file, `tensor ${quoteName(e.name)}: data_offsets [${e.begin}, ${e.end}] overlap another tensor`);
    if (e.begin > cursor)
      corrupt(file, `tensor ${quoteName(e.name)}: a gap of ${e.begin - cursor} bytes precedes its data`);
    cursor = e.end;
  }
  if (cursor !== dataLength) corrupt(file, `the data buffer has ${dataLength} bytes but the tensors cover ${cursor}`);
  // fromEntries defines own properties, so a key such as "__proto__" stays a key.
  return { entries, metadata: Object.fromEntries(metadataEntries), dataStart };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Decodes one tensor's bytes: floats → float32 (F16/BF16/F64 converted), integers and bool → int64. */
export function decodeTensor(dtype: SafetensorsDtype, raw: Uint8Array, count: number): Float32Array | BigInt64Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (dtype) {
    case 'F32': {
      if (LITTLE_ENDIAN) {
        const copy = new Uint8Array(count * 4); // aligned copy (a Node Buffer's slice() would share its pool)
        copy.set(raw.subarray(0, count * 4));
        return new Float32Array(copy.buffer);
      }
      return Float32Array.from({ length: count }, (_, i) => view.getFloat32(4 * i, true));
    }
    case 'F16':
      return decodeFloat16(raw, count);
    case 'BF16':
      return decodeBFloat16(raw, count);
    case 'F64':
      return Float32Array.from({ length: count }, (_, i) => view.getFloat64(8 * i, true));
    case 'I64':
      return BigInt64Array.from({ length: count }, (_, i) => view.getBigInt64(8 * i, true));
    case 'U64':
      return BigInt64Array.from({ length: count }, (_, i) => BigInt.asIntN(64, view.getBigUint64(8 * i, true)));
    case 'I32':
      return BigInt64Array.from({ length: count }, (_, i) => BigInt(view.getInt32(4 * i, true)));
    case 'U32':
      return BigInt64Array.from({ length: count }, (_, i) => BigInt(view.getUint32(4 * i, true)));
    case 'I16':
      return BigInt64Array.from({ length: count }, (_, i) => BigInt(view.getInt16(2 * i, true)));
    case 'U16':
      return BigInt64Array.from({ length: count }, (_, i) => BigInt(view.getUint16(2 * i, true)));
    case 'I8':
      return BigInt64Array.from({ length: count }, (_, i) => BigInt(view.getInt8(i)));
    case 'U8':
    case 'BOOL':
      return BigInt64Array.from({ length: count }, (_, i) => BigInt(view.getUint8(i)));
  }
}

export interface SafetensorsContents {
  tensors: StateDict;
  /** The stored dtype of each tensor. */
  dtypes: Map<string, SafetensorsDtype>;
  metadata: Record<string, string>;
}

/** Reads a whole safetensors file from memory. */
export function readSafetensors(
  bytes: Uint8Array,
  file = 'safetensors',
  options: ReadSafetensorsOptions = {},
): SafetensorsContents {
  const header = readSafetensorsHeader(bytes, file, options);
  options.checkShapes?.(new Map(header.entries.map((e) => [e.name, e.shape])));
  const budget = new DecodeBudget(file, bytes.length, options.maxDecodedBytes);
  for (const e of header.entries) {
    const outBytes = e.dtype.startsWith('F') || e.dtype === 'BF16' ? 4 : 8;
    budget.charge(numel(e.shape) * outBytes, `tensor ${quoteName(e.name)} (decoded)`);
  }
  const tensors: StateDict = new Map();
  const dtypes = new Map<string, SafetensorsDtype>();
  for (const e of header.entries) {
    const raw = bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end);
    tensors.set(e.name, { shape: e.shape, data: decodeTensor(e.dtype, raw, numel(e.shape)) });
    dtypes.set(e.name, e.dtype);
  }
  return { tensors, dtypes, metadata: header.metadata };
}

export interface WriteSafetensorsOptions {
  /** Stored precision of float tensors: F32 (default), F16 or BF16. Integer tensors are stored as I64. */
  dtype?: 'F32' | 'F16' | 'BF16';
  /** String metadata (`__metadata__`). */
  metadata?: Record<string, string>;
}

/** Serialises tensors to safetensors: names sorted, data contiguous in that order, header padded to 8 bytes. */
export function writeSafetensors(
  tensors: ReadonlyMap<string, HostTensor>,
  options: WriteSafetensorsOptions = {},
): Uint8Array {
  const floatDtype = options.dtype ?? 'F32';
  if (!['F32', 'F16', 'BF16'].includes(floatDtype)) {
    throw new WeightsError('UNSUPPORTED_DTYPE', `cannot write float tensors as ${floatDtype} (use F32, F16 or BF16)`);
  }
  const names = [...tensors.keys()].sort();
  const headerEntries: [string, unknown][] = [];
  if (options.metadata !== undefined) {
    for (const [k, v] of Object.entries(options.metadata)) {
      if (typeof v !== 'string') throw new WeightsError('UNSUPPORTED_DTYPE', `metadata "${k}" must be a string`);
    }
    headerEntries.push(['__metadata__', Object.fromEntries(Object.entries(options.metadata))]);
  }
  let offset = 0;
  const layout: { name: string; t: HostTensor; dtype: SafetensorsDtype; begin: number; end: number }[] = [];
  for (const name of names) {
    if (name === '__metadata__') throw new WeightsError('UNSUPPORTED_DTYPE', 'a tensor cannot be named "__metadata__"');
    const t = tensors.get(name)!;
    const count = numel(t.shape);
    if (t.data.length !== count) {
      throw new WeightsError(
        'BAD_TENSOR',
        `tensor "${name}": shape [${t.shape.join(', ')}] needs ${count} values, has ${t.data.length}`,
      );
    }
    const dtype: SafetensorsDtype = t.data instanceof BigInt64Array ? 'I64' : floatDtype;
    const size = count * DTYPE_BYTES[dtype];
    layout.push({ name, t, dtype, begin: offset, end: offset + size });
    headerEntries.push([name, { dtype, shape: [...t.shape], data_offsets: [offset, offset + size] }]);
    offset += size;
  }
  let json = JSON.stringify(Object.fromEntries(headerEntries)); // own properties, "__proto__" included
  const enc = new TextEncoder();
  let headerBytes = enc.encode(json);
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  if (padded > headerBytes.length) {
    json += ' '.repeat(padded - headerBytes.length);
    headerBytes = enc.encode(json);
  }
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  const base = 8 + headerBytes.length;
  for (const { t, dtype, begin } of layout) {
    const at = base + begin;
    const data = t.data;
    if (data instanceof BigInt64Array) {
      for (let i = 0; i < data.length; i++) view.setBigInt64(at + 8 * i, data[i]!, true);
    } else if (dtype === 'F32') {
      for (let i = 0; i < data.length; i++) view.setFloat32(at + 4 * i, data[i]!, true);
    } else {
      const conv = dtype === 'F16' ? numberToHalfBits : numberToBFloat16Bits;
      for (let i = 0; i < data.length; i++) view.setUint16(at + 2 * i, conv(data[i]!), true);
    }
  }
  return out;
}
