#!/usr/bin/env python3
"""POT baselines for packages/ot/bench/run.ts, timed in the same run as the TypeScript side.

Reads a task list (JSON) from argv[1]; arrays come as raw little-endian float64 files named in the tasks. Prints one
JSON object: {"versions": {...}, "results": [{"name", "median_ms", "reps", "value", ...}]}. Timings are medians of
`reps` runs of time.perf_counter() around the POT call alone (data already in numpy arrays).

Tasks:
  - {"kind": "sinkhorn", "method": "sinkhorn" | "sinkhorn_log", "a", "b", "M", "n", "m", "reg", "iters"}:
    ot.sinkhorn(a, b, M, reg, method, numItermax=iters, stopThr=0) (stopThr 0: exactly `iters` iterations; POT
    still measures the marginal error every 10 iterations, as the TypeScript side does).
  - {"kind": "empirical_divergence", "x", "y", "n", "m", "d", "reg", "stopThr", "numIterMax"}:
    ot.bregman.empirical_sinkhorn_divergence(x, y, reg, metric='sqeuclidean', numIterMax, stopThr) (uniform weights).
"""
import json
import sys
import time

import numpy as np
import ot


def load(path, shape):
    return np.fromfile(path, dtype='<f8').reshape(shape)


def median_ms(fn, reps):
    fn()  # warm-up
    times = []
    out = None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    return times[len(times) // 2], out


def main():
    spec = json.load(open(sys.argv[1]))
    results = []
    for t in spec['tasks']:
        reps = t.get('reps', 3)
        if t['kind'] == 'sinkhorn':
            a = load(t['a'], (t['n'],))
            b = load(t['b'], (t['m'],))
            M = load(t['M'], (t['n'], t['m']))
            ms, plan = median_ms(
                lambda: ot.sinkhorn(a, b, M, t['reg'], method=t['method'], numItermax=t['iters'], stopThr=0.0), reps)
            results.append({'name': t['name'], 'median_ms': ms, 'reps': reps, 'value': float(np.sum(plan * M))})
        elif t['kind'] == 'empirical_divergence':
            x = load(t['x'], (t['n'], t['d']))
            y = load(t['y'], (t['m'], t['d']))
            ms, val = median_ms(
                lambda: ot.bregman.empirical_sinkhorn_divergence(
                    x, y, t['reg'], metric='sqeuclidean', numIterMax=t['numIterMax'], stopThr=t['stopThr']), reps)
            results.append({'name': t['name'], 'median_ms': ms, 'reps': reps, 'value': float(val)})
        else:
            raise ValueError(t['kind'])
    print(json.dumps({'versions': {'POT': ot.__version__, 'numpy': np.__version__}, 'results': results}))


if __name__ == '__main__':
    main()
