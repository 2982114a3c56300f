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

/** Normalises and checks token ids: rows of exactly `contextLength` integers in [0, vocabSize). */
export function toTokenBatch(tokens: TokenInput, contextLength: number, vocabSize: number): TokenBatch {
  let flat: ArrayLike<number>;
  let batch: number;
  let length: number;
  if (tokens instanceof tf.Tensor) {
    if (tokens.rank !== 2)
      throw new ClipModelError('BAD_TOKENS', `token tensor must have rank 2 [B, L], got [${tokens.shape.join(', ')}]`);
    [batch, length] = tokens.shape as [number, number];
    flat = readTensor(tokens);
  } else if ('shape' in tokens && 'data' in tokens && !Array.isArray(tokens)) {
    const t = tokens as { data: ArrayLike<number>; shape: readonly [number, number] };
    [batch, length] = t.shape;
    if (t.data.length !== batch * length) {
      throw new ClipModelError(
        'BAD_TOKENS',
        `token data has ${t.data.length} values, shape [${batch}, ${length}] needs ${batch * length}`,
      );
    }
    flat = t.data;
  } else {
    const rows = tokens as readonly ArrayLike<number>[];
    batch = rows.length;
    length = rows[0]?.length ?? contextLength;
    const data = new Int32Array(batch * length);
    rows.forEach((row, i) => {
      if (row.length !== length) {
        throw new ClipModelError('BAD_TOKENS', `token row ${i} has ${row.length} ids, row 0 has ${length}`);
      }
      for (let j = 0; j < length; j++) data[i * length + j] = row[j]!;
    });
    flat = data;
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
      const v = flat[i * length + j]!;
      if (!Number.isInteger(v) || v < 0 || v >= vocabSize) {
        throw new ClipModelError('BAD_TOKENS', `token row ${i}, position ${j}: id ${v} is outside [0, ${vocabSize})`);
      }
      ids[i * length + j] = v;
      if (v > best) {
        best = v;
        eot[i] = j; // first position of the maximum, like torch.argmax
      }
    }
  }
  return { ids, batch, length, eot };
}
