#!/usr/bin/env python3
"""Float64 reference outputs for @fairclip/compute's conformance suite, from NumPy/SciPy/PyTorch.

- softmin: f_i = -eps * logsumexp_j(h_j - |x_i - y_j|^p / (p * eps)) with scipy.special.logsumexp over a
  scipy.spatial.distance.cdist Euclidean distance matrix (materialised, the opposite of the fused kernel), for
  several (n, m, d, eps, p) including geomloss's clamped log-weight -100000 and a batched case.
- matmul (numpy), softmax / logsumexp over the last axis (scipy.special, with large logits to test overflow),
  layer_norm (torch.nn.functional.layer_norm in float64), gelu (torch exact erf GELU), quick_gelu (x*sigmoid(1.702x)).
Inputs are float32-representable (drawn in float32, stored as float64) so float32 backends see exactly these inputs.

Run: /usr/bin/python3 test-fixtures/generators/compute_reference_ops.py  (writes test-fixtures/data/compute/reference-ops.json)
"""
import os

import numpy as np
import scipy
import scipy.special
from scipy.spatial.distance import cdist
import torch

from _fixture_io import provenance, write_json

SEED = 20240613
OUT = os.path.join(os.path.dirname(__file__), '..', 'data', 'compute', 'reference-ops.json')


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def flat(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def softmin(x, y, h, eps, p):
    dist = cdist(x, y, 'euclidean') if x.shape[1] > 0 else np.zeros((x.shape[0], y.shape[0]))
    c = dist ** p / p
    return -eps * scipy.special.logsumexp(h[None, :] - c / eps, axis=1)


def main():
    rng = np.random.default_rng(SEED)
    softmin_cases = []
    specs = [
        # name, n, m, d, eps, p, x scale, h scale
        ('p2-d3', 17, 29, 3, 0.1, 2.0, 1.0, 1.0),
        ('p2-d1-small-eps', 12, 40, 1, 1e-3, 2.0, 1.0, 0.0),
        ('p1-d2', 15, 21, 2, 0.05, 1.0, 1.0, 1.0),
        ('p1.5-d5', 9, 33, 5, 0.2, 1.5, 2.0, 3.0),
        ('p2-d40-generic', 7, 19, 40, 0.5, 2.0, 0.5, 1.0),
        ('p2-large-eps', 10, 10, 3, 100.0, 2.0, 1.0, 1.0),
        ('p2-size-1', 1, 1, 1, 0.1, 2.0, 1.0, 1.0),
        ('p2-far-clouds', 8, 12, 2, 0.01, 2.0, 1.0, 1.0),
    ]
    for name, n, m, d, eps, p, xs, hs in specs:
        x = f32(rng.standard_normal((n, d)) * xs)
        y = f32(rng.standard_normal((m, d)) * xs + (5.0 if name == 'p2-far-clouds' else 0.0))
        h = f32(rng.standard_normal(m) * hs)
        softmin_cases.append({'name': name, 'n': n, 'm': m, 'd': d, 'eps': eps, 'p': p,
                              'x': flat(x), 'y': flat(y), 'h': flat(h), 'f': flat(softmin(x, y, h, eps, p))})
    # geomloss clamps log-weights of zero to -100000: those points must not contribute.
    n, m, d = 6, 9, 2
    x = f32(rng.standard_normal((n, d)))
    y = f32(rng.standard_normal((m, d)))
    h = f32(rng.standard_normal(m))
    h[[1, 4]] = -100000.0
    softmin_cases.append({'name': 'p2-clamped-log-weights', 'n': n, 'm': m, 'd': d, 'eps': 0.1, 'p': 2.0,
                          'x': flat(x), 'y': flat(y), 'h': flat(h), 'f': flat(softmin(x, y, h, 0.1, 2.0))})

    batched = []
    b, n, m, d, eps, p = 3, 11, 14, 3, 0.1, 2.0
    xb = f32(rng.standard_normal((b, n, d)))
    yb = f32(rng.standard_normal((b, m, d)))
    hb = f32(rng.standard_normal((b, m)))
    fb = np.stack([softmin(xb[k], yb[k], hb[k], eps, p) for k in range(b)])
    batched.append({'name': 'b3-p2-d3', 'b': b, 'n': n, 'm': m, 'd': d, 'eps': eps, 'p': p,
                    'x': flat(xb), 'y': flat(yb), 'h': flat(hb), 'f': flat(fb)})

    a = f32(rng.standard_normal((7, 13)))
    bm = f32(rng.standard_normal((13, 5)))
    matmul = {'m': 7, 'k': 13, 'n': 5, 'a': flat(a), 'b': flat(bm), 'c': flat(a @ bm)}

    logits = f32(rng.standard_normal((4, 9)) * 3)
    logits[3] += 1000.0  # overflow case: exp(1000) overflows float32 and float64 without the max shift
    softmax = {'rows': 4, 'd': 9, 'x': flat(logits), 'softmax': flat(scipy.special.softmax(logits, axis=-1)),
               'logsumexp': flat(scipy.special.logsumexp(logits, axis=-1))}

    xl = f32(rng.standard_normal((5, 16)) * 2 + 0.5)
    gamma = f32(rng.standard_normal(16))
    beta = f32(rng.standard_normal(16))
    ln = torch.nn.functional.layer_norm(torch.tensor(xl), (16,), torch.tensor(gamma), torch.tensor(beta), eps=1e-5)
    layer_norm = {'rows': 5, 'd': 16, 'epsilon': 1e-5, 'x': flat(xl), 'gamma': flat(gamma), 'beta': flat(beta),
                  'y': flat(ln.numpy())}

    xg = f32(np.concatenate([np.linspace(-8, 8, 33), rng.standard_normal(15) * 3]))
    tg = torch.tensor(xg)
    gelu = {'x': flat(xg), 'gelu': flat(torch.nn.functional.gelu(tg).numpy()),
            'quick_gelu': flat((tg * torch.sigmoid(1.702 * tg)).numpy())}

    out = {
        **provenance(__file__, SEED, python=False, numpy=np, scipy=scipy, torch=torch),
        'softmin': softmin_cases,
        'softmin_batched': batched,
        'matmul': matmul,
        'softmax': softmax,
        'layer_norm': layer_norm,
        'gelu': gelu,
    }
    write_json(OUT, out, separators=(',', ':'))
    print(f'wrote {os.path.normpath(OUT)}')


if __name__ == '__main__':
    main()
