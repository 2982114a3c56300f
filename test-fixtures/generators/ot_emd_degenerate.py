#!/usr/bin/env python3
"""POT references for @fairclip/ot's network simplex (`emd`) on near-degenerate and tied costs (issue 12).

Each case is an exact OT problem (weights a, b, cost matrix M) on which a network simplex is easily fooled: costs
within 1e-12 of each other, many zeros, all-equal costs, huge ranges (1e-300 .. 1e300 mixed with 0), zero weights,
rectangular problems with n and m one apart, non-uniform weights with ties. The first case is the counterexample
fast-check found (FC_SEED=772379309): the optimum is 0 but the simplex stopped at 1e-12.

For every case this script records POT's `ot.emd(a, b, M, numItermax=1e6, log=True)`: the optimal cost
(`log['cost']`, POT's Σ G_ij M_ij) and POT's result code (1 = optimal). For uniform square problems (a = b = 1/n,
n <= 7) it also records the brute-force optimum over permutations (Birkhoff–von Neumann: some optimal plan is a
permutation matrix / n), computed exactly with fractions.Fraction (every double is a rational) and rounded once to
the nearest double, as an independent check of POT. POT is not always right here: its pricing tolerance is relative
to the potentials, which reach 1e300 in 'huge-range-n6', where it reports optimal (code 1) at 0.333... while the brute
force optimum is 5e-13; the tests hold emd to the brute force there and to "never worse than POT". Costs and weights
are stored as the doubles given to POT (shortest round-trip form), so the TypeScript side solves the same problems.

Run: /usr/bin/python3 test-fixtures/generators/ot_emd_degenerate.py  (writes test-fixtures/data/ot/emd-degenerate.json)
"""
import itertools
import os
from fractions import Fraction

import numpy as np
import ot

from _fixture_io import provenance, write_json

SEED = 20260612
OUT = os.path.join(os.path.dirname(__file__), '..', 'data', 'ot', 'emd-degenerate.json')


def uniform(n):
    return np.full(n, 1.0 / n)


def normalised(w):
    w = np.asarray(w, dtype=np.float64)
    return w / w.sum()


def brute_force(M):
    """min over permutations p of (1/n) Σ_i M[i, p(i)], exactly (Fractions), rounded once to a double."""
    n = M.shape[0]
    exact = [[Fraction(float(v)) for v in row] for row in M]
    best = min(sum(exact[i][p[i]] for i in range(n)) for p in itertools.permutations(range(n)))
    return float(best / n)


