/**
 * Host-side state dicts: name → tensor data on the CPU, independent of any tensor engine. Floating-point tensors of
 * every stored precision (F16, BF16, F32, F64) become float32; integer tensors (int64 buffers such as BatchNorm's
 * num_batches_tracked or Hugging Face's position_ids) become BigInt64Array.
 */

export interface HostTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array | BigInt64Array;
}

export type StateDict = Map<string, HostTensor>;

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** The shapes of a state dict (what configuration inference and mismatch checks need). */
export function stateDictShapes(sd: ReadonlyMap<string, HostTensor>): Map<string, readonly number[]> {
  return new Map([...sd].map(([k, v]) => [k, v.shape]));
}

export function isFloatTensor(t: HostTensor): t is HostTensor & { data: Float32Array } {
  return t.data instanceof Float32Array;
}

/** Where a state dict first holds NaN or ±Infinity in a floating-point tensor, with counts; undefined when nowhere. */
export interface NonFiniteReport {
  name: string;
  index: number;
  value: number;
  /** Non-finite values in that tensor. */
  count: number;
  /** Floating-point tensors holding any. */
  tensors: number;
}

/** Scans every floating-point tensor once (a comparison per value). */
export function findNonFinite(sd: ReadonlyMap<string, HostTensor>): NonFiniteReport | undefined {
  let first: NonFiniteReport | undefined;
  let tensors = 0;
  for (const [name, t] of sd) {
    const data = t.data;
    if (!(data instanceof Float32Array)) continue;
    let count = 0;
    let index = -1;
    for (let i = 0; i < data.length; i++) {
      // x - x is 0 for finite x and NaN for NaN and ±Infinity.
      const x = data[i]!;
      if (x - x !== 0) {
        if (index < 0) index = i;
        count++;
      }
    }
    if (count > 0) {
      tensors++;
      first ??= { name, index, value: data[index]!, count, tensors: 0 };
    }
  }
  if (first !== undefined) first.tensors = tensors;
  return first;
}
