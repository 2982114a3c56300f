/**
 * Folding of large 1-D dispatches into 2-D/3-D grids. WebGPU caps every grid dimension at
 * `maxComputeWorkgroupsPerDimension` (65,535 by default); a kernel that needs more workgroups than that gets a
 * [x, y, z] grid whose product covers the count, and recovers its flat workgroup index as
 * `z * nx * ny + y * nx + x` (workgroups past the count do nothing).
 */
import { ComputeError } from './errors.ts';

export type Dispatch = [number, number, number];

/** The smallest folded grid (x kept at the limit) covering `count` workgroups; [0, 1, 1] for none. */
export function foldDispatch(count: number, maxPerDimension = 65_535): Dispatch {
  if (!(Number.isInteger(count) && count >= 0)) {
    throw new ComputeError('INVALID_ARGUMENT', `foldDispatch: count must be an integer >= 0, got ${count}`);
  }
  if (!(Number.isInteger(maxPerDimension) && maxPerDimension >= 1)) {
    throw new ComputeError(
      'INVALID_ARGUMENT',
      `foldDispatch: maxPerDimension must be an integer >= 1, got ${maxPerDimension}`,
    );
  }
  if (count <= maxPerDimension) return [count, 1, 1];
  const y = Math.ceil(count / maxPerDimension);
  if (y <= maxPerDimension) return [maxPerDimension, y, 1];
  const plane = maxPerDimension * maxPerDimension;
  const z = Math.ceil(count / plane);
  if (z > maxPerDimension) {
    throw new ComputeError(
      'DISPATCH_TOO_LARGE',
      `A dispatch of ${count} workgroups exceeds ${maxPerDimension}^3 even folded into 3-D; split the work into batches.`,
    );
  }
  return [maxPerDimension, maxPerDimension, z];
}

/** Number of workgroups a folded grid launches (at least the count it was folded from). */
export function dispatchSize(d: Dispatch): number {
  return d[0] * d[1] * d[2];
}
