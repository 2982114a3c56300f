#!/usr/bin/env python3
"""Float64 references for @fairclip/ot's kernel (MMD) losses, re-derived from geomloss's documented definitions.

geomloss's SamplesLoss documents three kernel losses (loss="energy" | "gaussian" | "laplacian"), each the squared
kernel norm of the difference of the two measures:

    L(a, x; b, y) = 1/2 * || a - b ||_k^2
                  = 1/2 sum_ij a_i a_j k(x_i, x_j) + 1/2 sum_ij b_i b_j k(y_i, y_j) - sum_ij a_i b_j k(x_i, y_j)

with k(x, y) = -|x - y|                      (energy distance; blur is ignored, the loss is scale-equivariant),
     k(x, y) = exp(-|x - y|^2 / (2 blur^2))  (gaussian, standard deviation blur),
     k(x, y) = exp(-|x - y| / blur)          (laplacian, scale blur),
|.| the Euclidean norm. This script evaluates that formula with plain torch float64 tensors (materialised kernel
matrices) and differentiates it with torch autograd with respect to x, y, a and b. The Euclidean norm uses a square
root whose derivative is taken as 0 at 0 (geomloss's convention for coincident points: every self term has them).
geomloss itself is not used. Inputs are float32-representable (rounded to float32, stored as float64), so float32
backends see exactly these inputs.

Run: /usr/bin/python3 test-fixtures/generators/ot_kernels.py  (writes test-fixtures/data/ot/kernels.json)
"""
import os

import numpy as np
import torch

from _fixture_io import provenance, write_json

SEED = 20240917
OUT = os.path.join(os.path.dirname(__file__), '..', 'data', 'ot', 'kernels.json')


class Sqrt0(torch.autograd.Function):
    """sqrt with derivative 0 where the input is 0 (instead of +inf, which would give NaN gradients)."""

    @staticmethod
    def forward(ctx, r2):
        r = r2.clamp(min=0).sqrt()
        ctx.save_for_backward(r)
        return r

    @staticmethod
    def backward(ctx, grad):
        (r,) = ctx.saved_tensors
        out = grad / (2 * r)
        out[r == 0] = 0
        return out


def sq_dist(x, y):
    # Differences, not |x|^2 - 2 x.y + |y|^2, so the diagonal of a self term is exactly 0.
    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)


def kernel(name, x, y, blur):
    r2 = sq_dist(x, y)
    if name == 'gaussian':
        return torch.exp(-r2 / (2 * blur ** 2))
    r = Sqrt0.apply(r2)
    if name == 'laplacian':
        return torch.exp(-r / blur)
    if name == 'energy':
        return -r
    raise ValueError(name)


def mmd(name, a, x, b, y, blur):
    kxx = kernel(name, x, x, blur)
    kyy = kernel(name, y, y, blur)
    kxy = kernel(name, x, y, blur)
    return 0.5 * a @ kxx @ a + 0.5 * b @ kyy @ b - a @ kxy @ b


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def flat(t):
    return [float(v) for v in np.asarray(t.detach().numpy() if torch.is_tensor(t) else t, dtype=np.float64).ravel()]


def main():
    rng = np.random.default_rng(SEED)
    specs = [
        # name, n, m, d, blur, weighted, x scale, y shift
        ('d1-n8-m8', 8, 8, 1, 0.5, False, 1.0, 0.3),
        ('d1-n5-m12-weighted', 5, 12, 1, 1.0, True, 1.0, -0.5),
        ('d2-n10-m7', 10, 7, 2, 0.3, False, 1.0, 0.5),
        ('d3-n6-m9-weighted', 6, 9, 3, 2.0, True, 1.5, 1.0),
        ('d2-n1-m1', 1, 1, 2, 0.5, False, 1.0, 0.0),
        # 1-D similarity scores (the reproducibility study's MMD variant): values ~ 30, bandwidth 1.
        ('d1-scores-n32-m32', 32, 32, 1, 1.0, False, 3.0, 28.0),
    ]
    cases = []
    for name, n, m, d, blur, weighted, xs, shift in specs:
        x = rng.standard_normal((n, d)) * xs
        y = rng.standard_normal((m, d)) * xs + shift
        if name.startswith('d1-scores'):
            x = x + 28.0
            y[:3] = x[:3]  # some coincident points across the clouds (cross-term derivative at r = 0)
        if weighted:
            a = rng.uniform(0.1, 1.0, n)
            b = rng.uniform(0.1, 1.0, m)
            a /= a.sum()
            b /= b.sum()
        else:
            a = np.full(n, 1.0 / n)
            b = np.full(m, 1.0 / m)
        x, y, a, b = f32(x), f32(y), f32(a), f32(b)
        for loss in ('energy', 'gaussian', 'laplacian'):
            xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            yt = torch.tensor(y, dtype=torch.float64, requires_grad=True)
            at = torch.tensor(a, dtype=torch.float64, requires_grad=True)
            bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
            value = mmd(loss, at, xt, bt, yt, blur)
            gx, gy, ga, gb = torch.autograd.grad(value, (xt, yt, at, bt))
            cases.append({
                'name': f'{loss}-{name}', 'loss': loss, 'n': n, 'm': m, 'd': d, 'blur': blur, 'weighted': weighted,
                'x': flat(x), 'y': flat(y), 'a': flat(a), 'b': flat(b),
                'value': float(value), 'grad_x': flat(gx), 'grad_y': flat(gy), 'grad_a': flat(ga), 'grad_b': flat(gb),
            })
    out = {
        **provenance(__file__, SEED, python=False, numpy=np, torch=torch),
        'definition': '1/2 a^T K(x,x) a + 1/2 b^T K(y,y) b - a^T K(x,y) b; energy k=-|x-y|, '
                      'gaussian k=exp(-|x-y|^2/(2 blur^2)), laplacian k=exp(-|x-y|/blur); d|x-y|/dx := 0 at x=y',
        'cases': cases,
    }
    write_json(OUT, out, separators=(',', ':'))
    print(f'wrote {os.path.normpath(OUT)} ({len(cases)} cases)')


if __name__ == '__main__':
    main()
