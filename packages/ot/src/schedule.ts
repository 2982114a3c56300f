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
 * Default cap on the ε schedule's length (= symmetric updates). geomloss's recommended scalings stay far below it:
 * 0.5 gives ~20–90 steps, 0.9 ~130–260 and 0.99 ~1,400–2,800 for diameter/blur between 10⁶ and 10¹²; 10,000 steps
 * is scaling 0.99 at diameter/blur 10⁴³. Scalings closer to 1 (0.9999999: 2.8·10⁸ steps, minutes and gigabytes)
 * are refused before anything is allocated.
 */
export const DEFAULT_MAX_SCHEDULE_LENGTH = 10_000;

/** Formats a user-given number for an error message (bounded length). */
function fmt(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(10))) : String(v);
}

/** Length of the list `epsilonSchedule` returns, computed without building it (0 mid entries when none). */
export function scheduleLength(p: number, diameter: number, blur: number, scaling: number): number {
  const mid = Math.ceil((p * Math.log(blur) - p * Math.log(diameter)) / (p * Math.log(scaling)));
  return 2 + Math.max(mid, 0);
}

/**
 * The ε list geomloss iterates over. `diameter` must be > 0 (geomloss crashes on 0: see `scheduleDiameter`).
 * Requires 0 < scaling < 1 and blur > 0. Refuses (OtInputError) a schedule longer than `maxLength` entries.
 */
export function epsilonSchedule(
  p: number,
  diameter: number,
  blur: number,
  scaling: number,
  maxLength: number = DEFAULT_MAX_SCHEDULE_LENGTH,
): number[] {
  if (!(scaling > 0 && scaling < 1)) {
    throw new OtInputError('INVALID_OPTION', `scaling must be in (0, 1), got ${fmt(scaling)}`);
  }
  if (!(blur > 0 && Number.isFinite(blur) && Number.isFinite(blur ** p) && blur ** p > 0)) {
    throw new OtInputError(
      'INVALID_EPSILON',
      `blur must be a number > 0 with a finite, non-zero blur^p, got blur ${fmt(blur)} (p ${fmt(p)})`,
    );
  }
  if (!(diameter > 0 && Number.isFinite(diameter) && Number.isFinite(diameter ** p))) {
    throw new OtInputError(
      'INVALID_OPTION',
      `diameter must be a number > 0 with a finite diameter^p, got ${fmt(diameter)} (p ${fmt(p)}); rescale the points`,
    );
  }
  if (!(Number.isInteger(maxLength) && maxLength >= 2)) {
    throw new OtInputError('INVALID_OPTION', `maxScheduleLength must be an integer >= 2, got ${fmt(maxLength)}`);
  }
  const len = scheduleLength(p, diameter, blur, scaling);
  if (!(len <= maxLength)) {
    throw new OtInputError(
      'INVALID_OPTION',
      `scaling ${fmt(scaling)} gives an ε schedule of ${fmt(len)} steps (diameter ${fmt(diameter)} to blur ${fmt(blur)}), ` +
        `over the cap of ${maxLength}: use a smaller scaling (geomloss suggests 0.5 to 0.9) or raise maxScheduleLength`,
    );
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
      throw new OtInputError('INVALID_OPTION', `diameter must be a finite number > 0, got ${fmt(diameter)}`);
    }
    return diameter;
  }
  const est = maxDiameter(x, y);
  return est > 0 ? est : blur;
}
