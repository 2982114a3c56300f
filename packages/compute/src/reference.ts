/**
 * Float64 plain-JS references of the ops the conformance suite checks (row-major arrays, last axis innermost).
 * They are themselves checked against NumPy/SciPy/PyTorch outputs (test-fixtures/data/compute/reference-ops.json).
 */

type NumArray = ArrayLike<number>;

/** C = A·B for A [m,k], B [k,n] (optionally transposed operands, as tf.matMul). */
export function matMulRef(
  a: NumArray,
  b: NumArray,
  m: number,
  k: number,
  n: number,
  transposeA = false,
  transposeB = false,
): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) {
        const av = transposeA ? a[t * m + i]! : a[i * k + t]!;
        const bv = transposeB ? b[j * k + t]! : b[t * n + j]!;
        s += av * bv;
      }
      out[i * n + j] = s;
    }
  }
  return out;
}

/** log Σ exp over the last axis of rows of length `d` (two-pass, max-shifted); −∞ for all −∞, NaN propagates. */
export function logSumExpRef(x: NumArray, d: number): Float64Array {
  const rows = d === 0 ? 0 : x.length / d;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let max = Number.NEGATIVE_INFINITY;
    let nan = false;
    for (let j = 0; j < d; j++) {
      const v = x[r * d + j]!;
      if (Number.isNaN(v)) nan = true;
      if (v > max) max = v;
    }
    if (nan) {
      out[r] = Number.NaN;
      continue;
    }
    if (!Number.isFinite(max)) {
      out[r] = max;
      continue;
    }
    let s = 0;
    for (let j = 0; j < d; j++) s += Math.exp(x[r * d + j]! - max);
    out[r] = max + Math.log(s);
  }
  return out;
}

/** Softmax over the last axis of rows of length `d`. */
export function softmaxRef(x: NumArray, d: number): Float64Array {
  const lse = logSumExpRef(x, d);
  const out = new Float64Array(x.length);
  for (let r = 0; r < lse.length; r++) {
    for (let j = 0; j < d; j++) out[r * d + j] = Math.exp(x[r * d + j]! - lse[r]!);
  }
  return out;
}

/** LayerNorm over the last axis (biased variance), y = (x − μ)/√(σ² + ε)·γ + β. */
export function layerNormRef(x: NumArray, d: number, gamma?: NumArray, beta?: NumArray, epsilon = 1e-5): Float64Array {
  const rows = d === 0 ? 0 : x.length / d;
  const out = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let j = 0; j < d; j++) mean += x[r * d + j]!;
    mean /= d;
    let variance = 0;
    for (let j = 0; j < d; j++) variance += (x[r * d + j]! - mean) ** 2;
    variance /= d;
    const inv = 1 / Math.sqrt(variance + epsilon);
    for (let j = 0; j < d; j++) {
      out[r * d + j] = (x[r * d + j]! - mean) * inv * (gamma ? gamma[j]! : 1) + (beta ? beta[j]! : 0);
    }
  }
  return out;
}

/**
 * erf(x) to about 1e-15: for |x| < 6 the all-positive series erf(x) = 2/√π · e^{−x²} Σ 2ⁿ x^{2n+1} / (2n+1)!!
 * (no cancellation); beyond, ±1 (erfc(6) ≈ 2e−17).
 */
export function erfRef(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  let term = ax;
  let sum = ax;
  const x2 = ax * ax;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum;
}

/** Exact GELU 0.5·x·(1 + erf(x/√2)). */
export function geluRef(x: NumArray): Float64Array {
  return Float64Array.from(x, (v) => 0.5 * v * (1 + erfRef(v / Math.SQRT2)));
}

/** QuickGELU x·sigmoid(1.702x), computed without overflow. */
export function quickGeluRef(x: NumArray): Float64Array {
  return Float64Array.from(x, (v) => {
    const z = 1.702 * v;
    const sig = z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
    return v * sig;
  });
}
