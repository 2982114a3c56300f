/**
 * The one-pass core: per-group confusion counts for every attribute (one linear pass) and, when asked, the
 * Mann–Whitney statistic of the whole set and of every group of every attribute from ONE sort of the scores.
 *
 * AUC with ties counting one half: AUC = (1 / (n₊ n₋)) Σ_{i∈+} Σ_{j∈−} [s_i > s_j] + ½ [s_i = s_j]. Walking the
 * scores in ascending order in blocks of tied values, every positive in a block gains the negatives strictly below
 * plus half the negatives of its block. We accumulate twice that count, an integer (exact in float64 up to 2^53,
 * i.e. for n₊ n₋ < 4.5e15), and divide once: AUC = U₂ / (2 n₊ n₋). A group's AUC is the same walk restricted to the
 * group; the group's tie blocks are the intersections of the global ones, so one walk serves all groups.
 * This equals scikit-learn's roc_curve + trapezoid (the ROC has one vertex per distinct score).
 */
import type { EncodedGroups } from './input.ts';
import { radixSortScores } from './sort.ts';

export interface AttributeCounts {
  readonly name: string;
  readonly ids: readonly number[];
  /** Per dense group: samples, positives, true positives (positives with score >= threshold), false positives. */
  readonly n: Float64Array;
  readonly nPos: Float64Array;
  readonly tp: Float64Array;
  readonly fp: Float64Array;
  /** Per dense group: 2 × Mann–Whitney U (null when the AUC was not requested). */
  readonly u2: Float64Array | null;
}

export interface Counts {
  readonly n: number;
  readonly nPos: number;
  readonly tp: number;
  readonly fp: number;
  /** 2 × Mann–Whitney U of the whole set (null when not requested). */
  readonly u2: number | null;
  readonly attributes: readonly AttributeCounts[];
}

function bitsFor(groups: number): number {
  return groups <= 1 ? 0 : 32 - Math.clz32(groups - 1);
}

export function countAll(
  scores: Float64Array,
  labels: Uint8Array,
  attributes: readonly EncodedGroups[],
  threshold: number,
  withAuc: boolean,
): Counts {
  const n = scores.length;
  const A = attributes.length;
  const base = new Int32Array(A);
  const shift = new Int32Array(A);
  const mask = new Uint32Array(A);
  let slots = 0;
  let bits = 1; // bit 0 carries the label
  for (let a = 0; a < A; a++) {
    const g = (attributes[a] as EncodedGroups).ids.length;
    base[a] = slots;
    slots += g;
    const b = bitsFor(g);
    shift[a] = bits;
    mask[a] = b === 0 ? 0 : (0xffffffff >>> (32 - b)) >>> 0;
    bits += b;
  }
  const packed = bits <= 32;
  const gN = new Float64Array(slots);
  const gPos = new Float64Array(slots);
  const gTp = new Float64Array(slots);
  const gFp = new Float64Array(slots);
  const index = attributes.map((e) => e.index);
  const payload = withAuc ? new Uint32Array(n) : null;
  // Per sample: bit 0 = label, bit 1 = prediction (score >= threshold).
  const code = new Uint8Array(n);
  let nPos = 0;
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i] as number;
    const pred = (scores[i] as number) >= threshold ? 1 : 0;
    nPos += y;
    tp += y & pred;
    fp += (1 - y) & pred;
    code[i] = y | (pred << 1);
  }
  if (payload) {
    if (packed) for (let i = 0; i < n; i++) payload[i] = (code[i] as number) & 1;
    else for (let i = 0; i < n; i++) payload[i] = i;
  }
  // Attribute by attribute: counts per (group, label, prediction) cell, and the group index packed in the payload.
  for (let a = 0; a < A; a++) {
    const idx = index[a] as Uint8Array | Uint32Array;
    const G = (attributes[a] as EncodedGroups).ids.length;
    const cells = new Float64Array(4 * G);
    const sh = shift[a] as number;
    const pack = payload !== null && packed && G > 1;
    for (let i = 0; i < n; i++) {
      const g = idx[i] as number;
      const c = 4 * g + (code[i] as number);
      cells[c] = (cells[c] as number) + 1;
      if (pack) (payload as Uint32Array)[i] = ((payload as Uint32Array)[i] as number) | (g << sh);
    }
    for (let g = 0; g < G; g++) {
      const s = (base[a] as number) + g;
      const c0 = cells[4 * g] as number; // y 0, pred 0
      const c1 = cells[4 * g + 1] as number; // y 1, pred 0
      const c2 = cells[4 * g + 2] as number; // y 0, pred 1
      const c3 = cells[4 * g + 3] as number; // y 1, pred 1
      gN[s] = c0 + c1 + c2 + c3;
      gPos[s] = c1 + c3;
      gTp[s] = c3;
      gFp[s] = c2;
    }
  }

  let u2All: number | null = null;
  let gU2: Float64Array | null = null;
  if (payload) {
    const sorted = radixSortScores(scores, payload);
    gU2 = new Float64Array(slots);
    u2All = packed
      ? scanPacked(sorted.rank, sorted.payload, A, base, shift, mask, slots, gU2, bits)
      : scanIndexed(sorted.rank, sorted.payload, labels, index, base, slots, gU2);
  }

  const out: AttributeCounts[] = attributes.map((e, a) => {
    const lo = base[a] as number;
    const hi = lo + e.ids.length;
    return {
      name: e.name,
      ids: e.ids,
      n: gN.slice(lo, hi),
      nPos: gPos.slice(lo, hi),
      tp: gTp.slice(lo, hi),
      fp: gFp.slice(lo, hi),
      u2: gU2 ? gU2.slice(lo, hi) : null,
    };
  });
  return { n, nPos, tp, fp, u2: u2All, attributes: out };
}

