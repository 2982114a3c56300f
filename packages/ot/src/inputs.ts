/**
 * Input normalisation and validation shared by every solver: point clouds, weights, cost matrices, epsilon.
 * Everything is copied into Float64Array so the solvers work in float64 whatever the caller passed.
 */
import { OtInputError } from './errors.ts';

/** A point cloud of n points in dimension d, row-major (`data[i * d + k]`). */
export interface PointCloud {
  readonly data: ArrayLike<number>;
  readonly n: number;
  readonly d: number;
}

/** Points as a PointCloud, as rows (`number[][]`, n × d), or as a flat list of 1-D points (`number[]`). */
export type PointsInput = PointCloud | readonly (readonly number[])[] | readonly number[] | Float64Array | Float32Array;

/** A dense row-major matrix. */
export interface Matrix {
  readonly data: ArrayLike<number>;
  readonly rows: number;
  readonly cols: number;
}

/** A cost matrix as a Matrix or as rows (`number[][]`). */
export type MatrixInput = Matrix | readonly (readonly number[])[];

/** Normalised point cloud (float64 copy). */
export interface Cloud {
  readonly data: Float64Array;
  readonly n: number;
  readonly d: number;
}

/** Normalised matrix (float64; the caller's own Float64Array when it passed one: never written). */
export interface DenseMatrix {
  readonly data: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

function isPointCloud(v: unknown): v is PointCloud {
  return typeof v === 'object' && v !== null && 'data' in v && 'n' in v && 'd' in v;
}

function isMatrix(v: unknown): v is Matrix {
  return typeof v === 'object' && v !== null && 'data' in v && 'rows' in v && 'cols' in v;
}

/** Converts and validates a point cloud: finite coordinates, consistent shape, at least one point. */
export function toCloud(name: string, input: PointsInput): Cloud {
  let data: Float64Array;
  let n: number;
  let d: number;
  if (isPointCloud(input)) {
    ({ n, d } = input);
    if (!(Number.isInteger(n) && n >= 0 && Number.isInteger(d) && d >= 1)) {
      throw new OtInputError('SHAPE_MISMATCH', `${name}: n must be an integer >= 0 and d >= 1, got n=${n}, d=${d}`);
    }
    if (input.data.length !== n * d) {
      throw new OtInputError(
        'SHAPE_MISMATCH',
        `${name}: data has ${input.data.length} values, expected n*d = ${n}*${d} = ${n * d}`,
      );
    }
    data = Float64Array.from(input.data);
  } else if (input instanceof Float64Array || input instanceof Float32Array) {
    n = input.length;
    d = 1;
    data = Float64Array.from(input);
  } else if (Array.isArray(input)) {
    n = input.length;
    if (n === 0) {
      d = 1;
      data = new Float64Array(0);
    } else if (Array.isArray(input[0])) {
      const rows = input as readonly (readonly number[])[];
      d = rows[0]!.length;
      if (d < 1) throw new OtInputError('SHAPE_MISMATCH', `${name}: points must have at least one coordinate`);
      data = new Float64Array(n * d);
      for (let i = 0; i < n; i++) {
        const row = rows[i];
        if (!Array.isArray(row) || row.length !== d) {
          throw new OtInputError(
            'SHAPE_MISMATCH',
            `${name}: row ${i} has ${Array.isArray(row) ? row.length : 'no'} coordinates, expected ${d} (like row 0)`,
          );
        }
        for (let k = 0; k < d; k++) data[i * d + k] = row[k]!;
      }
    } else {
      d = 1;
      data = Float64Array.from(input as readonly number[]);
    }
  } else {
    throw new OtInputError('SHAPE_MISMATCH', `${name}: expected a PointCloud, number[][] or number[]`);
  }
  if (n === 0) throw new OtInputError('EMPTY_INPUT', `${name}: the point cloud is empty (n = 0)`);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      const row = Math.floor(i / d);
      throw new OtInputError(
        'NON_FINITE_POINTS',
        `${name}: point ${row} has a non-finite coordinate (${data[i]}) at index ${i % d}`,
      );
    }
  }
  return { data, n, d };
}

/**
 * Converts and validates weights for n points: finite, >= 0, positive total. Undefined gives uniform 1/n.
 * Zero weights are allowed (the point is then ignored, as in geomloss).
 */
