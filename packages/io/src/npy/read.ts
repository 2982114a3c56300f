// The .npy format (numpy/lib/format.py): magic "\x93NUMPY", version 1.0 / 2.0 / 3.0, a Python-literal header
// {'descr': ..., 'fortran_order': ..., 'shape': (...)}, padding, then the raw data.
import { boundText, IoError, oneLine, quoted } from '../errors.ts';
import { halfToFloat32 } from '../float16.ts';
import { type DtypeInfo, dtypeFromCode, type NpyArray, type NpyData, type NpyDtype, shapeSize } from './dtype.ts';
import { isPyDict, isPyTuple, type PyValue, parsePyLiteral } from './pyliteral.ts';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** Most dimensions an array may have (numpy 2's NPY_MAXDIMS; numpy 1 allows 32). */
const NPY_MAX_DIMS = 64;
/** Longest header numpy.load reads without `max_header_size` (numpy.lib.format._MAX_HEADER_SIZE). */
const NPY_MAX_HEADER_BYTES = 10_000;
const INT64_MAX = 2n ** 63n - 1n;

/** What the header of a .npy file says, and where its data starts. */
export interface NpyHeader {
  version: [number, number];
  dtype: NpyDtype;
  /** True when the data is big-endian ('>' in descr). */
  bigEndian: boolean;
  itemSize: number;
  shape: number[];
  fortranOrder: boolean;
  /** Byte offset of the data from the start of the file. */
  dataOffset: number;
  /** Bytes of data the header declares (elements × item size). */
  dataLength: number;
}

function headerError(source: string, message: string, cause?: unknown): IoError {
  return new IoError('NPY_BAD_HEADER', message, { file: source, cause });
}

function parseDescr(descr: PyValue, source: string): { info: DtypeInfo; bigEndian: boolean } {
  if (typeof descr !== 'string') {
    throw new IoError(
      'NPY_UNSUPPORTED_DTYPE',
      `structured dtype ${boundText(JSON.stringify(descr) ?? String(descr))} is not supported (only plain numeric and bool arrays)`,
      { file: source },
    );
  }
  const m = /^([<>|=]?)([a-zA-Z?])(\d*)$/.exec(descr);
  if (!m) {
    throw new IoError('NPY_UNSUPPORTED_DTYPE', `dtype '${oneLine(descr)}' is not supported`, { file: source });
  }
  const order = m[1]!;
  const kind = m[2] === '?' ? 'b' : m[2]!;
  const size = m[2] === '?' && m[3] === '' ? '1' : m[3]!;
  const info = dtypeFromCode(`${kind}${size}`);
  if (!info) {
    const hint =
      kind === 'O'
        ? ' (object arrays need pickle, which is never loaded)'
        : kind === 'c'
          ? ' (complex numbers)'
          : kind === 'U' || kind === 'S'
            ? ' (strings)'
            : kind === 'M' || kind === 'm'
              ? ' (datetimes)'
              : kind === 'f' && (size === '12' || size === '16')
                ? ' (long double)'
                : '';
    throw new IoError(
      'NPY_UNSUPPORTED_DTYPE',
      `dtype '${oneLine(descr)}'${hint} is not supported; supported: float16/32/64, (u)int8-64, bool`,
      { file: source },
    );
  }
  return { info, bigEndian: order === '>' && info.itemSize > 1 };
}

/** Reads and validates the header of a .npy file without decoding its data. */
export function parseNpyHeader(bytes: Uint8Array, source: string): NpyHeader {
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) {
      throw new IoError(
        'NPY_BAD_MAGIC',
        bytes.length < MAGIC.length
          ? `${bytes.length} bytes is too short for a .npy file`
          : 'not a .npy file (the magic string \\x93NUMPY is missing)',
        { file: source },
      );
    }
  }
  if (bytes.length < 10) throw new IoError('NPY_TRUNCATED', 'file ends inside the .npy preamble', { file: source });
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (major < 1 || major > 3 || minor !== 0) {
    throw new IoError(
      'NPY_UNSUPPORTED_VERSION',
      `.npy format version ${major}.${minor} is not supported (1.0, 2.0 and 3.0 are)`,
      { file: source },
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = dv.getUint16(8, true);
    headerStart = 10;
  } else {
    if (bytes.length < 12) throw new IoError('NPY_TRUNCATED', 'file ends inside the .npy preamble', { file: source });
    headerLength = dv.getUint32(8, true);
    headerStart = 12;
  }
  if (headerLength > NPY_MAX_HEADER_BYTES) {
    throw headerError(
      source,
      `the header declares ${headerLength} bytes, more than numpy's limit of ${NPY_MAX_HEADER_BYTES} (numpy.load refuses it too)`,
    );
  }
  const dataOffset = headerStart + headerLength;
  if (dataOffset > bytes.length) {
    throw new IoError(
      'NPY_TRUNCATED',
      `the header declares ${headerLength} bytes but the file ends ${bytes.length - headerStart} bytes after its start`,
      { file: source },
    );
  }
  const raw = bytes.subarray(headerStart, dataOffset);
  let text: string;
  try {
    text = major === 3 ? new TextDecoder('utf-8', { fatal: true }).decode(raw) : latin1(raw);
  } catch (e) {
    throw headerError(source, 'a version 3.0 header is not valid UTF-8', e);
  }
  let value: PyValue;
  try {
    value = parsePyLiteral(text);
  } catch (e) {
    throw headerError(source, `header is not a Python literal: ${(e as Error).message}`, e);
  }
  if (!isPyDict(value)) throw headerError(source, `header is not a dictionary: ${quoted(text.trim())}`);
  const keys = [...value.dict.keys()].sort();
  if (keys.join(',') !== 'descr,fortran_order,shape') {
    throw headerError(
      source,
      `header must have exactly the keys descr, fortran_order, shape; got ${boundText(keys.map((k) => JSON.stringify(k)).join(', '))}`,
    );
  }
  const fortran = value.dict.get('fortran_order');
  if (typeof fortran !== 'boolean')
    throw headerError(source, `fortran_order is not a bool: ${boundText(JSON.stringify(fortran) ?? String(fortran))}`);
  const shapeValue = value.dict.get('shape')!;
  if (!isPyTuple(shapeValue)) throw headerError(source, 'shape is not a tuple');
  if (shapeValue.tuple.length > NPY_MAX_DIMS) {
    throw headerError(source, `shape has ${shapeValue.tuple.length} dimensions, more than numpy's ${NPY_MAX_DIMS}`);
  }
  const shape: number[] = [];
  for (const d of shapeValue.tuple) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw headerError(
        source,
        `shape ${boundText(text.match(/'shape':\s*(\([^)]*\))/)?.[1] ?? '')} has an invalid dimension`,
      );
    }
    shape.push(d);
  }
  const { info, bigEndian } = parseDescr(value.dict.get('descr')!, source);
  // numpy multiplies the dimensions left to right in a signed 64-bit integer and refuses a shape that overflows it,
  // even when a later dimension is 0.
  let running = 1n;
  for (const d of shape) {
    running *= BigInt(d);
    if (running > INT64_MAX) {
      throw headerError(
        source,
        `shape (${boundText(shape.join(', '))}) has more than 2^63 elements (numpy refuses it too)`,
      );
    }
  }
  const count = shapeSize(shape);
  const dataLength = count * info.itemSize;
  const available = bytes.length - dataOffset;
  if (!Number.isSafeInteger(dataLength) || dataLength > available) {
    throw new IoError(
      'NPY_TRUNCATED',
      `the header declares shape (${boundText(shape.join(', '))}) of ${info.dtype} = ${Number.isSafeInteger(dataLength) ? dataLength : 'more than 2^53'} bytes of data, but the file holds ${available}`,
      { file: source },
    );
  }
  return {
    version: [major, minor],
    dtype: info.dtype,
    bigEndian,
    itemSize: info.itemSize,
    shape,
    fortranOrder: fortran,
    dataOffset,
    dataLength,
  };
}

