#!/usr/bin/env python3
"""A tiny Hugging Face `transformers` CLIPModel saved with `save_pretrained`, and its outputs, for checking
@fairclip/clip's Hugging Face name mapping against the real library (not against our own reading of its names).

Needs `transformers` and `torch` (Debian's Python has no transformers; this was run on a machine that has them, see
`versions` in the output). The model: CLIPConfig with QuickGELU towers (as OpenAI's checkpoints on the Hub), vision
width 64 (1 head, OpenAI's width // 64 rule), patch 8 at 32 px, text width 32 with 2 heads, vocabulary 100 with
bos 98 / eos 99 (the end token is the largest id, so HF's first-eos pooling equals OpenAI's argmax pooling),
projection 16. `torch.manual_seed(SEED)` then the constructor; every LayerNorm weight/bias and every Linear/attention
bias (which transformers initialises to constants) gets 0.1 * N(0, 1) added so that a mapping that drops or swaps
them cannot match.

Outputs (test-fixtures/data/clip/hf-transformers/): model.safetensors and config.json exactly as save_pretrained
wrote them, expected.json: inputs (pixel_values [2, 3, 32, 32] from numpy default_rng(SEED), input_ids [2, 12]),
image_embeds (get_image_features), text_embeds (get_text_features), logits_per_image and logits_per_text from
CLIPModel.forward, computed in float64 (model.double()) from the saved float32 weights.

Run: python3 test-fixtures/generators/clip_hf_transformers.py [out_dir]
"""
import json
import os
import platform
import sys

import numpy as np
import torch
import transformers
from transformers import CLIPConfig, CLIPModel

SEED = 7070
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'data', 'clip',
                                                         'hf-transformers')


def features(out):
    # get_*_features returns a tensor in transformers 4.x; some versions return an output object.
    if isinstance(out, torch.Tensor):
        return out
    for name in ('pooler_output', 'image_embeds', 'text_embeds'):
        v = getattr(out, name, None)
        if isinstance(v, torch.Tensor):
            return v
    raise TypeError(f'unexpected output type {type(out)}')


def main():
    os.makedirs(OUT, exist_ok=True)
    text = dict(vocab_size=100, hidden_size=32, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
                max_position_embeddings=12, hidden_act='quick_gelu', layer_norm_eps=1e-5, bos_token_id=98,
                eos_token_id=99, pad_token_id=0)
    vision = dict(hidden_size=64, intermediate_size=256, num_hidden_layers=2, num_attention_heads=1, image_size=32,
                  patch_size=8, hidden_act='quick_gelu', layer_norm_eps=1e-5)
    config = CLIPConfig(text_config=text, vision_config=vision, projection_dim=16)
    torch.manual_seed(SEED)
    model = CLIPModel(config).eval()
    gen = torch.Generator().manual_seed(SEED + 1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('.bias') or 'layer_norm' in name or 'layrnorm' in name or 'layernorm' in name:
                p.add_(0.1 * torch.randn(p.shape, generator=gen))
    model.save_pretrained(OUT, safe_serialization=True)

    rng = np.random.default_rng(SEED)
    pixels = rng.standard_normal((2, 3, 32, 32)).astype(np.float32)
    ids = np.zeros((2, 12), dtype=np.int64)
    for i, n in enumerate([5, 9]):
        ids[i, 0] = 98
        ids[i, 1:n - 1] = rng.integers(1, 98, n - 2)
        ids[i, n - 1] = 99

    reloaded = CLIPModel.from_pretrained(OUT).double().eval()
    with torch.no_grad():
        px = torch.from_numpy(pixels).double()
        tok = torch.from_numpy(ids)
        image_embeds = features(reloaded.get_image_features(pixel_values=px))
        text_embeds = features(reloaded.get_text_features(input_ids=tok))
        out = reloaded(input_ids=tok, pixel_values=px)
    expected = {
        'generator': 'test-fixtures/generators/clip_hf_transformers.py',
        'versions': {'python': platform.python_version(), 'torch': torch.__version__,
                     'transformers': transformers.__version__, 'numpy': np.__version__},
        'seed': SEED,
        'compute_dtype': 'float64',
        'openai_config': {
            'embed_dim': 16, 'image_resolution': 32, 'vision_layers': 2, 'vision_width': 64, 'vision_patch_size': 8,
            'context_length': 12, 'vocab_size': 100, 'transformer_width': 32, 'transformer_heads': 2,
            'transformer_layers': 2,
        },
        'pixel_values': {'shape': list(pixels.shape), 'data': pixels.astype(np.float64).tolist()},
        'input_ids': ids.tolist(),
        'image_embeds': image_embeds.tolist(),
        'text_embeds': text_embeds.tolist(),
        'logits_per_image': out.logits_per_image.tolist(),
        'logits_per_text': out.logits_per_text.tolist(),
        'saved_files': sorted(os.listdir(OUT)),
    }
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump(expected, f)
    print('wrote', OUT, expected['saved_files'], expected['versions'])


if __name__ == '__main__':
    main()
