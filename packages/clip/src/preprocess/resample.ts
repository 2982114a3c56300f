// PIL's bicubic resize (Pillow's libImaging/Resample.c, as in Pillow 9.4), re-implemented for single-channel float
// images (mode "F") and 8-bit images (modes "L" and "RGB").
//
// How Pillow resamples, and what is reproduced here operation for operation (IEEE doubles, same order):
// - Separable: a horizontal pass (only over the rows the vertical pass will read) into an intermediate image of the
//   same mode, then a vertical pass. A pass whose size does not change is skipped.
// - Per output position xx: scale = in/out; filterscale = max(scale, 1) (the kernel is stretched when shrinking);
//   support = 2 * filterscale; center = (xx + 0.5) * scale; the input range is [trunc(center - support + 0.5),
//   trunc(center + support + 0.5)) clipped to the image; weight of input x = bicubic((x - center + 0.5) / filterscale)
//   (computed as a product with 1 / filterscale), with the Keys kernel a = -0.5; weights divided by their sum.
// - Mode "F": sums in double precision, each pass stored as float32; no rounding or clamping.
// - 8-bit modes: weights become fixed point, trunc(w * 2^22 ± 0.5) (rounded away from zero); each output is
//   (2^21 + Σ pixel * weight) >> 22 clamped to [0, 255] — so the intermediate image is rounded and clamped too.

/** Keys' bicubic convolution kernel with a = -0.5, written as Pillow evaluates it. */
export function bicubicKernel(x: number): number {
  const a = -0.5;
  let t = x;
  if (t < 0) t = -t;
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

/** Fractional bits of Pillow's 8-bit fixed-point weights (32 - 8 - 2). */
export const PRECISION_BITS = 22;

/** The resampling weights of one pass (Pillow's `precompute_coeffs` for the box (0, inSize)). */
export interface ResampleCoefficients {
  inSize: number;
  outSize: number;
  /** Weights per output position (at most `ksize` used). */
  ksize: number;
  /** Per output position: first input index and number of inputs. */
  bounds: Int32Array;
  /** `outSize * ksize` normalised weights (doubles); unused slots are 0. */
  weights: Float64Array;
}

/** Pillow's `precompute_coeffs` for the bicubic filter (support 2) over the whole input (box 0..inSize). */
export function bicubicCoefficients(inSize: number, outSize: number): ResampleCoefficients {
  const support0 = 2;
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = support0 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Float64Array(outSize * ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    const base = xx * ksize;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = bicubicKernel((x + xmin - center + 0.5) * ss);
      weights[base + x] = w;
      ww += w;
    }
    if (ww !== 0) for (let x = 0; x < xmax; x++) weights[base + x] = (weights[base + x] as number) / ww;
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { inSize, outSize, ksize, bounds, weights };
}

/** Pillow's `normalize_coeffs_8bpc`: weights in fixed point with {@link PRECISION_BITS} fractional bits. */
export function fixedPointWeights(weights: Float64Array): Int32Array {
  const one = 1 << PRECISION_BITS;
  const out = new Int32Array(weights.length);
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i] as number;
    out[i] = w < 0 ? Math.trunc(-0.5 + w * one) : Math.trunc(0.5 + w * one);
  }
  return out;
}

/** Rows of the input the vertical pass reads: [first, last). */
function verticalSpan(c: ResampleCoefficients): [number, number] {
  const n = c.outSize;
  return [c.bounds[0] as number, (c.bounds[2 * n - 2] as number) + (c.bounds[2 * n - 1] as number)];
}

/**
 * Bicubic resize of a single-channel float32 image (PIL mode "F") from `height × width` to `outHeight × outWidth`,
 * bit-for-bit as Pillow. Returns a new array (a copy when the size does not change).
 */
