// The numpy dtypes we read and write, and the typed arrays that hold them.

/** numpy dtypes that {@link parseNpy} decodes. */
export type NpyDtype =
  | 'float16'
  | 'float32'
  | 'float64'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'bool';

/** Typed arrays that hold decoded npy data (float16 decodes to Float32Array, bool to Uint8Array of 0/1 bytes). */
export type NpyData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** A decoded .npy array. `data` is in the file's element order: C order, or Fortran order when `fortranOrder`. */
export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  fortranOrder: boolean;
  data: NpyData;
}

export interface DtypeInfo {
  dtype: NpyDtype;
  /** numpy kind letter + item size as in `descr` ('f4', 'u1', 'b1', ...). */
  code: string;
  itemSize: number;
}

export const DTYPES: Readonly<Record<NpyDtype, DtypeInfo>> = {
  float16: { dtype: 'float16', code: 'f2', itemSize: 2 },
  float32: { dtype: 'float32', code: 'f4', itemSize: 4 },
  float64: { dtype: 'float64', code: 'f8', itemSize: 8 },
  int8: { dtype: 'int8', code: 'i1', itemSize: 1 },
  uint8: { dtype: 'uint8', code: 'u1', itemSize: 1 },
  int16: { dtype: 'int16', code: 'i2', itemSize: 2 },
  uint16: { dtype: 'uint16', code: 'u2', itemSize: 2 },
  int32: { dtype: 'int32', code: 'i4', itemSize: 4 },
  uint32: { dtype: 'uint32', code: 'u4', itemSize: 4 },
  int64: { dtype: 'int64', code: 'i8', itemSize: 8 },
  uint64: { dtype: 'uint64', code: 'u8', itemSize: 8 },
  bool: { dtype: 'bool', code: 'b1', itemSize: 1 },
};

const BY_CODE = new Map<string, DtypeInfo>(Object.values(DTYPES).map((d) => [d.code, d]));

/** The dtype for a numpy kind+size code ('f4'); undefined when we do not support it. */
export function dtypeFromCode(code: string): DtypeInfo | undefined {
  return BY_CODE.get(code);
}

/** Every supported dtype name, in a fixed order. */
export const NPY_DTYPES: readonly NpyDtype[] = Object.keys(DTYPES) as NpyDtype[];

/** Allocates the typed array that holds `length` elements of `dtype` after decoding. */
export function allocate(dtype: NpyDtype, length: number): NpyData {
  switch (dtype) {
    case 'float16':
    case 'float32':
      return new Float32Array(length);
    case 'float64':
      return new Float64Array(length);
    case 'int8':
      return new Int8Array(length);
    case 'uint8':
    case 'bool':
      return new Uint8Array(length);
    case 'int16':
      return new Int16Array(length);
    case 'uint16':
      return new Uint16Array(length);
    case 'int32':
      return new Int32Array(length);
    case 'uint32':
      return new Uint32Array(length);
    case 'int64':
      return new BigInt64Array(length);
    case 'uint64':
      return new BigUint64Array(length);
  }
}

/** The typed-array constructor name expected for each dtype (used in argument checks). */
export function expectedArrayName(dtype: NpyDtype): string {
  return allocate(dtype, 0).constructor.name;
}

/** Number of elements of a shape (1 for a 0-d scalar). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
