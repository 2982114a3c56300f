/**
 * Hostile input to samplesLoss and sinkhorn (issue 14): scales that overflow float64 get a one-line OtInputError up
 * front, a result that is still not finite is thrown ('NON_FINITE_RESULT') instead of returned with converged: true,
 * and the ε schedule's length is capped before anything is allocated (the former memory bomb runs in a child process,
 * its peak RSS asserted).
 */
import { describe, expect, it } from 'vitest';
import { type OtErrorCode, OtInputError, samplesLoss, sinkhorn } from '../src/index.ts';
import { DEFAULT_MAX_SCHEDULE_LENGTH, epsilonSchedule, scheduleLength } from '../src/schedule.ts';
import { geomlossCases } from './golden.ts';
import { runScript } from './spawn-script.ts';

function caught(fn: () => unknown): OtInputError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'an OtInputError was thrown').toBeInstanceOf(OtInputError);
  return err as OtInputError;
}

function expectOtError(fn: () => unknown, code: OtErrorCode, message: RegExp): void {
  const err = caught(fn);
  expect(err.code).toBe(code);
  expect(err.message).toMatch(message);
  // One line, bounded.
  expect(err.message).not.toContain('\n');
  expect(err.message.length).toBeLessThan(300);
}

const x2 = [
  [0, 0],
  [1, 1],
  [0.3, 0.8],
];
const y2 = [
  [0.5, 1],
  [3, 0],
  [1, 2],
];

