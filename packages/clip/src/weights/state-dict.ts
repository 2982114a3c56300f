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
