"""float32 -> float16 -> float32 rounding as numpy computes it (astype(np.float16): IEEE 754 round to nearest, ties
to even; subnormals kept; overflow to +-inf at |x| >= 65520; NaN stays NaN), the reference of @fairclip/compute's
roundToFloat16 (the fp16 emulation of the official FairCLIP runs).

Inputs: named edge cases (every boundary of the binary16 format: the largest finite value 65504, the overflow
threshold 65520 and its float32 neighbours, ties at every scale, the subnormal range and its halfway points, zeros,
infinities, NaN) and seeded random float32 values spread over binary16's whole exponent range and beyond. Values are
float32 bit patterns (uint32) so that NaN, -0 and exact ties survive JSON.

Run: /usr/bin/python3 test-fixtures/generators/compute_float16_rounding.py
"""
import os

import numpy as np

from _fixture_io import provenance, write_json

SEED = 16016
OUT = os.path.join(os.path.dirname(__file__), '..', 'data', 'compute', 'float16-rounding.json')


def f32(values):
    return np.asarray(values, dtype=np.float64).astype(np.float32)


def neighbours(x):
    """x and its float32 neighbours below and above."""
    x = np.float32(x)
    return [np.nextafter(x, np.float32(-np.inf)), x, np.nextafter(x, np.float32(np.inf))]


def edge_cases():
    e = []
    e += [0.0, -0.0, 1.0, -1.0, 0.1, -0.1, 1 / 3, 2 / 3, np.pi, 1000.1, 2048.5, 4095.0]
    # largest finite, overflow threshold (halfway between 65504 and 65536), beyond
    for v in (65504.0, 65519.0, 65520.0, 65535.0, 65536.0, 1e5, 3e38):
        e += neighbours(v) + [-x for x in neighbours(v)]
    # ties to even at several scales: 1 + k/2048 (halfway between representable values near 1)
    for k in range(1, 9):
        e += [1 + k / 2048, -(1 + k / 2048), 1024 + k / 2, 32768 + k * 16]
    for k in (1, 3, 5, 7):
        e += neighbours(1 + k / 2048)
    # smallest normal 2**-14, subnormals k * 2**-24 and their halfway points, below half the smallest subnormal
    e += neighbours(2.0**-14) + neighbours(-(2.0**-14))
    for k in (1, 2, 3, 511, 1023):
        e += [k * 2.0**-24, (k + 0.5) * 2.0**-24, -(k + 0.5) * 2.0**-24]
    e += neighbours(2.0**-25) + neighbours(1.5 * 2.0**-25) + [2.0**-26, 2.0**-40, 1e-30, -1e-30, 1e-45]
    # powers of two at every binade boundary of binary16 and their neighbours (exponent detection)
    for p in range(-24, 17):
        e += neighbours(2.0**p)
    e += [np.inf, -np.inf, np.nan]
    return f32(e)


def random_values(rng):
    exps = rng.uniform(-30, 18, size=1500)
    signs = rng.choice([-1.0, 1.0], size=1500)
    return f32(signs * 2.0**exps)


def main():
    rng = np.random.default_rng(SEED)
    x = np.concatenate([edge_cases(), random_values(rng)])
    with np.errstate(over='ignore'):
        y = x.astype(np.float16).astype(np.float32)
    obj = provenance(__file__, SEED, numpy=np)
    obj.update({
        'description': 'float32 values rounded to float16 by numpy astype(np.float16), as float32 bit patterns',
        'count': int(x.size),
        'x_bits': x.view(np.uint32).tolist(),
        'y_bits': y.view(np.uint32).tolist(),
    })
    write_json(OUT, obj, separators=(',', ':'))


if __name__ == '__main__':
    main()