export function toWeights(name: string, w: ArrayLike<number> | undefined, n: number): Float64Array {
  if (w === undefined) return new Float64Array(n).fill(1 / n);
  if (w.length !== n) {
    throw new OtInputError('SHAPE_MISMATCH', `${name}: has ${w.length} weights for ${n} points`);
  }
  const out = Float64Array.from(w);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = out[i]!;
    if (!Number.isFinite(v)) throw new OtInputError('NON_FINITE_WEIGHTS', `${name}[${i}] is not finite (${v})`);
    if (v < 0) throw new OtInputError('NEGATIVE_WEIGHTS', `${name}[${i}] is negative (${v}); weights must be >= 0`);
    total += v;
  }
  if (!(total > 0)) throw new OtInputError('ZERO_MASS', `${name}: the weights sum to ${total}; need a positive mass`);
  return out;
}

export function sum(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]!;
  return s;
}

/** Balanced problems need equal masses: |Σa − Σb| <= rtol · max(Σa, Σb). */
export function checkEqualMass(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, what = 'a and b'): void {
  const ma = sum(a);
  const mb = sum(b);
  if (Math.abs(ma - mb) > rtol * Math.max(ma, mb)) {
    throw new OtInputError(
      'UNEQUAL_MASS',
      `${what} have different total masses (${ma} vs ${mb}, relative gap ${Math.abs(ma - mb) / Math.max(ma, mb)} > ${rtol}); ` +
        'balanced OT needs equal masses: normalise the weights, or use unbalanced transport (reach)',
    );
  }
}

/** Validates epsilon (regularisation): finite and > 0. */
export function checkEpsilon(name: string, eps: number): void {
  if (!(typeof eps === 'number' && Number.isFinite(eps) && eps > 0)) {
    throw new OtInputError('INVALID_EPSILON', `${name} must be a finite number > 0, got ${eps}`);
  }
}

/** Validates a positive finite option. */
export function checkPositive(name: string, v: number): void {
  if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) {
    throw new OtInputError('INVALID_OPTION', `${name} must be a finite number > 0, got ${v}`);
  }
}

/** Validates an integer option >= min. */
export function checkInteger(name: string, v: number, min: number): void {
  if (!(Number.isInteger(v) && v >= min)) {
    throw new OtInputError('INVALID_OPTION', `${name} must be an integer >= ${min}, got ${v}`);
  }
}

/** Converts and validates a cost matrix: rows × cols, finite entries. */
export function toMatrix(name: string, input: MatrixInput): DenseMatrix {
  if (isMatrix(input)) {
    const { rows, cols } = input;
    if (!(Number.isInteger(rows) && rows >= 1 && Number.isInteger(cols) && cols >= 1)) {
      throw new OtInputError('SHAPE_MISMATCH', `${name}: rows and cols must be integers >= 1, got ${rows}×${cols}`);
    }
    if (input.data.length !== rows * cols) {
      throw new OtInputError(
        'SHAPE_MISMATCH',
        `${name}: data has ${input.data.length} values, expected rows*cols = ${rows * cols}`,
      );
    }
    // A Float64Array is used in place (the solvers only read the cost); anything else is copied to float64.
    const data = input.data instanceof Float64Array ? input.data : new Float64Array(input.data as ArrayLike<number>);
    checkFiniteMatrix(name, data, cols);
    return { data, rows, cols };
  }
  if (!Array.isArray(input) || input.length === 0) {
    throw new OtInputError('EMPTY_INPUT', `${name}: expected a non-empty Matrix or number[][]`);
  }
  const rows = input.length;
  const cols = input[0]!.length;
  if (cols < 1) throw new OtInputError('EMPTY_INPUT', `${name}: rows must not be empty`);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const row = input[i]!;
    if (row.length !== cols) {
      throw new OtInputError('SHAPE_MISMATCH', `${name}: row ${i} has ${row.length} entries, expected ${cols}`);
    }
    for (let j = 0; j < cols; j++) data[i * cols + j] = row[j]!;
  }
  checkFiniteMatrix(name, data, cols);
  return { data, rows, cols };
}

function checkFiniteMatrix(name: string, data: Float64Array, cols: number): void {
  for (let k = 0; k < data.length; k++) {
    if (!Number.isFinite(data[k]!)) {
      throw new OtInputError(
        'NON_FINITE_COST',
        `${name}[${Math.floor(k / cols)}][${k % cols}] is not finite (${data[k]})`,
      );
    }
  }
}

/** Shannon entropy H(a) = −Σ a log a (nats) of the normalised weights; zero weights contribute 0. */
export function entropy(a: ArrayLike<number>): number {
  const total = sum(a);
  let h = 0;
  for (let i = 0; i < a.length; i++) {
    const p = a[i]! / total;
    if (p > 0) h -= p * Math.log(p);
  }
  return h;
}