function latin1(raw: Uint8Array): string {
  let s = '';
  for (let i = 0; i < raw.length; i++) s += String.fromCharCode(raw[i]!);
  return s;
}

function swapBytes(buf: Uint8Array, itemSize: number): void {
  for (let i = 0; i + itemSize <= buf.length; i += itemSize) {
    for (let a = i, b = i + itemSize - 1; a < b; a++, b--) {
      const t = buf[a]!;
      buf[a] = buf[b]!;
      buf[b] = t;
    }
  }
}

/**
 * Decodes a .npy file. The result never shares memory with `bytes`. float16 becomes Float32Array (exact), bool a
 * Uint8Array of 0/1, int64/uint64 BigInt64Array/BigUint64Array; big-endian data is converted to native order; the
 * element order is the file's (see `fortranOrder`, and {@link toCOrder}). Throws NPY_BAD_MAGIC, NPY_BAD_HEADER,
 * NPY_UNSUPPORTED_VERSION, NPY_UNSUPPORTED_DTYPE or NPY_TRUNCATED (the header declares more data than
 * the file holds); nothing is allocated from a header value before it is checked against the file's length.
 */
export function parseNpy(bytes: Uint8Array, source: string): NpyArray {
  const h = parseNpyHeader(bytes, source);
  const start = bytes.byteOffset + h.dataOffset;
  // An aligned private copy of the data bytes.
  const copy = new Uint8Array(bytes.buffer.slice(start, start + h.dataLength));
  if (h.bigEndian) swapBytes(copy, h.itemSize);
  const n = h.dataLength / h.itemSize;
  const buf = copy.buffer;
  let data: NpyData;
  switch (h.dtype) {
    case 'float16':
      data = halfToFloat32(new Uint16Array(buf, 0, n));
      break;
    case 'float32':
      data = new Float32Array(buf, 0, n);
      break;
    case 'float64':
      data = new Float64Array(buf, 0, n);
      break;
    case 'int8':
      data = new Int8Array(buf, 0, n);
      break;
    case 'uint8':
      data = copy;
      break;
    case 'bool':
      for (let i = 0; i < n; i++) copy[i] = copy[i] === 0 ? 0 : 1;
      data = copy;
      break;
    case 'int16':
      data = new Int16Array(buf, 0, n);
      break;
    case 'uint16':
      data = new Uint16Array(buf, 0, n);
      break;
    case 'int32':
      data = new Int32Array(buf, 0, n);
      break;
    case 'uint32':
      data = new Uint32Array(buf, 0, n);
      break;
    case 'int64':
      data = new BigInt64Array(buf, 0, n);
      break;
    case 'uint64':
      data = new BigUint64Array(buf, 0, n);
      break;
  }
  return { dtype: h.dtype, shape: h.shape, fortranOrder: h.fortranOrder, data };
}

