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
  - {"kind": "geomloss_tensorized", "x", "y", "n", "m", "d", "blur", "scaling"}: geomloss's
    SamplesLoss('sinkhorn', p=2, blur, scaling, debias=True, backend='tensorized') in float64 on the CPU, value and
    backward() to x and y (what samplesLoss returns: value and gradients). Uses geomloss itself when importable; else
    `geomloss_tensorized` below, a line-by-line torch transcription of geomloss 0.2.6's tensorized path (cost
    ½|x − y|² from squared_distances, epsilon_schedule, sinkhorn_loop with averaged symmetric updates, the final
    extrapolation with detached potentials, sinkhorn_cost). The result records which one ran.
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


def geomloss_tensorized(x, y, blur, scaling, p=2):
    """geomloss 0.2.6 `sinkhorn_tensorized` (debias=True, balanced, uniform weights, one batch), transcribed."""
    import torch

    def squared_distances(u, v):
        return (u * u).sum(-1).unsqueeze(1) - 2 * torch.matmul(u, v.permute(1, 0)) + (v * v).sum(-1).unsqueeze(0)

    def cost(u, v):
        return squared_distances(u, v) / 2

    def softmin(eps, C, h):
        return -eps * (h.view(1, -1) - C / eps).logsumexp(1)

    n, m = x.shape[0], y.shape[0]
    a = torch.full((n,), 1.0 / n, dtype=x.dtype)
    b = torch.full((m,), 1.0 / m, dtype=x.dtype)
    a_log, b_log = a.log(), b.log()
    C_xy, C_yx = cost(x, y.detach()), cost(y, x.detach())
    C_xx, C_yy = cost(x, x.detach()), cost(y, y.detach())
    mins = torch.stack((x.min(0)[0], y.min(0)[0])).min(0)[0]
    maxs = torch.stack((x.max(0)[0], y.max(0)[0])).max(0)[0]
    diameter = (maxs - mins).norm().item()
    eps_list = ([diameter ** p] + [np.exp(e) for e in np.arange(p * np.log(diameter), p * np.log(blur), p * np.log(scaling))]
                + [blur ** p])
    torch.autograd.set_grad_enabled(False)
    eps = eps_list[0]
    g_ab = softmin(eps, C_yx, a_log)
    f_ba = softmin(eps, C_xy, b_log)
    f_aa = softmin(eps, C_xx, a_log)
    g_bb = softmin(eps, C_yy, b_log)
    for eps in eps_list:
        ft_ba = softmin(eps, C_xy, b_log + g_ab / eps)
        gt_ab = softmin(eps, C_yx, a_log + f_ba / eps)
        ft_aa = softmin(eps, C_xx, a_log + f_aa / eps)
        gt_bb = softmin(eps, C_yy, b_log + g_bb / eps)
        f_ba, g_ab = 0.5 * (f_ba + ft_ba), 0.5 * (g_ab + gt_ab)
        f_aa, g_bb = 0.5 * (f_aa + ft_aa), 0.5 * (g_bb + gt_bb)
    torch.autograd.set_grad_enabled(True)
    f_ba, g_ab = (softmin(eps, C_xy, (b_log + g_ab / eps).detach()),
                  softmin(eps, C_yx, (a_log + f_ba / eps).detach()))
    f_aa = softmin(eps, C_xx, (a_log + f_aa / eps).detach())
    g_bb = softmin(eps, C_yy, (b_log + g_bb / eps).detach())
    return (a * (f_ba - f_aa)).sum() + (b * (g_ab - g_bb)).sum(), len(eps_list)


def run_geomloss(t):
    import torch
    xs = torch.from_numpy(load(t['x'], (t['n'], t['d'])))
    ys = torch.from_numpy(load(t['y'], (t['m'], t['d'])))
    try:
        from geomloss import SamplesLoss
        impl = 'geomloss ' + __import__('geomloss').__version__
        loss_fn = SamplesLoss('sinkhorn', p=2, blur=t['blur'], scaling=t['scaling'], debias=True, backend='tensorized')
        solve = lambda x, y: (loss_fn(x, y), None)  # noqa: E731
    except ImportError:
        impl = 'torch transcription of geomloss 0.2.6 tensorized (geomloss not installed)'
        solve = lambda x, y: geomloss_tensorized(x, y, t['blur'], t['scaling'])  # noqa: E731

    def step():
        x = xs.clone().requires_grad_(True)
        y = ys.clone().requires_grad_(True)
        val, its = solve(x, y)
        val.backward()
        return float(val), its, x.grad, y.grad

    ms, out = median_ms(step, t.get('reps', 3))
    return {'name': t['name'], 'median_ms': ms, 'reps': t.get('reps', 3), 'value': out[0], 'n_eps': out[1],
            'impl': impl, 'torch_threads': torch.get_num_threads(),
            'grad_x_head': out[2].reshape(-1)[:4].tolist()}


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
        elif t['kind'] == 'geomloss_tensorized':
            results.append(run_geomloss(t))
        else:
            raise ValueError(t['kind'])
    print(json.dumps({'versions': {'POT': ot.__version__, 'numpy': np.__version__}, 'results': results}))


if __name__ == '__main__':
    main()
