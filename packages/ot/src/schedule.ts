/**
 * geomloss's ε-scaling heuristic (SamplesLoss, version 0.2.6), reproduced to the last bit where float64 allows:
 *
 *   diameter = ‖max − min‖₂ over both clouds (per-coordinate max and min), unless given;
 *   ε_s      = [diameter^p] + exp(arange(p·ln diameter, p·ln blur, p·ln scaling)) + [blur^p].
 *
 * One symmetric Sinkhorn update is run per entry of ε_s, so its length is the iteration count.
 */
import { OtInputError } from './errors.ts';
import type { Cloud } from './inputs.ts';

/** Euclidean norm of the bounding-box diagonal of x ∪ y (geomloss `max_diameter`). */
export function maxDiameter(x: Cloud, y: Cloud): number {
  const d = x.d;
  if (y.d !== d) throw new OtInputError('SHAPE_MISMATCH', `x has dimension ${d} but y has ${y.d}`);
  let s = 0;
  for (let k = 0; k < d; k++) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const c of [x, y]) {
      for (let i = 0; i < c.n; i++) {
        const v = c.data[i * d + k]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    const w = hi - lo;
    s += w * w;
  }
  return Math.sqrt(s);
}

/**
 * numpy.arange(start, stop, step) for float64: length ceil((stop − start)/step), values start + i·delta with
 * delta = (start + step) − start (numpy fills from its first two values).
 */
export function npArange(start: number, stop: number, step: number): number[] {
  const len = Math.ceil((stop - start) / step);
  if (!(len > 0)) return [];
  const out = [start];
  if (len === 1) return out;
  const second = start + step;
  const delta = second - start;
  out.push(second);
  for (let i = 2; i < len; i++) out.push(start + i * delta);
  return out;
}

/**
 * The ε list geomloss iterates over. `diameter` must be > 0 (geomloss crashes on 0: see `scheduleDiameter`).
 * Requires 0 < scaling < 1 and blur > 0.
 */
export function epsilonSchedule(p: number, diameter: number, blur: number, scaling: number): number[] {
  if (!(scaling > 0 && scaling < 1)) {
    throw new OtInputError('INVALID_OPTION', `scaling must be in (0, 1), got ${scaling}`);
  }
  if (!(blur > 0 && Number.isFinite(blur))) {
    throw new OtInputError('INVALID_EPSILON', `blur must be a finite number > 0, got ${blur}`);
  }
  if (!(diameter > 0 && Number.isFinite(diameter))) {
    throw new OtInputError('INVALID_OPTION', `diameter must be a finite number > 0, got ${diameter}`);
  }
  const mid = npArange(p * Math.log(diameter), p * Math.log(blur), p * Math.log(scaling)).map((e) => Math.exp(e));
  return [diameter ** p, ...mid, blur ** p];
}

/**
 * The diameter used by the schedule: the given one, else geomloss's estimate. A zero estimate (every point
 * identical) would make geomloss divide by zero; we use blur instead (the schedule is then [blur^p, blur^p]).
 */
export function scheduleDiameter(x: Cloud, y: Cloud, blur: number, diameter: number | undefined): number {
  if (diameter !== undefined) {
    if (!(Number.isFinite(diameter) && diameter > 0)) {
      throw new OtInputError('INVALID_OPTION', `diameter must be a finite number > 0, got ${diameter}`);
    }
    return diameter;
  }
  const est = maxDiameter(x, y);
  return est > 0 ? est : blur;
}