/** Returns the array in C (row-major) order: the same object when it already is, a transposed copy otherwise. */
export function toCOrder(array: NpyArray): NpyArray {
  if (!array.fortranOrder) return array;
  const shape = array.shape;
  const nd = shape.length;
  const n = array.data.length;
  const out = new (array.data.constructor as new (length: number) => NpyData)(n);
  if (nd <= 1 || n === 0) {
    out.set(array.data as never);
    return { ...array, fortranOrder: false, data: out };
  }
  // Fortran strides (in elements): stride[0] = 1, stride[k] = stride[k-1] * shape[k-1].
  const fstride = new Array<number>(nd);
  fstride[0] = 1;
  for (let k = 1; k < nd; k++) fstride[k] = fstride[k - 1]! * shape[k - 1]!;
  const idx = new Array<number>(nd).fill(0);
  const src = array.data as unknown as ArrayLike<number | bigint>;
  const dst = out as unknown as { [i: number]: number | bigint };
  let f = 0;
  for (let c = 0; c < n; c++) {
    dst[c] = src[f]!;
    // Advance the C-order multi-index (last axis fastest), updating the Fortran offset.
    for (let k = nd - 1; k >= 0; k--) {
      idx[k]!++;
      f += fstride[k]!;
      if (idx[k]! < shape[k]!) break;
      f -= fstride[k]! * shape[k]!;
      idx[k] = 0;
    }
  }
  return { dtype: array.dtype, shape: [...shape], fortranOrder: false, data: out };
}

/** Converts integer data (including int64/uint64) to a Float64Array of exact numbers; NPY_INT64_OVERFLOW when a
 * 64-bit value is beyond ±2^53. Float data is widened to float64. */
export function toNumbers(array: NpyArray, source: string): Float64Array {
  const d = array.data;
  const out = new Float64Array(d.length);
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
    for (let i = 0; i < d.length; i++) {
      const v = d[i]!;
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new IoError('NPY_INT64_OVERFLOW', `value ${v} at index ${i} does not fit a JavaScript number`, {
          file: source,
        });
      }
      out[i] = Number(v);
    }
  } else {
    out.set(d);
  }
  return out;
}
