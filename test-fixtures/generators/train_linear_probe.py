#!/usr/bin/env python3
"""Reference run of the official linear-probe head (FairCLIP mae/main_linprobe.py semantics) with Debian's torch.

Head: BatchNorm1d(d, affine=False, eps=1e-6) + Linear(d, 2), loss BCEWithLogits(output[:, 1], y), LARS (MAE's
util/lars.py, re-typed) over the head's parameters, lr = blr * batch / 256 with MAE's per-iteration warm-up +
half-cosine schedule. Fixed initial weights, fixed batch order (no shuffling, no augmentation) so that the run is
deterministic. Records the loss of every step, the final parameters and BatchNorm running statistics, and the
eval-mode scores sigmoid(output[:, 1]) on all samples.

Run: /usr/bin/python3 test-fixtures/generators/train_linear_probe.py
"""
import os

import numpy as np
import torch

from _fixture_io import provenance, write_json
from _mae_lars import LARS, adjust_learning_rate

SEED = 777
OUT = os.path.join(os.path.dirname(__file__), '..', 'data', 'train', 'linear_probe.json')


def main():
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    n, d, bs, epochs, warmup, blr, wd = 64, 8, 16, 4, 1, 0.1, 0.0
    y = (rng.random(n) < 0.5).astype(np.float32)
    x = (rng.standard_normal((n, d)) * 2 + 1 + y[:, None] * np.linspace(-1, 1, d)).astype(np.float32)
    lr = blr * bs / 256
    bn = torch.nn.BatchNorm1d(d, affine=False, eps=1e-6)
    lin = torch.nn.Linear(d, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor((rng.standard_normal((2, d)) * 0.01).astype(np.float32)))
        lin.bias.zero_()
    w0 = lin.weight.detach().numpy().astype(float).tolist()
    head = torch.nn.Sequential(bn, lin)
    opt = LARS(head.parameters(), lr=lr, weight_decay=wd)
    crit = torch.nn.BCEWithLogitsLoss()
    losses, lrs = [], []
    iters = n // bs
    head.train()
    for ep in range(epochs):
        for it in range(iters):
            cur = adjust_learning_rate(it / iters + ep, lr, 0.0, warmup, epochs)
            for g in opt.param_groups:
                g['lr'] = cur
            xb = torch.tensor(x[it * bs:(it + 1) * bs])
            yb = torch.tensor(y[it * bs:(it + 1) * bs])
            out = head(xb)
            loss = crit(out[:, 1], yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss))
            lrs.append(cur)
    head.eval()
    with torch.no_grad():
        scores = torch.sigmoid(head(torch.tensor(x))[:, 1]).numpy().astype(float).tolist()
    out = {
        **provenance(__file__, SEED, torch=torch, numpy=np),
        'settings': {'n': n, 'd': d, 'batch_size': bs, 'epochs': epochs, 'warmup_epochs': warmup, 'blr': blr, 'lr': lr, 'weight_decay': wd, 'bn_eps': 1e-6, 'bn_momentum': 0.1},
        'x': x.astype(float).tolist(), 'y': y.astype(int).tolist(), 'init_weight': w0, 'init_bias': [0.0, 0.0],
        'losses': losses, 'lrs': lrs,
        'final_weight': lin.weight.detach().numpy().astype(float).tolist(), 'final_bias': lin.bias.detach().numpy().astype(float).tolist(),
        'running_mean': bn.running_mean.numpy().astype(float).tolist(), 'running_var': bn.running_var.numpy().astype(float).tolist(),
        'eval_scores': scores,
    }
    write_json(OUT, out, newline=False)
    print('wrote', OUT)


if __name__ == '__main__':
    main()
