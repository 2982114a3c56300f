#!/usr/bin/env python3
"""Reference update sequences for @fairclip/train's optimisers, computed with Debian's PyTorch.

- Adam: torch.optim.Adam with FairCLIP's settings (betas (0.1, 0.1), eps 1e-6, weight_decay 6e-5, lr 1e-5) and with
  PyTorch's defaults plus a larger weight decay, fed a fixed sequence of seeded gradients.
- LARS: the MAE linear-probe LARS (mae/util/lars.py, re-typed here: weight decay + trust ratio for ndim > 1 params,
  heavy-ball momentum) driven by MAE's warm-up + half-cosine adjust_learning_rate, one call per iteration.

Run: /usr/bin/python3 test-fixtures/generators/train_optimizers.py  (writes test-fixtures/data/train/optimizers.json)
"""
import os

import numpy as np
import torch

from _fixture_io import provenance, write_json
from _mae_lars import LARS, adjust_learning_rate

SEED = 4242
OUT = os.path.join(os.path.dirname(__file__), '..', 'data', 'train', 'optimizers.json')


def run(kind, settings, steps, rng, shapes):
    params = {name: torch.tensor(rng.standard_normal(shape).astype(np.float32)) for name, shape in shapes.items()}
    for p in params.values():
        p.requires_grad_(True)
    init = {k: v.detach().numpy().astype(float).ravel().tolist() for k, v in params.items()}
    if kind == 'adam':
        opt = torch.optim.Adam(list(params.values()), lr=settings['lr'], betas=tuple(settings['betas']), eps=settings['eps'], weight_decay=settings['weight_decay'])
    else:
        opt = LARS(list(params.values()), lr=0, weight_decay=settings['weight_decay'], momentum=settings['momentum'], trust_coefficient=settings['trust_coefficient'])
    seq = []
    iters_per_epoch = settings.get('iters_per_epoch', 1)
    for t in range(steps):
        grads = {k: rng.standard_normal(v.shape).astype(np.float32) * settings.get('grad_scale', 1.0) for k, v in params.items()}
        lr_used = None
        if kind == 'lars':
            epoch = t / iters_per_epoch
            lr_used = adjust_learning_rate(epoch, settings['lr'], settings['min_lr'], settings['warmup_epochs'], settings['epochs'])
            for g in opt.param_groups:
                g['lr'] = lr_used
        for k, p in params.items():
            p.grad = torch.tensor(grads[k])
        opt.step()
        seq.append({
            'grads': {k: g.astype(float).ravel().tolist() for k, g in grads.items()},
            'lr': lr_used,
            'params': {k: v.detach().numpy().astype(float).ravel().tolist() for k, v in params.items()},
        })
    return {'kind': kind, 'settings': settings, 'shapes': shapes, 'init': init, 'steps': seq}


def main():
    rng = np.random.default_rng(SEED)
    shapes = {'w': [3, 4], 'b': [4], 'z': [2, 2, 2]}
    cases = [
        dict(name='adam_fairclip', **run('adam', dict(lr=1e-5, betas=[0.1, 0.1], eps=1e-6, weight_decay=6e-5), 12, rng, shapes)),
        dict(name='adam_defaults_wd', **run('adam', dict(lr=1e-2, betas=[0.9, 0.999], eps=1e-8, weight_decay=0.1), 12, rng, shapes)),
        dict(name='lars_mae', **run('lars', dict(lr=0.2, min_lr=0.0, warmup_epochs=2, epochs=6, iters_per_epoch=2, weight_decay=0.0, momentum=0.9, trust_coefficient=0.001), 12, rng, shapes)),
        dict(name='lars_wd', **run('lars', dict(lr=0.1, min_lr=0.01, warmup_epochs=1, epochs=4, iters_per_epoch=3, weight_decay=0.05, momentum=0.9, trust_coefficient=0.001), 12, rng, shapes)),
    ]
    out = {
        **provenance(__file__, SEED, torch=torch, numpy=np),
        'notes': 'params float32 in torch; values written as exact doubles of the float32 numbers; grads are the seeded gradients fed at each step',
        'cases': cases,
    }
    write_json(OUT, out, newline=False)
    print('wrote', OUT)


if __name__ == '__main__':
    main()