describe('samplesLoss: scales that overflow float64', () => {
  it('1-D points at 1e200 (was Infinity with converged: true) are refused on every path', () => {
    for (const opts of [
      {},
      { geomlossCompatible: true },
      { solver: 'sinkhorn' as const },
      { loss: 'energy' as const },
    ]) {
      expectOtError(
        () => samplesLoss([1e200, -1e200, 3], [0, 1, 2], opts),
        'NON_FINITE_POINTS',
        /squared distances overflow float64 .*spread over 2e\+200.*rescale the points/,
      );
    }
    expectOtError(
      () =>
        samplesLoss(
          [
            [1e160, 0],
            [0, 1],
          ],
          y2.slice(0, 2),
        ),
      'NON_FINITE_POINTS',
      /squared distances overflow/,
    );
    // p = 1: the largest distance (not its square) must be finite; 1e200 spans pass, the square check still refuses.
    expectOtError(() => samplesLoss([1e200, 0], [0, 1], { p: 1 }), 'NON_FINITE_POINTS', /overflow/);
  });

  it('blur 1e300 (was NaN without an error): blur^p overflows', () => {
    expectOtError(
      () => samplesLoss([0, 1, 2], [0.5, 1, 3], { blur: 1e300 }),
      'INVALID_EPSILON',
      /blur\^p overflows float64 \(blur 1e\+300, p 2\)/,
    );
    expectOtError(() => samplesLoss(x2, y2, { blur: 1e300, debias: false }), 'INVALID_EPSILON', /overflows/);
    // p = 1 keeps ε = 1e300 finite: a finite value (the large-ε limit), no error.
    const r = samplesLoss(x2, y2, { blur: 1e300, p: 1 });
    expect(Number.isFinite(r.value)).toBe(true);
  });

  it('a blur so small that C/ε overflows is refused on the Sinkhorn path, kept on the exact 1-D path', () => {
    const far = [
      [0, 0],
      [1e5, 1],
    ];
    expectOtError(
      () => samplesLoss(far, y2.slice(0, 2), { blur: 1e-150 }),
      'INVALID_EPSILON',
      /blur 1e-150 is too small .*C\/ε overflows float64/,
    );
    // 1-D balanced: the exact path never divides by ε; its value is W (finite).
    const r = samplesLoss([0, 1e5], [1, 3], { blur: 1e-150 });
    expect(r.solver).toBe('exact-1d');
    expect(r.value).toBeCloseTo(0.5 * (0.5 * 1 + 0.5 * (1e5 - 3) ** 2), 0);
  });

  it('reach and diameter whose p-th power overflows are refused', () => {
    expectOtError(() => samplesLoss(x2, y2, { reach: 1e300 }), 'INVALID_OPTION', /reach\^p overflows float64/);
    expectOtError(
      () => samplesLoss(x2, y2, { diameter: 1e300 }),
      'INVALID_OPTION',
      /diameter must be a number > 0 with a finite diameter\^p, got 1e\+300/,
    );
  });

  it('kernel losses: a gaussian blur whose square underflows is refused (was NaN)', () => {
    expectOtError(
      () => samplesLoss([1, 0], [0, 1], { loss: 'gaussian', blur: 1e-200 }),
      'INVALID_OPTION',
      /blur² must be a finite number > 0/,
    );
  });

  it('a result that is still not finite is thrown, never returned (NON_FINITE_RESULT)', () => {
    // Masses of 1e300 times costs of 1e10: every input check passes, the weighted sums overflow.
    const w = [1e300, 1e300];
    for (const opts of [
      { loss: 'energy' as const },
      { loss: 'sinkhorn' as const, solver: 'sinkhorn' as const },
      { loss: 'sinkhorn' as const, solver: 'exact-1d' as const },
    ]) {
      expectOtError(
        () => samplesLoss([0, 1e5], [1e5, 3e5], { ...opts, a: w, b: w }),
        'NON_FINITE_RESULT',
        /samplesLoss: the .* is not finite in float64 \(value (Infinity|NaN)/,
      );
    }
  });
});

describe('samplesLoss: the ε-schedule length is capped', () => {
  it('scheduleLength equals the length of every golden geomloss schedule', () => {
    const cases = geomlossCases();
    expect(cases.length).toBeGreaterThan(10);
    for (const c of cases) {
      expect(scheduleLength(c.p, c.diameter_used, c.blur, c.scaling)).toBe(c.n_eps);
      expect(epsilonSchedule(c.p, c.diameter_used, c.blur, c.scaling).length).toBe(c.n_eps);
    }
  });

  it('geomloss-style scalings stay under the default cap; 0.9999999 is refused naming scaling, length and cap', () => {
    expect(DEFAULT_MAX_SCHEDULE_LENGTH).toBe(10_000);
    // 0.99 over twelve decades of diameter/blur: 2,752 steps.
    expect(scheduleLength(2, 1, 1e-12, 0.99)).toBe(2 + Math.ceil(Math.log(1e-12) / Math.log(0.99)));
    expect(epsilonSchedule(2, 1, 1e-12, 0.99).length).toBeLessThan(DEFAULT_MAX_SCHEDULE_LENGTH);
    expectOtError(
      () => samplesLoss(x2, y2, { blur: 1e-6, scaling: 0.9999999, geomlossCompatible: true }),
      'INVALID_OPTION',
      /scaling 0\.9999999 gives an ε schedule of \d+ steps .*over the cap of 10000: .*maxScheduleLength/,
    );
  });

  it('maxScheduleLength is configurable both ways', () => {
    const n = scheduleLength(2, Math.hypot(3, 2), 0.01, 0.9);
    expectOtError(
      () => samplesLoss(x2, y2, { blur: 0.01, scaling: 0.9, maxScheduleLength: n - 1 }),
      'INVALID_OPTION',
      new RegExp(`gives an ε schedule of ${n} steps .*over the cap of ${n - 1}`),
    );
    const r = samplesLoss(x2, y2, { blur: 0.01, scaling: 0.9, maxScheduleLength: n, geomlossCompatible: true });
    expect(r.epsList.length).toBe(n);
    expectOtError(() => samplesLoss(x2, y2, { maxScheduleLength: 1.5 }), 'INVALID_OPTION', /integer >= 2/);
  });

  it('the former 4 GB bomb stops at once in a child process (peak RSS < 400 MB)', async () => {
    const r = await runScript('schedule-bomb.ts', [], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { code: string; message: string; maxRssKb: number };
    expect(out.code).toBe('INVALID_OPTION');
    expect(out.message).toMatch(/scaling 0\.9999999 gives an ε schedule of 161923051 steps.*cap of 10000/);
    expect(out.maxRssKb / 1024).toBeLessThan(400);
  }, 90_000);
});

describe('sinkhorn (cost matrix): scales that overflow float64', () => {
  const a = [0.5, 0.5];
  for (const method of ['standard', 'log'] as const) {
    it(`${method}: C/ε that overflows is refused (reg tiny, costs huge)`, () => {
      expectOtError(
        () =>
          sinkhorn(
            a,
            a,
            [
              [0, 1],
              [1, 0],
            ],
            1e-320,
            { method },
          ),
        'INVALID_EPSILON',
        /C\/ε overflows float64 \(largest \|C\| 1, ε 1e-320\)/,
      );
      expectOtError(
        () =>
          sinkhorn(
            a,
            a,
            [
              [1, 1e300],
              [1e300, 1],
            ],
            5e-324,
            { method },
          ),
        'INVALID_EPSILON',
        /C\/ε overflows/,
      );
    });

    it(`${method}: reg 1e300 and reg 1e-300 give finite results (no overflow there)`, () => {
      const big = sinkhorn(
        a,
        a,
        [
          [0, 1],
          [1, 0],
        ],
        1e300,
        { method },
      );
      expect(big.converged).toBe(true);
      expect(big.transportCost).toBeCloseTo(0.5, 12); // independent coupling a⊗b
      const tiny = sinkhorn(
        a,
        a,
        [
          [0, 1],
          [1, 0],
        ],
        1e-300,
        { method },
      );
      expect(tiny.converged).toBe(true);
      expect(tiny.transportCost).toBe(0); // the identity matching, off-diagonal mass exp(−1e300) = 0
      expect(Number.isFinite(tiny.value)).toBe(true);
    });
  }

  it("standard: exp(−C/ε) that overflows is refused, pointing to 'log' (was NaN)", () => {
    expectOtError(
      () =>
        sinkhorn(
          a,
          a,
          [
            [-1000, 0],
            [0, -1000],
          ],
          1,
          { method: 'standard' },
        ),
      'INVALID_EPSILON',
      /method 'standard' overflows: exp\(−C\/ε\) is infinite for C = -1000 at ε = 1; use method 'log'/,
    );
    // The log domain solves the same problem: the diagonal plan.
    const r = sinkhorn(
      a,
      a,
      [
        [-1000, 0],
        [0, -1000],
      ],
      1,
      { method: 'log' },
    );
    expect(r.transportCost).toBeCloseTo(-1000, 9);
  });

  it('standard: costs whose kernel underflows everywhere are reported (POT numerical errors), finite', () => {
    const r = sinkhorn(
      a,
      a,
      [
        [1.7e308, 1e308],
        [1e308, 1.7e308],
      ],
      1,
      { method: 'standard' },
    );
    expect(r.converged).toBe(false);
    expect(r.warnings.join(' ')).toMatch(/numerical errors at iteration 0/);
  });

  it('log: ⟨P, C⟩ that overflows is thrown (was Infinity with converged: true)', () => {
    expectOtError(
      () =>
        sinkhorn(
          a,
          a,
          [
            [1.7e308, 1.7e308],
            [1.7e308, 1.7e308],
          ],
          1,
          { method: 'log' },
        ),
      'NON_FINITE_RESULT',
      /sinkhorn: the result is not finite in float64 .*rescale the cost matrix/,
    );
  });

  it('log with epsScaling: C/ε overflow is refused before the first stage', () => {
    expectOtError(
      () =>
        sinkhorn(
          a,
          a,
          [
            [0, 1e300],
            [1e300, 0],
          ],
          1e-300,
          { epsScaling: {} },
        ),
      'INVALID_EPSILON',
      /C\/ε overflows/,
    );
  });
});
