#!/usr/bin/env python3
"""Small weight files for @fairclip/clip's hostile-input and fuzz tests (packages/clip/test/weights-hostile.test.ts,
weights-fuzz-*.test.ts), written by torch and a plain safetensors writer, with the values torch reads back:

- tiny.pt                 torch.save of a small state dict: float32 matrix and vector, a float16 matrix, an int64
                          buffer, a bool buffer (the fuzz suites' smallest valid checkpoint)
- tiny.safetensors        the same tensors (float16 kept F16, int64 I64, bool stored as I64) as safetensors
- views.pt                views as torch.save writes them: an expanded tensor (stride 0 over a 2-element storage), a
                          transposed one, and a slice at an offset of a shared storage
- deflated.pt             tiny.pt re-zipped with ZIP_DEFLATED (zipfile), as archiving tools do
- nonfinite.pt            a finite tensor, an all-NaN tensor and one holding +inf (a diverged run)
- nonfinite.safetensors   the same three tensors
- config_not_json.safetensors   `config` metadata that is not JSON
- config_invalid.safetensors    `config` metadata that is JSON but not a valid CLIP configuration
                                (transformer_width 30 is not divisible by transformer_heads 4)
- expected.json           provenance, and for every tensor of every file: shape, torch's dtype, stride, storage
                          offset, and the values torch.load reads (NaN/inf as strings), plus whether torch.load reads
                          deflated.pt

Run: /usr/bin/python3 test-fixtures/generators/clip_weights_hostile.py
"""
import json
import math
import os
import zipfile

import numpy as np
import torch

from _fixture_io import provenance, write_json, write_safetensors

SEED = 1414
OUT = os.path.join(os.path.dirname(__file__), '..', 'data', 'clip', 'weights-hostile')


def value_list(t):
    flat = t.detach().reshape(-1).tolist()
    out = []
    for v in flat:
        if isinstance(v, bool):
            out.append(int(v))
        elif isinstance(v, float) and not math.isfinite(v):
            out.append('nan' if math.isnan(v) else ('inf' if v > 0 else '-inf'))
        else:
            out.append(v)
    return out


def describe(sd):
    return {
        k: {
            'shape': list(v.shape),
            'dtype': str(v.dtype).replace('torch.', ''),
            'stride': list(v.stride()),
            'storage_offset': v.storage_offset(),
            # float16 values as torch upcasts them to float32
            'values': value_list(v.float() if v.dtype == torch.float16 else v),
        }
        for k, v in sd.items()
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(SEED)
    tiny = {
        'a.weight': torch.randn(3, 4, generator=g),
        'a.bias': torch.randn(4, generator=g),
        'h.weight': torch.randn(2, 3, generator=g).half(),
        'n.count': torch.tensor([7, -3], dtype=torch.int64),
        'm.mask': torch.tensor([True, False, True]),
    }
    torch.save(tiny, os.path.join(OUT, 'tiny.pt'))
    write_safetensors(
        os.path.join(OUT, 'tiny.safetensors'),
        {
            'a.weight': tiny['a.weight'].numpy(),
            'a.bias': tiny['a.bias'].numpy(),
            'h.weight': tiny['h.weight'].numpy(),
            'n.count': tiny['n.count'].numpy(),
            'm.mask': tiny['m.mask'].numpy().astype(np.int64),
        },
        metadata={'format': 'pt'},
    )

    base = torch.randn(12, generator=g)
    views = {
        'expanded': torch.randn(2, generator=g).expand(3, 2),
        'transposed': torch.randn(3, 4, generator=g).t(),
        'slice': base[4:10].view(2, 3),
        'whole': base,
    }
    torch.save(views, os.path.join(OUT, 'views.pt'))
    back_views = torch.load(os.path.join(OUT, 'views.pt'))

    with zipfile.ZipFile(os.path.join(OUT, 'tiny.pt')) as src, zipfile.ZipFile(
        os.path.join(OUT, 'deflated.pt'), 'w', compression=zipfile.ZIP_DEFLATED
    ) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))  # reproducible output
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, src.read(info.filename))
    try:
        back_deflated = torch.load(os.path.join(OUT, 'deflated.pt'))
        deflated_loads = all(torch.equal(back_deflated[k], v) for k, v in tiny.items())
    except Exception:  # noqa: BLE001 - recorded, not raised: our reader is checked against tiny.pt's values
        deflated_loads = False

    nonfinite = {
        'finite': torch.randn(3, generator=g),
        'all_nan': torch.full((2, 2), float('nan')),
        'has_inf': torch.tensor([1.0, float('inf'), -2.0]),
    }
    torch.save(nonfinite, os.path.join(OUT, 'nonfinite.pt'))
    write_safetensors(os.path.join(OUT, 'nonfinite.safetensors'), {k: v.numpy() for k, v in nonfinite.items()})

    x = {'x': np.array([1.0], dtype=np.float32)}
    write_safetensors(os.path.join(OUT, 'config_not_json.safetensors'), x, metadata={'config': '{"embed_dim": 16,'})
    bad_config = {
        'embed_dim': 16, 'image_resolution': 16, 'vision_layers': 1, 'vision_width': 64, 'vision_patch_size': 8,
        'context_length': 8, 'vocab_size': 40, 'transformer_width': 30, 'transformer_heads': 4,
        'transformer_layers': 1,
    }
    write_safetensors(
        os.path.join(OUT, 'config_invalid.safetensors'), x, metadata={'config': json.dumps(bad_config)}
    )

    expected = {
        **provenance(__file__, SEED, numpy=np, torch=torch),
        'tiny': describe(torch.load(os.path.join(OUT, 'tiny.pt'))),
        'views': describe(back_views),
        'deflated_torch_loads': deflated_loads,
        'nonfinite': describe(torch.load(os.path.join(OUT, 'nonfinite.pt'))),
        'config_invalid': bad_config,
    }
    write_json(os.path.join(OUT, 'expected.json'), expected, indent=1)
    print('wrote', OUT)


if __name__ == '__main__':
    main()
