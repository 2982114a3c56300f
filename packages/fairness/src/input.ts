/** Validation and conversion of the inputs. Every problem raises a FairnessInputError naming argument and index. */
import { FairnessInputError } from './errors.ts';
import type { GroupsInput, LabelsInput, RateMode, ScoresInput, UndefinedGroupPolicy } from './types.ts';

function describe(v: unknown): string {
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

function lengthOf(x: unknown, name: string): number {
  if (x === null || typeof x !== 'object' || typeof (x as { length?: unknown }).length !== 'number') {
    throw new FairnessInputError('EMPTY_INPUT', `${name} must be an array or typed array, got ${describe(x)}`);
  }
  return (x as { length: number }).length;
}

function badScore(name: string, i: number, v: unknown): FairnessInputError {
  return new FairnessInputError(
    'NON_FINITE_SCORE',
    `${name}[${i}] = ${describe(v)}: every score must be a finite number (no NaN or ±Infinity)`,
  );
}

/**
 * Scores as a Float64Array, checked finite, with the length checked against the labels' `n`. A Float64Array without
 * −0 is returned as is (never modified); anything else is copied, −0 becoming +0 so that it ties with 0.
 */
export function toScores(scores: ScoresInput, n: number, name = 'scores', against = 'labels'): Float64Array {
  const m = lengthOf(scores, name);
  if (m !== n) {
    throw new FairnessInputError('LENGTH_MISMATCH', `${name} has ${m} elements but ${against} has ${n}`);
  }
  if (scores instanceof Float64Array) {
    let negativeZero = false;
    for (let i = 0; i < n; i++) {
      const v = scores[i] as number;
      if (v - v !== 0) throw badScore(name, i, v); // NaN or ±Infinity
      if (v === 0 && 1 / v < 0) negativeZero = true;
    }
    if (!negativeZero) return scores;
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = scores[i] as unknown;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw badScore(name, i, v);
    out[i] = v + 0; // normalises −0 to +0
  }
  return out;
}

/** The hint of a non-binary label in the positional functions, where it most often means swapped arguments. */
export const SWAP_HINT = 'did you pass (scores, labels)? the order is (labels, scores) as in sklearn';

/**
 * Labels as a Uint8Array of 0/1, checked non-empty and binary (0/1 or false/true). A valid Uint8Array is returned
 * as is. Any other value throws INVALID_LABEL with `hint` (by default the swapped-arguments hint): a label array
 * that holds scores is the signature of a call in the reversed order.
 */
export function toLabels(labels: LabelsInput, name = 'labels', hint = SWAP_HINT): Uint8Array {
  const n = lengthOf(labels, name);
  if (n === 0) throw new FairnessInputError('EMPTY_INPUT', `${name} is empty: at least one sample is needed`);
  const bad = (i: number, v: unknown) =>
    new FairnessInputError(
      'INVALID_LABEL',
      `${name}[${i}] = ${describe(v)}: labels must be 0/1 (or false/true); ${hint}`,
    );
  if (labels instanceof Uint8Array) {
    for (let i = 0; i < n; i++) if ((labels[i] as number) > 1) throw bad(i, labels[i]);
    return labels;
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = labels[i] as unknown;
    if (v === 1 || v === true) out[i] = 1;
    else if (v !== 0 && v !== false) throw bad(i, v);
  }
  return out;
}

/** Validated labels and scores of the same samples, in the ecosystem's order: labels first (sklearn's y_true). */
export function toSamples(labels: LabelsInput, scores: ScoresInput): { labels: Uint8Array; scores: Float64Array } {
  const y = toLabels(labels);
  return { labels: y, scores: toScores(scores, y.length) };
}

/** Group ids of one attribute turned into dense indices 0..k-1 in ascending id order. */
export interface EncodedGroups {
  readonly name: string;
  /** Distinct group ids, ascending. */
  readonly ids: readonly number[];
  /** Dense index (position in `ids`) of each sample's group (Uint8Array when there are at most 256 groups). */
  readonly index: Uint8Array | Uint32Array;
}

const DIRECT_RANGE = 1 << 20;

type IntegerArray = Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array;

function isIntegerArray(x: unknown): x is IntegerArray {
  return (
    x instanceof Int32Array ||
    x instanceof Uint8Array ||
    x instanceof Int8Array ||
    x instanceof Uint8ClampedArray ||
    x instanceof Int16Array ||
    x instanceof Uint16Array ||
    x instanceof Uint32Array
  );
}

/**
 * Encodes one attribute's group ids. `name` is the attribute's name in results; `arg` names the argument in errors.
 */
export function encodeGroups(groups: GroupsInput, n: number, name = 'groups', arg = name): EncodedGroups {
  const m = lengthOf(groups, arg);
  if (m !== n) {
    throw new FairnessInputError('LENGTH_MISMATCH', `${arg} has ${m} elements but labels has ${n}`);
  }
  if (n === 0) throw new FairnessInputError('EMPTY_INPUT', `${arg} is empty: at least one sample is needed`);
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  if (isIntegerArray(groups)) {
    for (let i = 0; i < n; i++) {
      const v = groups[i] as number;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  } else
    for (let i = 0; i < n; i++) {
      const v = groups[i] as unknown;
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
        throw new FairnessInputError(
          'INVALID_GROUP',
          `${arg}[${i}] = ${describe(v)}: group ids must be integers (any integers; they need not be contiguous)`,
        );
      }
      if (v < min) min = v;
      if (v > max) max = v;
    }
  const ids: number[] = [];
  if (max - min < DIRECT_RANGE) {
    const table = new Int32Array(max - min + 1).fill(-1);
    for (let i = 0; i < n; i++) table[(groups[i] as number) - min] = 0;
    for (let k = 0; k < table.length; k++) {
      if (table[k] === 0) {
        table[k] = ids.length;
        ids.push(k + min);
      }
    }
    const index = ids.length <= 256 ? new Uint8Array(n) : new Uint32Array(n);
    for (let i = 0; i < n; i++) index[i] = table[(groups[i] as number) - min] as number;
    return { name, ids, index };
  }
  const map = new Map<number, number>();
  for (let i = 0; i < n; i++) map.set(groups[i] as number, 0);
  const sorted = [...map.keys()].sort((a, b) => a - b);
  sorted.forEach((id, k) => {
    map.set(id, k);
    ids.push(id);
  });
  const index = ids.length <= 256 ? new Uint8Array(n) : new Uint32Array(n);
  for (let i = 0; i < n; i++) index[i] = map.get(groups[i] as number) as number;
  return { name, ids, index };
}

export function checkThreshold(threshold: unknown): number {
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) {
    throw new FairnessInputError(
      'INVALID_OPTION',
      `threshold must be a finite number (a sample is predicted positive when score >= threshold), got ${describe(threshold)}`,
    );
  }
  return threshold;
}

export function checkAlpha(alpha: unknown): number {
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha < 0) {
    throw new FairnessInputError('INVALID_OPTION', `alpha must be a finite number >= 0, got ${describe(alpha)}`);
  }
  return alpha;
}

export function checkMode(mode: unknown): RateMode {
  if (mode !== 'strict' && mode !== 'fairlearn') {
    throw new FairnessInputError('INVALID_OPTION', `mode must be 'strict' or 'fairlearn', got ${describe(mode)}`);
  }
  return mode;
}

export function checkPolicy(policy: unknown): UndefinedGroupPolicy {
  if (policy !== 'skip' && policy !== 'propagate' && policy !== 'error') {
    throw new FairnessInputError(
      'INVALID_OPTION',
      `undefinedGroups must be 'skip', 'propagate' or 'error', got ${describe(policy)}`,
    );
  }
  return policy;
}

export function checkChoice<T extends string>(value: unknown, name: string, choices: readonly T[]): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new FairnessInputError(
      'INVALID_OPTION',
      `${name} must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${describe(value)}`,
    );
  }
  return value as T;
}
