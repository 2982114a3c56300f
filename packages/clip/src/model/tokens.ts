/**
 * Token ids as the model takes them: host-side integers (the embedding's gradient and the end-of-text pooling need
 * them on the CPU), one row of `context_length` ids per text, as `clip.tokenize` returns them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ClipModelError } from './errors.ts';

/** Rows of token ids: an array of rows, a flat array with its shape, or an int32 tensor [B, L]. */
export type TokenInput =
  | readonly ArrayLike<number>[]
  | { readonly data: ArrayLike<number>; readonly shape: readonly [number, number] }
  | tf.Tensor2D;

export interface TokenBatch {
  ids: Int32Array;
  batch: number;
  length: number;
  /** Per row, the position of the largest id (OpenAI pools there: the end-of-text token). */
  eot: Int32Array;
}

function readTensor(t: tf.Tensor): ArrayLike<number> {
  try {
    return t.dataSync();
  } catch (e) {
    throw new ClipModelError(
      'BAD_TOKENS',
      `token ids given as a tensor that cannot be read synchronously on backend "${tf.getBackend()}"; pass them as arrays (e.g. the tokenizer's rows)`,
      { cause: e },
    );
  }
}

/** A token id for a message: numbers as written (NaN, 1.5, -3), anything else by its type. */
function describeId(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'bigint') return `${String(v).slice(0, 40)}n (a bigint)`;
  if (typeof v === 'string') return `${JSON.stringify(v.slice(0, 40))}${v.length > 40 ? '…' : ''} (a string)`;
  return v === null ? 'null' : `a value of type ${typeof v}`;
}

function badId(v: unknown, row: number, position: number, vocabSize: number): ClipModelError {
  const range = `[0, ${vocabSize})`;
  const what =
    typeof v !== 'number'
      ? `is not a number (token ids are integers in ${range})`
      : Number.isNaN(v)
        ? `is NaN (token ids are integers in ${range})`
        : !Number.isInteger(v)
          ? `is not an integer (token ids are integers in ${range})`
          : `is outside ${range}, the model's vocabulary`;
  return new ClipModelError(
    'BAD_TOKENS',
    `token row ${row}, position ${position}: id ${describeId(v)} ${what}; pass the tokenizer's rows ` +
      '(tokenizer.tokenize(texts).rows) of the vocabulary the model was trained with',
  );
}

function checkDim(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new ClipModelError('BAD_TOKENS', `token ${what} must be a non-negative integer, got ${describeId(v)}`);
  return v;
}

/**
 * Normalises and checks token ids: rows of exactly `contextLength` integers in [0, vocabSize). Every id is checked
 * before it is converted to int32 (a NaN or 1.5 is refused with its row and position, never truncated).
 */
export function toTokenBatch(tokens: TokenInput, contextLength: number, vocabSize: number): TokenBatch {
  let batch: number;
  let length: number;
  /** The id at row i, position j, as given (not yet converted). */
  let at: (i: number, j: number) => unknown;
  if (tokens instanceof tf.Tensor) {
    if (tokens.rank !== 2)
      throw new ClipModelError('BAD_TOKENS', `token tensor must have rank 2 [B, L], got [${tokens.shape.join(', ')}]`);
    [batch, length] = tokens.shape as [number, number];
    const flat = readTensor(tokens);
    const len = length;
    at = (i, j) => flat[i * len + j];
  } else if (tokens !== null && typeof tokens === 'object' && !Array.isArray(tokens) && 'shape' in tokens) {
    const t = tokens as { data?: ArrayLike<number>; shape?: readonly [number, number] };
    if (!Array.isArray(t.shape) || t.shape.length !== 2)
      throw new ClipModelError('BAD_TOKENS', 'token shape must be [batch, length]');
    batch = checkDim(t.shape[0], 'batch size');
    length = checkDim(t.shape[1], 'row length');
    const data = t.data;
    if (data === null || typeof data !== 'object' || typeof data.length !== 'number')
      throw new ClipModelError('BAD_TOKENS', 'token data must be an array or a typed array of ids');
    if (data.length !== batch * length) {
      throw new ClipModelError(
        'BAD_TOKENS',
        `token data has ${data.length} values, shape [${batch}, ${length}] needs ${batch * length}`,
      );
    }
    const len = length;
    at = (i, j) => data[i * len + j];
  } else if (Array.isArray(tokens)) {
    const rows = tokens as readonly ArrayLike<number>[];
    batch = rows.length;
    const row0 = rows[0];
    length = row0 !== null && typeof row0 === 'object' && typeof row0.length === 'number' ? row0.length : contextLength;
    rows.forEach((row, i) => {
      if (row === null || typeof row !== 'object' || typeof row.length !== 'number')
        throw new ClipModelError('BAD_TOKENS', `token row ${i} is not an array of ids`);
      if (row.length !== length) {
        throw new ClipModelError('BAD_TOKENS', `token row ${i} has ${row.length} ids, row 0 has ${length}`);
      }
    });
    at = (i, j) => (rows[i] as ArrayLike<number>)[j];
  } else {
    throw new ClipModelError(
      'BAD_TOKENS',
      'token ids must be rows of ids, { data, shape: [batch, length] } or an int32 tensor [batch, length]',
    );
  }
  if (batch < 1) throw new ClipModelError('BAD_TOKENS', 'no token rows given (batch size 0)');
  if (length !== contextLength) {
    throw new ClipModelError(
      'BAD_TOKENS',
      `token rows have length ${length}, the model's context_length is ${contextLength} (tokenize with that context length)`,
    );
  }
  const ids = new Int32Array(batch * length);
  const eot = new Int32Array(batch);
  for (let i = 0; i < batch; i++) {
    let best = -1;
    for (let j = 0; j < length; j++) {
      const v = at(i, j);
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= vocabSize) throw badId(v, i, j, vocabSize);
      ids[i * length + j] = v;
      if (v > best) {
        best = v;
        eot[i] = j; // first position of the maximum, like torch.argmax
      }
    }
  }
  return { ids, batch, length, eot };
}