/** End (exclusive) of the block of tied scores that starts at position k of the sorted ranks. */
function blockEnd(rank: Uint32Array, k: number): number {
  const r = rank[k] as number;
  let e = k + 1;
  while (e < rank.length && rank[e] === r) e++;
  return e;
}

/** Counts one sample of a tie block in slot s: a positive in posBlk, a negative in negBlk. */
function tally(s: number, pos: number, posBlk: Float64Array, negBlk: Float64Array): void {
  if (pos) posBlk[s] = (posBlk[s] as number) + 1;
  else negBlk[s] = (negBlk[s] as number) + 1;
}

/**
 * Ends a tie block in slot s (a no-op once done for the slot): each of its positives gains twice the slot's negatives
 * below the block plus the block's negatives, i.e. ties count one half; the block's negatives join those below.
 */
function closeBlock(
  s: number,
  u2: Float64Array,
  negBelow: Float64Array,
  posBlk: Float64Array,
  negBlk: Float64Array,
): void {
  const bps = posBlk[s] as number;
  const bns = negBlk[s] as number;
  if (bps !== 0 || bns !== 0) {
    u2[s] = (u2[s] as number) + bps * (2 * (negBelow[s] as number) + bns);
    negBelow[s] = (negBelow[s] as number) + bns;
    posBlk[s] = 0;
    negBlk[s] = 0;
  }
}

/** Largest packed payload width for which the payload → slots table is built (2^16 × attributes entries). */
const TABLE_BITS = 16;

/** Walk over the sorted scores with label and group indices packed in the payload. Returns the global 2U. */
function scanPacked(
  rank: Uint32Array,
  pay: Uint32Array,
  A: number,
  base: Int32Array,
  shift: Int32Array,
  mask: Uint32Array,
  slots: number,
  u2: Float64Array,
  bits: number,
): number {
  const n = rank.length;
  const negBelow = new Float64Array(slots);
  const posBlk = new Float64Array(slots);
  const negBlk = new Float64Array(slots);
  // slot of attribute a for payload p = table[(p >>> 1) * A + a] (the label bit is dropped).
  const useTable = bits <= TABLE_BITS;
  const table = new Int32Array(useTable ? (1 << (bits - 1)) * A : 0);
  if (useTable) {
    for (let q = 0; q < 1 << (bits - 1); q++) {
      const p = (q << 1) >>> 0;
      for (let a = 0; a < A; a++)
        table[q * A + a] = (base[a] as number) + ((p >>> (shift[a] as number)) & (mask[a] as number));
    }
  }
  const slotOf = (p: number, a: number): number =>
    useTable
      ? (table[(p >>> 1) * A + a] as number)
      : (base[a] as number) + ((p >>> (shift[a] as number)) & (mask[a] as number));
  let allNegBelow = 0;
  let allU2 = 0;
  let k = 0;
  while (k < n) {
    const e = blockEnd(rank, k);
    if (e === k + 1) {
      const p = pay[k] as number;
      if (p & 1) {
        allU2 += 2 * allNegBelow;
        for (let a = 0; a < A; a++) {
          const s = slotOf(p, a);
          u2[s] = (u2[s] as number) + 2 * (negBelow[s] as number);
        }
      } else {
        allNegBelow++;
        for (let a = 0; a < A; a++) {
          const s = slotOf(p, a);
          negBelow[s] = (negBelow[s] as number) + 1;
        }
      }
    } else {
      let bp = 0;
      let bn = 0;
      for (let j = k; j < e; j++) {
        const p = pay[j] as number;
        const pos = p & 1;
        bp += pos;
        bn += 1 - pos;
        for (let a = 0; a < A; a++) tally(slotOf(p, a), pos, posBlk, negBlk);
      }
      allU2 += bp * (2 * allNegBelow + bn);
      allNegBelow += bn;
      for (let j = k; j < e; j++) {
        const p = pay[j] as number;
        for (let a = 0; a < A; a++) closeBlock(slotOf(p, a), u2, negBelow, posBlk, negBlk);
      }
    }
    k = e;
  }
  return allU2;
}

/** Same walk when the group indices do not fit in 31 bits: the payload is the sample index. */
function scanIndexed(
  rank: Uint32Array,
  order: Uint32Array,
  labels: Uint8Array,
  index: readonly (Uint8Array | Uint32Array)[],
  base: Int32Array,
  slots: number,
  u2: Float64Array,
): number {
  const n = rank.length;
  const A = index.length;
  const negBelow = new Float64Array(slots);
  const posBlk = new Float64Array(slots);
  const negBlk = new Float64Array(slots);
  let allNegBelow = 0;
  let allU2 = 0;
  let k = 0;
  while (k < n) {
    const e = blockEnd(rank, k);
    let bp = 0;
    let bn = 0;
    for (let j = k; j < e; j++) {
      const i = order[j] as number;
      const pos = labels[i] as number;
      bp += pos;
      bn += 1 - pos;
      for (let a = 0; a < A; a++) {
        tally((base[a] as number) + ((index[a] as Uint8Array | Uint32Array)[i] as number), pos, posBlk, negBlk);
      }
    }
    allU2 += bp * (2 * allNegBelow + bn);
    allNegBelow += bn;
    for (let j = k; j < e; j++) {
      const i = order[j] as number;
      for (let a = 0; a < A; a++) {
        closeBlock(
          (base[a] as number) + ((index[a] as Uint8Array | Uint32Array)[i] as number),
          u2,
          negBelow,
          posBlk,
          negBlk,
        );
      }
    }
    k = e;
  }
  return allU2;
}
