// The float64 JS references against NumPy/SciPy/PyTorch (fixture), and the online kernel body against the
// two-pass reference. Tolerances are float64-level: these are the yardsticks the backends are measured with.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { costFromSquaredDistance, softminReference } from '../src/index.ts';
import {
  erfRef,
  expectAllClose,
  geluRef,
  layerNormRef,
  logSumExpRef,
  matMulRef,
  quickGeluRef,
  softmaxRef,
  softminOnlineF64,
} from '../src/testing.ts';
import { referenceOps as R } from './fixtures.ts';

const F64 = { rtol: 1e-12, atol: 1e-12 };

describe('float64 references match the Python fixture', () => {
  test.each(R.softmin.map((c) => [c.name, c] as const))('softminReference %s (scipy logsumexp over cdist)', (_, c) => {
    expectAllClose(softminReference(c.x, c.y, c.h, c.n, c.m, c.d, c.eps, c.p), c.f, { ...F64, label: c.name });
  });

  test('softminReference batched case, batch by batch', () => {
    const c = R.softmin_batched[0]!;
    for (let b = 0; b < c.b; b++) {
      const f = softminReference(
        c.x.slice(b * c.n * c.d, (b + 1) * c.n * c.d),
        c.y.slice(b * c.m * c.d, (b + 1) * c.m * c.d),
        c.h.slice(b * c.m, (b + 1) * c.m),
        c.n,
        c.m,
        c.d,
        c.eps,
        c.p,
      );
      expectAllClose(f, c.f.slice(b * c.n, (b + 1) * c.n), F64);
    }
  });

  test('matMulRef (numpy @)', () => {
    const { m, k, n, a, b, c } = R.matmul;
    expectAllClose(matMulRef(a, b, m, k, n), c, F64);
  });

  test('softmaxRef and logSumExpRef (scipy.special), including a row shifted by +1000', () => {
    const s = R.softmax;
    expectAllClose(softmaxRef(s.x, s.d), s.softmax, F64);
    expectAllClose(logSumExpRef(s.x, s.d), s.logsumexp, F64);
  });

  test('layerNormRef (torch.nn.functional.layer_norm, float64)', () => {
    const l = R.layer_norm;
    expectAllClose(layerNormRef(l.x, l.d, l.gamma, l.beta, l.epsilon), l.y, F64);
  });

  test('geluRef (torch exact GELU) and quickGeluRef', () => {
    // 1 + erf(x/√2) cancels for very negative x in both implementations: compare at an absolute 1e-14.
    expectAllClose(geluRef(R.gelu.x), R.gelu.gelu, { rtol: 1e-13, atol: 1e-14 });
    expectAllClose(quickGeluRef(R.gelu.x), R.gelu.quick_gelu, F64);
  });
});

describe('reference laws', () => {
  test('erfRef known values and odd symmetry', () => {
    expect(erfRef(0)).toBe(0);
    expect(erfRef(1)).toBeCloseTo(0.8427007929497149, 15);
    expect(erfRef(-2)).toBeCloseTo(-0.9953222650189527, 15);
    expect(erfRef(10)).toBe(1);
    expect(erfRef(Number.NaN)).toBeNaN();
  });

  test('cost: p = 2 is half the squared distance, p = 1 the distance, general p', () => {
    expect(costFromSquaredDistance(9, 2)).toBe(4.5);
    expect(costFromSquaredDistance(9, 1)).toBe(3);
    expect(costFromSquaredDistance(9, 3)).toBeCloseTo(9, 12);
  });

  test('softminReference: one point gives C − ε·h exactly; m = 0 gives +∞', () => {
    const f = softminReference([0.5, -1], [2, 1], [0.3], 1, 1, 2, 0.25, 2);
    expect(f[0]).toBeCloseTo(0.5 * (1.5 ** 2 + 2 ** 2) - 0.25 * 0.3, 14);
    expect(softminReference([1, 2], [], [], 2, 0, 1, 0.1)[0]).toBe(Number.POSITIVE_INFINITY);
  });

  test('softminReference rejects bad arguments with the problem named', () => {
    expect(() => softminReference([1], [1], [0], 1, 1, 1, 0)).toThrow(/eps must be a finite number > 0/);
    expect(() => softminReference([1], [1], [0], 1, 1, 1, 0.1, -1)).toThrow(/p must be/);
    expect(() => softminReference([1, 2], [1], [0], 1, 1, 1, 0.1)).toThrow(/x has 2 values, expected n\*d = 1/);
    expect(() => softminReference([1], [1], [0, 0], 1, 1, 1, 0.1)).toThrow(/h has 2 values/);
  });

  test('property: the online float64 kernel body equals the two-pass reference', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 0, max: 4 }),
        fc.constantFrom(1, 2, 1.5, 3),
        fc.double({ min: 1e-3, max: 10, noNaN: true }),
        fc.integer(),
        (n, m, d, p, eps, seed) => {
          let s = seed >>> 0 || 7;
          const rnd = () => {
            s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
            return (s / 2 ** 32) * 4 - 2;
          };
          const x = Float64Array.from({ length: n * d }, rnd);
          const y = Float64Array.from({ length: m * d }, rnd);
          const h = Float64Array.from({ length: m }, rnd);
          const out = new Float64Array(n);
          softminOnlineF64(x, y, h, 1, n, m, d, eps, p, out);
          const ref = softminReference(x, y, h, n, m, d, eps, p);
          for (let i = 0; i < n; i++) expect(out[i]).toBeCloseTo(ref[i]!, 9);
        },
      ),
    );
  });

  test('online kernel body: −∞ entries of h are ignored, all −∞ gives +∞, +∞ gives −∞, NaN propagates', () => {
    const cases: Array<[number[], number]> = [
      [[Number.NEGATIVE_INFINITY, 0.5, Number.NEGATIVE_INFINITY], -0.1 * 0.5],
      [[Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY], Number.POSITIVE_INFINITY],
      [[0, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY], Number.NEGATIVE_INFINITY],
      [[0, Number.NaN, 1], Number.NaN],
    ];
    for (const [h, want] of cases) {
      const out = new Float64Array(1);
      const y = new Float64Array(h.length); // all points at the origin, like x: cost 0
      softminOnlineF64([0], y, h, 1, 1, h.length, 1, 0.1, 2, out);
      const ref = softminReference([0], y, h, 1, h.length, 1, 0.1, 2);
      expectAllClose(out, [want], F64);
      expectAllClose(ref, [want], F64);
    }
  });
});
