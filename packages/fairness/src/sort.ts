/**
 * Sorting scores once, in O(n): an LSD radix sort of order-preserving integer keys, stable, carrying a uint32
 * payload per sample.
 *
 * A float64 x maps to an unsigned 64-bit key that orders like x (flip all bits of negatives, set the sign bit of
 * the others). Scores must be finite and −0 normalised to +0 (see toScores), so equal keys mean equal scores.
 * Only the bits that vary between keys matter for the order: from the lowest to the highest bit where any key
 * differs from the first one. Their width W sets the work: ⌈W / 12⌉ passes of ≤ 12-bit digits, on one 32-bit word
 * when W ≤ 32 (e.g. scores that came from float32: 29 low mantissa bits are always zero) and on two otherwise.
 * Below SMALL samples a stable merge sort is used instead.
 */

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const MAX_DIGIT_BITS = 11;
/** Below this size a merge sort is used (same order: ascending score, then position). */
const SMALL = 1024;

export interface SortedScores {
  /** The payload of each sorted position (ascending score, ties in input order). */
  readonly payload: Uint32Array;
  /** Dense rank of the score at each sorted position: equal ranks = tied scores. */
  readonly rank: Uint32Array;
}

function clz64(hi: number, lo: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
}

function ctz32(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x);
}

/** Bits [from, from + count) of the 64-bit key (hi, lo), count ≤ 32, as an unsigned 32-bit integer. */
function bitsOf(hi: number, lo: number, from: number, count: number): number {
  let v: number;
  if (from >= 32) v = hi >>> (from - 32);
  else if (from === 0) v = lo;
  else v = (lo >>> from) | (hi << (32 - from));
  return count >= 32 ? v >>> 0 : (v & ((1 << count) - 1)) >>> 0;
}

/**
 * Sorts `scores` ascending (stable) and permutes `payload` alongside. Neither input is modified.
 *
 * The varying bits of the keys (width W) are split into a top part (the highest min(W, 32) bits) and a low part
 * (the W − 32 bits below, if any). An LSD radix sort orders the samples by the top part (≤ 3 passes of ≤ 11-bit
 * digits on 32-bit words); samples whose top parts are equal, rare for continuous scores, are then ordered by the
 * low part and position. Equal scores (ties) have equal top and low parts.
 */
export function radixSortScores(scores: Float64Array, payload: Uint32Array): SortedScores {
  const n = scores.length;
  const words = new Uint32Array(scores.buffer, scores.byteOffset, 2 * n);
  const loOff = LITTLE_ENDIAN ? 0 : 1;
  const hiOff = 1 - loOff;
  if (n <= SMALL) return smallSort(scores, payload);
  // Which key bits vary: OR of (key XOR first key). key(x): flip all bits of negatives, set the sign bit otherwise.
  const keyHi = (i: number): number => {
    const h = words[2 * i + hiOff] as number;
    return h & 0x80000000 ? ~h >>> 0 : (h | 0x80000000) >>> 0;
  };
  const keyLo = (i: number): number => {
    const l = words[2 * i + loOff] as number;
    return (words[2 * i + hiOff] as number) & 0x80000000 ? ~l >>> 0 : l;
  };
  const h0 = keyHi(0);
  const l0 = keyLo(0);
  let vh = 0;
  let vl = 0;
  for (let i = 1; i < n; i++) {
    vh |= keyHi(i) ^ h0;
    vl |= keyLo(i) ^ l0;
  }
  vh >>>= 0;
  vl >>>= 0;
  if (vh === 0 && vl === 0) {
    // Every score is equal: one block, input order.
    return { payload: new Uint32Array(payload), rank: new Uint32Array(n) };
  }
  // Varying bits: [tz, tz + width) of the 64-bit key.
  const tz = vl !== 0 ? ctz32(vl) : 32 + ctz32(vh);
  const width = 64 - clz64(vh, vl) - tz;
  const lowBits = Math.max(0, width - 32);
  const topBits = width - lowBits;
  const passes = Math.ceil(topBits / MAX_DIGIT_BITS);
  const bits = Math.ceil(topBits / passes);
  const radix = 1 << bits;
  const mask = radix - 1;
  const hist = new Uint32Array(passes * radix);
  let key = new Uint32Array(n);
  const low = lowBits > 0 ? new Uint32Array(n) : null;
  for (let i = 0; i < n; i++) {
    const h = keyHi(i);
    const l = keyLo(i);
    const t = bitsOf(h, l, tz + lowBits, topBits);
    key[i] = t;
    if (low) low[i] = bitsOf(h, l, tz, lowBits);
    for (let p = 0; p < passes; p++) {
      const k = p * radix + ((t >>> (p * bits)) & mask);
      hist[k] = (hist[k] as number) + 1;
    }
  }
  // Without a low part the payload rides along; otherwise positions do, for the fix-up of equal top parts.
  let carry = new Uint32Array(n);
  if (low) for (let i = 0; i < n; i++) carry[i] = i;
  else carry.set(payload);
  let key2 = new Uint32Array(n);
  let car2 = new Uint32Array(n);
  const offsets = new Uint32Array(radix);
  for (let p = 0; p < passes; p++) {
    let sum = 0;
    let trivial = false;
    for (let d = 0; d < radix; d++) {
      const c = hist[p * radix + d] as number;
      if (c === n) trivial = true;
      offsets[d] = sum;
      sum += c;
    }
    if (trivial) continue;
    const sh = p * bits;
    for (let i = 0; i < n; i++) {
      const t = key[i] as number;
      const d = (t >>> sh) & mask;
      const pos = offsets[d] as number;
      offsets[d] = pos + 1;
      key2[pos] = t;
      car2[pos] = carry[i] as number;
    }
    [key, key2] = [key2, key];
    [carry, car2] = [car2, carry];
  }

  const rank = key2; // spare buffer
  rank[0] = 0;
  if (!low) {
    let r = 0;
    for (let i = 1; i < n; i++) {
      if (key[i] !== key[i - 1]) r++;
      rank[i] = r;
    }
    return { payload: carry, rank };
  }
  // Order runs of equal top parts by (low part, position); the radix passes kept positions ascending in a run.
  let k = 0;
  while (k < n) {
    const t = key[k] as number;
    let e = k + 1;
    while (e < n && key[e] === t) e++;
    if (e - k > 1) sortRunByLow(carry, k, e, low);
    k = e;
  }
  const sorted = car2; // spare buffer
  let r = 0;
  let prev = carry[0] as number;
  sorted[0] = payload[prev] as number;
  for (let i = 1; i < n; i++) {
    const c = carry[i] as number;
    if (key[i] !== key[i - 1] || low[c] !== low[prev]) r++;
    rank[i] = r;
    sorted[i] = payload[c] as number;
    prev = c;
  }
  return { payload: sorted, rank };
}