export function resizeBicubicF32(
  src: Float32Array,
  height: number,
  width: number,
  outHeight: number,
  outWidth: number,
): Float32Array {
  if (outHeight === height && outWidth === width) return src.slice(0, height * width);
  const vert = bicubicCoefficients(height, outHeight);
  let cur = src;
  let curWidth = width;
  let rowShift = 0;
  if (outWidth !== width) {
    const horiz = bicubicCoefficients(width, outWidth);
    const [first, last] = verticalSpan(vert);
    const rows = last - first;
    const temp = new Float32Array(outWidth * rows);
    const { ksize, bounds, weights } = horiz;
    for (let yy = 0; yy < rows; yy++) {
      const rowBase = (yy + first) * width;
      const outBase = yy * outWidth;
      for (let xx = 0; xx < outWidth; xx++) {
        const xmin = bounds[xx * 2] as number;
        const count = bounds[xx * 2 + 1] as number;
        const kBase = xx * ksize;
        let ss = 0;
        for (let x = 0; x < count; x++) ss += (src[rowBase + xmin + x] as number) * (weights[kBase + x] as number);
        temp[outBase + xx] = ss;
      }
    }
    cur = temp;
    curWidth = outWidth;
    rowShift = first;
  }
  if (outHeight === height) return cur;
  const out = new Float32Array(curWidth * outHeight);
  const { ksize, bounds, weights } = vert;
  for (let yy = 0; yy < outHeight; yy++) {
    const ymin = (bounds[yy * 2] as number) - rowShift;
    const count = bounds[yy * 2 + 1] as number;
    const kBase = yy * ksize;
    const outBase = yy * curWidth;
    for (let xx = 0; xx < curWidth; xx++) {
      let ss = 0;
      for (let y = 0; y < count; y++)
        ss += (cur[(ymin + y) * curWidth + xx] as number) * (weights[kBase + y] as number);
      out[outBase + xx] = ss;
    }
  }
  return out;
}

function clip8(ss: number): number {
  const v = ss >> PRECISION_BITS;
  return Math.min(Math.max(v, 0), 255);
}

/**
 * Bicubic resize of an 8-bit image with interleaved channels (`height × width × channels`; PIL modes "L" and
 * "RGB"), bit-for-bit as Pillow's fixed-point code. Returns a new array.
 */
export function resizeBicubicU8(
  src: Uint8Array,
  height: number,
  width: number,
  channels: number,
  outHeight: number,
  outWidth: number,
): Uint8Array {
  if (outHeight === height && outWidth === width) return src.slice(0, height * width * channels);
  const half = 1 << (PRECISION_BITS - 1);
  const vert = bicubicCoefficients(height, outHeight);
  let cur = src;
  let curWidth = width;
  let rowShift = 0;
  if (outWidth !== width) {
    const horiz = bicubicCoefficients(width, outWidth);
    const k = fixedPointWeights(horiz.weights);
    const { ksize, bounds } = horiz;
    const [first, last] = verticalSpan(vert);
    const rows = last - first;
    const temp = new Uint8Array(outWidth * rows * channels);
    for (let yy = 0; yy < rows; yy++) {
      const rowBase = (yy + first) * width * channels;
      const outBase = yy * outWidth * channels;
      for (let xx = 0; xx < outWidth; xx++) {
        const xmin = bounds[xx * 2] as number;
        const count = bounds[xx * 2 + 1] as number;
        const kBase = xx * ksize;
        for (let c = 0; c < channels; c++) {
          let ss = half;
          for (let x = 0; x < count; x++)
            ss += (src[rowBase + (xmin + x) * channels + c] as number) * (k[kBase + x] as number);
          temp[outBase + xx * channels + c] = clip8(ss);
        }
      }
    }
    cur = temp;
    curWidth = outWidth;
    rowShift = first;
  }
  if (outHeight === height) return cur;
  const k = fixedPointWeights(vert.weights);
  const { ksize, bounds } = vert;
  const rowLen = curWidth * channels;
  const out = new Uint8Array(rowLen * outHeight);
  for (let yy = 0; yy < outHeight; yy++) {
    const ymin = (bounds[yy * 2] as number) - rowShift;
    const count = bounds[yy * 2 + 1] as number;
    const kBase = yy * ksize;
    const outBase = yy * rowLen;
    for (let i = 0; i < rowLen; i++) {
      let ss = half;
      for (let y = 0; y < count; y++) ss += (cur[(ymin + y) * rowLen + i] as number) * (k[kBase + y] as number);
      out[outBase + i] = clip8(ss);
    }
  }
  return out;
}
