/**
 * The float64 core against geomloss 0.2.6 (`SamplesLoss("sinkhorn", backend="tensorized")` in float64, see
 * test-fixtures/data/golden/README.md, section ot/sinkhorn.json): loss to 1e-6 relative, gradients w.r.t. points and
 * weights and dual potentials to 1e-5 of their scale, ε schedule and diameter to a few ulps.
 */
import { describe, expect, it } from 'vitest';
import { type SamplesLossOptions, samplesLoss } from '../src/index.ts';
import { type GeomlossCase, geomlossCases } from './golden.ts';
import { expectNear, scaledMaxError, ulpDistance } from './helpers.ts';

function optionsOf(c: GeomlossCase): SamplesLossOptions {
  const o: SamplesLossOptions = {
    loss: 'sinkhorn',
    p: c.p,
    blur: c.blur,
    scaling: c.scaling,
    debias: c.debias,
    solver: 'sinkhorn',
    geomlossCompatible: true,
  };
  if (c.diameter !== null) o.diameter = c.diameter;
  if (c.reach !== null) o.reach = c.reach;
  if (c.weighted && c.a && c.b) {
    o.a = c.a;
    o.b = c.b;
  }
  return o;
}

const cases = geomlossCases();

describe('samplesLoss vs geomloss 0.2.6 (float64)', () => {
  it('has the 37 documented cases', () => {
    expect(cases.length).toBe(37);
  });

  for (const mode of ['dense', 'online'] as const) {
    describe(`cost mode ${mode}`, () => {
      it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
        const r = samplesLoss(c.x, c.y, { ...optionsOf(c), costMode: mode });
        expect(r.solver).toBe('sinkhorn');
        expect(r.costMode).toBe(mode);
        expectNear(r.value, c.loss, 1e-6, 1e-12, 'loss');
        expect(scaledMaxError(r.gradX, c.grad_x.flat()), 'grad_x').toBeLessThanOrEqual(1e-5);
        expect(scaledMaxError(r.gradY, c.grad_y.flat()), 'grad_y').toBeLessThanOrEqual(1e-5);
        expect(scaledMaxError(r.f, c.potential_f, 1e-12), 'potential_f').toBeLessThanOrEqual(1e-5);
        expect(scaledMaxError(r.g, c.potential_g, 1e-12), 'potential_g').toBeLessThanOrEqual(1e-5);
        if (c.grad_a && c.grad_b) {
          expect(scaledMaxError(r.gradA, c.grad_a), 'grad_a').toBeLessThanOrEqual(1e-5);
          expect(scaledMaxError(r.gradB, c.grad_b), 'grad_b').toBeLessThanOrEqual(1e-5);
        }
        // The schedule: same length; each ε within 16 ulps: V8's Math.log differs from glibc's by 1 ulp on some
        // inputs, which shifts numpy's arange start (observed: at most 8 ulps); diameter within 2 ulps (torch's norm).
        expect(r.epsList.length).toBe(c.n_eps);
        expect(r.iterations).toBe(c.n_eps);
        for (let k = 0; k < c.n_eps; k++) expect(ulpDistance(r.epsList[k]!, c.eps_list[k]!)).toBeLessThanOrEqual(16);
        expect(ulpDistance(r.diameter, c.diameter_used)).toBeLessThanOrEqual(2);
        expect(r.epsilon).toBe(c.blur ** 2);
      });
    });
  }

  it('the identical-clouds case gives exactly 0', () => {
    const c = cases.find((k) => k.name.startsWith('identical'))!;
    const r = samplesLoss(c.x, c.y, optionsOf(c));
    expect(r.value).toBe(0);
    expect(c.loss).toBe(0);
  });

  it('FairCLIP-shaped cases (values ~1e4, blur down to 1e-6) stay finite and match', () => {
    const fc = cases.filter((k) => k.name.includes('fairclip') || k.name.includes('repro'));
    expect(fc.length).toBe(4);
    for (const c of fc) {
      const r = samplesLoss(c.x, c.y, optionsOf(c));
      expect(Number.isFinite(r.value)).toBe(true);
      expectNear(r.value, c.loss, 1e-6, 0, c.name);
    }
  });
});