def cases(rng):
    out = []

    def add(name, a, b, M, note):
        out.append((name, np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64),
                    np.asarray(M, dtype=np.float64), note))

    # The fast-check counterexample (n = 4, uniform): optimum 0, the old simplex returned 1e-12.
    add('issue12-counterexample', uniform(4), uniform(4),
        [[0, 0, 0, 0], [0, 0, 6.25062599927297, 0], [0, 0, 4e-12, 0], [0, 0, 0, 0]],
        'fast-check FC_SEED=772379309 counterexample; optimum 0')
    # The same with the small cost moved around and repeated.
    add('issue12-variants', uniform(5), uniform(5),
        [[4e-12, 0, 0, 6.25, 0], [0, 4e-12, 6.25, 0, 1e-12], [0, 0, 4e-12, 0, 0], [6.25, 0, 0, 4e-12, 0],
         [0, 2e-12, 0, 0, 4e-12]],
        'zeros, 6.25 and costs of a few 1e-12')

    # Costs within 1e-12 of each other: 1 + k·1e-12 (k = 0..4), and 1e-12-scale noise around a common value.
    for n in (3, 5, 6):
        add(f'near-ties-1e-12-n{n}', uniform(n), uniform(n), 1.0 + 1e-12 * rng.integers(0, 5, size=(n, n)),
            'costs 1 + k·1e-12, k in 0..4')
    add('near-ties-1e-13-n6', uniform(6), uniform(6), 7.0 + 1e-13 * rng.integers(-3, 4, size=(6, 6)),
        'costs 7 + k·1e-13, k in -3..3 (a few ulps of 7 apart)')
    add('near-ties-signed-n5', uniform(5), uniform(5), 1e-12 * rng.integers(-2, 3, size=(5, 5)),
        'costs k·1e-12, k in -2..2 (negative costs allowed)')

    # Many zeros: mostly 0 with a few small and large costs.
    for n in (4, 6):
        M = np.where(rng.random((n, n)) < 0.7, 0.0, rng.choice([4e-12, 1e-9, 1.0, 6.25], size=(n, n)))
        add(f'many-zeros-n{n}', uniform(n), uniform(n), M, '70% zeros, others in {4e-12, 1e-9, 1, 6.25}')
    add('all-zero-n5', uniform(5), uniform(5), np.zeros((5, 5)), 'all costs 0')

    # All-equal costs: every plan is optimal.
    add('all-equal-n6', uniform(6), uniform(6), np.full((6, 6), 3.0), 'all costs 3')
    add('all-equal-4x7-weighted', normalised([1, 2, 3, 4]), normalised([2, 2, 1, 1, 3, 1, 0.5]),
        np.full((4, 7), 0.1), 'all costs 0.1, non-uniform weights')

    # Huge ranges: 0, 1e-300 .. 1e300 mixed; the optimum may only involve the tiny costs.
    values = np.array([0.0, 1e-300, 1e-150, 1e-12, 1.0, 1e150, 1e300])
    for n in (3, 5, 6):
        add(f'huge-range-n{n}', uniform(n), uniform(n), rng.choice(values, size=(n, n)),
            'costs in {0, 1e-300, 1e-150, 1e-12, 1, 1e150, 1e300}')
    # A permutation of tiny costs hidden among 1e300: the optimum is below 1e-299.
    perm = rng.permutation(6)
    M = np.full((6, 6), 1e300)
    M[np.arange(6), perm] = rng.choice([0.0, 1e-300, 2e-300], size=6)
    M[rng.random((6, 6)) < 0.15] = 0.0
    add('huge-range-hidden-permutation-n6', uniform(6), uniform(6), M, '1e300 except a permutation of <= 2e-300')
    add('huge-range-5x4-weighted', normalised([1, 1, 2, 3, 1]), normalised([3, 2, 2, 1]),
        rng.choice(values, size=(5, 4)), 'huge range, non-uniform weights')

    # n and m one apart (rectangular, uniform weights): near ties and many zeros.
    for n, m in ((4, 5), (5, 4), (6, 7), (1, 5), (5, 1)):
        add(f'near-ties-{n}x{m}', uniform(n), uniform(m), 2.0 + 1e-12 * rng.integers(0, 3, size=(n, m)),
            'costs 2 + k·1e-12, k in 0..2')
    add('many-zeros-7x6', uniform(7), uniform(6),
        np.where(rng.random((7, 6)) < 0.6, 0.0, rng.choice([1e-12, 3e-12, 0.5], size=(7, 6))),
        '60% zeros, others in {1e-12, 3e-12, 0.5}')

    # Non-uniform weights with ties (equal weights and equal partial sums: degenerate bases) and tied costs.
    add('weighted-ties-3x3', [0.25, 0.25, 0.5], [0.5, 0.25, 0.25], [[0, 1, 1], [1, 0, 1], [1, 1, 0]],
        'partial sums of a and b coincide')
    add('weighted-ties-4x6', normalised([2, 1, 1, 2]), normalised([1, 1, 1, 1, 1, 1]),
        rng.integers(0, 3, size=(4, 6)).astype(np.float64), 'integer costs 0..2, weights 2:1:1:2 vs uniform')
    add('weighted-near-ties-6x5', normalised([3, 1, 1, 1, 2, 2]), normalised([2, 2, 2, 2, 2]),
        1.0 + 1e-12 * rng.integers(0, 4, size=(6, 5)), 'costs 1 + k·1e-12, tied weights')
    add('weighted-zero-weights-5x5', [0.3, 0.0, 0.3, 0.4, 0.0], [0.0, 0.5, 0.25, 0.0, 0.25],
        [[0, 1e-12, 0, 5, 0], [0, 0, 0, 0, 0], [1e-12, 0, 2e-12, 0, 0], [3, 0, 0, 1e-12, 7], [0, 0, 0, 0, 0]],
        'zero weights in a and b (POT leaves those rows and columns out)')

    # Larger degenerate problems: integer costs {0, 1, 2} and |i − j| (many optimal plans).
    add('ties-012-n20', uniform(20), uniform(20), rng.integers(0, 3, size=(20, 20)).astype(np.float64),
        'integer costs 0..2, n = 20')
    idx = np.arange(16)
    add('abs-diff-16x12', uniform(16), uniform(12),
        np.abs(idx[:, None] * 3 - np.arange(12)[None, :] * 4).astype(np.float64), '|3i - 4j|: many optimal plans')
    add('near-ties-weighted-25x30', normalised(rng.integers(1, 4, size=25)), normalised(rng.integers(1, 4, size=30)),
        1.0 + 1e-12 * rng.integers(0, 6, size=(25, 30)), 'costs 1 + k·1e-12, weights 1..3, n = 25, m = 30')
    return out


def main():
    rng = np.random.default_rng(SEED)
    records = []
    for name, a, b, M, note in cases(rng):
        G, log = ot.emd(a, b, M, numItermax=1_000_000, log=True)
        rec = {
            'name': name, 'note': note, 'n': int(M.shape[0]), 'm': int(M.shape[1]),
            'a': [float(v) for v in a], 'b': [float(v) for v in b], 'M': [[float(v) for v in row] for row in M],
            'pot_cost': float(log['cost']), 'pot_result_code': int(log['result_code']),
        }
        n, m = M.shape
        if n == m and n <= 7 and np.all(a == 1.0 / n) and np.all(b == 1.0 / n):
            rec['brute_force'] = brute_force(M)
        records.append(rec)
    out = {
        **provenance(__file__, SEED, numpy=np, pot=ot),
        'definition': 'pot_cost = ot.emd(a, b, M, numItermax=1e6, log=True)[1]["cost"]; brute_force = min over '
                      'permutations p of (1/n) sum_i M[i, p(i)] (uniform square cases, exact, rounded once)',
        'cases': records,
    }
    write_json(OUT, out, separators=(',', ':'))
    print(f'wrote {os.path.normpath(OUT)} ({len(records)} cases)')
    for r in records:
        bf = r.get('brute_force')
        print(f"  {r['name']}: POT {r['pot_cost']!r} (code {r['pot_result_code']})" +
              ('' if bf is None else f', brute force {bf!r}' + ('' if bf == r['pot_cost'] else '  <-- differs')))


if __name__ == '__main__':
    main()
