// Writes .npy files byte for byte as numpy 1.24's np.save does (same header text, growth-axis spaces, 64-byte
// alignment), and .npz archives of them.
import { IoError } from '../errors.ts';
import { numberToHalfBits } from '../float16.ts';
import { writeZip, type ZipWriteOptions } from '../zip/write.ts';
import { DTYPES, expectedArrayName, type NpyData, type NpyDtype, shapeSize } from './dtype.ts';

/** An array to write. For float16, `data` is a Float32Array of values (rounded to half, ties to even). */
export interface NpyInput {
  dtype: NpyDtype;
  shape: readonly number[];
  data: NpyData;
  /** `data` is in Fortran order (default false). */
  fortranOrder?: boolean;
}

export interface NpyWriteOptions {
  /** Format version; default: 1.0, or 2.0 when the header does not fit 1.0 (numpy's choice). */
  version?: 1 | 2 | 3;
  /** Write big-endian data ('>' descr) instead of little-endian. */
  bigEndian?: boolean;
}

const ARRAY_ALIGN = 64;
const GROWTH_AXIS_MAX_DIGITS = 21;

function pyTuple(shape: readonly number[]): string {
  if (shape.length === 0) return '()';
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

function checkInput(a: NpyInput): void {
  const info = DTYPES[a.dtype];
  if (!info) throw new IoError('BAD_ARGUMENT', `unknown dtype ${JSON.stringify(a.dtype)}`);
  for (const d of a.shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new IoError('BAD_ARGUMENT', `invalid dimension ${d} in shape`);
  }
  const want = expectedArrayName(a.dtype);
  if (a.data.constructor.name !== want) {
    throw new IoError('BAD_ARGUMENT', `dtype ${a.dtype} needs a ${want}, got a ${a.data.constructor.name}`);
  }
  const n = shapeSize(a.shape);
  if (a.data.length !== n) {
    throw new IoError(
      'BAD_ARGUMENT',
      `shape (${a.shape.join(', ')}) holds ${n} elements but data has ${a.data.length}`,
    );
  }
}

/** The raw bytes of the data in the requested byte order. */
function dataBytes(a: NpyInput, bigEndian: boolean): Uint8Array {
  const info = DTYPES[a.dtype];
  let bytes: Uint8Array;
  if (a.dtype === 'float16') {
    const half = new Uint16Array(a.data.length);
    const src = a.data as Float32Array;
    for (let i = 0; i < src.length; i++) half[i] = numberToHalfBits(src[i]!);
    bytes = new Uint8Array(half.buffer);
  } else if (a.dtype === 'bool') {
    const src = a.data as Uint8Array;
    bytes = new Uint8Array(src.length);
    for (let i = 0; i < src.length; i++) bytes[i] = src[i] === 0 ? 0 : 1;
  } else {
    bytes = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  }
  if (bigEndian && info.itemSize > 1) {
    const swapped = new Uint8Array(bytes.length);
    const s = info.itemSize;
    for (let i = 0; i < bytes.length; i += s) for (let k = 0; k < s; k++) swapped[i + k] = bytes[i + s - 1 - k]!;
    bytes = swapped;
  }
  return bytes;
}

/** Encodes an array as a .npy file (numpy's exact header layout). */
export function encodeNpy(array: NpyInput, options: NpyWriteOptions = {}): Uint8Array {
  checkInput(array);
  const info = DTYPES[array.dtype];
  const fortran = array.fortranOrder ?? false;
  const big = options.bigEndian ?? false;
  const order = info.itemSize === 1 ? '|' : big ? '>' : '<';
  let header = `{'descr': '${order}${info.code}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${pyTuple(array.shape)}, }`;
  if (array.shape.length > 0) {
    const growth = array.shape[fortran ? array.shape.length - 1 : 0]!;
    header += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(growth).length));
  }
  const headerBytes = new TextEncoder().encode(header);
  const wrap = (version: 1 | 2 | 3) => {
    const prefix = version === 1 ? 10 : 12;
    const hlen = headerBytes.length + 1;
    const padlen = ARRAY_ALIGN - ((prefix + hlen) % ARRAY_ALIGN);
    return { prefix, total: hlen + padlen, padlen };
  };
  let version = options.version ?? 1;
  if (options.version === undefined && wrap(1).total > 0xffff) version = 2;
  const { prefix, total, padlen } = wrap(version);
  if (version === 1 && total > 0xffff) {
    throw new IoError('BAD_ARGUMENT', `header of ${total} bytes does not fit .npy format 1.0`);
  }
  const data = dataBytes(array, big);
  const out = new Uint8Array(prefix + total + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, total, true);
  else dv.setUint32(8, total, true);
  out.set(headerBytes, prefix);
  out.fill(0x20, prefix + headerBytes.length, prefix + headerBytes.length + padlen);
  out[prefix + total - 1] = 0x0a;
  out.set(data, prefix + total);
  return out;
}

/**
 * Encodes named arrays as an .npz archive (entries `<key>.npy`). `compress` (default true) deflates like
 * np.savez_compressed; false stores like np.savez.
 */
export function encodeNpz(
  arrays: ReadonlyMap<string, NpyInput> | Readonly<Record<string, NpyInput>>,
  options: ZipWriteOptions & NpyWriteOptions = {},
): Uint8Array {
  const entries = arrays instanceof Map ? [...arrays.entries()] : Object.entries(arrays);
  const npyOptions: NpyWriteOptions = {};
  if (options.version !== undefined) npyOptions.version = options.version;
  if (options.bigEndian !== undefined) npyOptions.bigEndian = options.bigEndian;
  return writeZip(
    entries.map(([key, a]) => ({ name: `${key}.npy`, data: encodeNpy(a, npyOptions) })),
    options,
  );
}