/** Sorts positions carry[from..to) by (low[position], position): insertion sort for short runs, else Array sort. */
function sortRunByLow(carry: Uint32Array, from: number, to: number, low: Uint32Array): void {
  let ordered = true;
  for (let i = from + 1; i < to && ordered; i++) {
    if ((low[carry[i] as number] as number) < (low[carry[i - 1] as number] as number)) ordered = false;
  }
  if (ordered) return; // e.g. a run of tied scores: positions are already ascending
  if (to - from <= 32) {
    for (let i = from + 1; i < to; i++) {
      const c = carry[i] as number;
      const v = low[c] as number;
      let j = i - 1;
      while (j >= from && (low[carry[j] as number] as number) > v) {
        carry[j + 1] = carry[j] as number;
        j--;
      }
      carry[j + 1] = c;
    }
    return;
  }
  const run = Array.from(carry.subarray(from, to));
  run.sort((x, y) => (low[x] as number) - (low[y] as number) || x - y);
  carry.set(run, from);
}

function smallSort(scores: Float64Array, payload: Uint32Array): SortedScores {
  const n = scores.length;
  const order = mergeSortPositions(scores);
  const sp = new Uint32Array(n);
  const rank = new Uint32Array(n);
  let r = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k] as number;
    sp[k] = payload[i] as number;
    if (k > 0 && scores[i] !== scores[order[k - 1] as number]) r++; // −0 was normalised to +0 by toScores
    rank[k] = r;
  }
  return { payload: sp, rank };
}

/** Positions 0..n−1 in ascending score order, ties in position order (bottom-up merge sort, insertion-sorted runs). */
function mergeSortPositions(scores: Float64Array): Uint32Array {
  const n = scores.length;
  let a = new Uint32Array(n);
  let b = new Uint32Array(n);
  const RUN = 16;
  for (let start = 0; start < n; start += RUN) {
    const end = Math.min(start + RUN, n);
    for (let i = start; i < end; i++) {
      const v = scores[i] as number;
      let j = i - 1;
      while (j >= start && (scores[a[j] as number] as number) > v) {
        a[j + 1] = a[j] as number;
        j--;
      }
      a[j + 1] = i;
    }
  }
  for (let width = RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        const x = a[i] as number;
        const y = a[j] as number;
        if ((scores[y] as number) < (scores[x] as number)) {
          b[k++] = y;
          j++;
        } else {
          b[k++] = x;
          i++;
        }
      }
      while (i < mid) b[k++] = a[i++] as number;
      while (j < hi) b[k++] = a[j++] as number;
    }
    [a, b] = [b, a];
  }
  return a;
}

/** Indices 0..n−1 ordered by ascending score (stable). */
export function argsortScores(scores: Float64Array): Uint32Array {
  const idx = new Uint32Array(scores.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  return radixSortScores(scores, idx).payload;
}
