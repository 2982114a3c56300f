#!/usr/bin/env python3
"""Weight files of one small OpenAI-architecture CLIP (Vision Transformer) in every container @fairclip/clip reads.

The state dict has OpenAI's names and shapes for the configuration below (random seeded values; nothing here is
computed from them). Written with Debian's torch (torch.save, zip format, pickle protocol 2 unless stated) and a
small safetensors writer (sorted names, header padded with spaces to 8 bytes):

- reference.safetensors       F32, the values every other file must reproduce
- reference_f16.safetensors   F16 (torch's .half() rounding); upcast samples in expected.json
- state_fp32.pt               torch.save(state_dict)
- state_fp16.pt               torch.save({k: v.half()})
- state_protocol4.pt          torch.save(state_dict, pickle_protocol=4) (FRAME, SHORT_BINUNICODE, MEMOIZE opcodes)
- fairclip_checkpoint.pth     FairCLIP's checkpoint layout: {'epoch', 'model_state_dict', 'optimizer_state_dict',
                              'loss'} with the model in OpenAI's mixed precision after clip.model.convert_weights
                              (Linear/Conv/attention weights and the projections fp16, the rest fp32), the storages
                              tagged 'cuda:0' as on a GPU machine, and a real Adam state after one step (betas
                              (0.1, 0.1), eps 1e-6, weight decay 6e-5)
- noncontiguous.pt            views: a transposed text_projection (strides (1, rows)) and tensors that share one
                              storage at different offsets
- hf/model.safetensors        the same weights under Hugging Face CLIPModel names (transformers'
                              convert_clip_original_pytorch_to_hf.py mapping: in_proj split into q/k/v, ln_1/ln_2 ->
                              layer_norm1/2, c_fc/c_proj -> fc1/fc2, ln_pre -> pre_layrnorm, projections transposed
                              into visual_projection/text_projection Linear weights) with the int64 position_ids
                              buffers, and hf/config.json
- torchscript.pt              torch.jit.script of a tiny module (must be refused)
- whole_module.pt             torch.save(nn.Linear) (a pickled Python object: must be refused)
- legacy.pt                   _use_new_zipfile_serialization=False (pre-1.6 format: must be refused)
- expected.json               config, generator, versions, seed, storage dtypes, f16 upcast samples, checkpoint extras

Run: /usr/bin/python3 test-fixtures/generators/clip_weights.py
"""
import json
import os
import platform
import struct

import numpy as np
import torch
from torch import nn

SEED = 6060
OUT = os.path.join(os.path.dirname(__file__), '..', 'data', 'clip', 'weights')
CONFIG = {
    'embed_dim': 16,
    'image_resolution': 16,
    'vision_layers': 1,
    'vision_width': 64,
    'vision_patch_size': 8,
    'context_length': 8,
    'vocab_size': 40,
    'transformer_width': 32,
    'transformer_heads': 2,
    'transformer_layers': 1,
}


def block_shapes(prefix, w):
    return {
        f'{prefix}.attn.in_proj_weight': (3 * w, w), f'{prefix}.attn.in_proj_bias': (3 * w,),
        f'{prefix}.attn.out_proj.weight': (w, w), f'{prefix}.attn.out_proj.bias': (w,),
        f'{prefix}.ln_1.weight': (w,), f'{prefix}.ln_1.bias': (w,),
        f'{prefix}.mlp.c_fc.weight': (4 * w, w), f'{prefix}.mlp.c_fc.bias': (4 * w,),
        f'{prefix}.mlp.c_proj.weight': (w, 4 * w), f'{prefix}.mlp.c_proj.bias': (w,),
        f'{prefix}.ln_2.weight': (w,), f'{prefix}.ln_2.bias': (w,),
    }


def openai_shapes(c):
    vw, tw, e, p = c['vision_width'], c['transformer_width'], c['embed_dim'], c['vision_patch_size']
    grid = c['image_resolution'] // p
    s = {
        'positional_embedding': (c['context_length'], tw), 'text_projection': (tw, e), 'logit_scale': (),
        'visual.class_embedding': (vw,), 'visual.positional_embedding': (grid * grid + 1, vw), 'visual.proj': (vw, e),
        'visual.conv1.weight': (vw, 3, p, p), 'visual.ln_pre.weight': (vw,), 'visual.ln_pre.bias': (vw,),
        'visual.ln_post.weight': (vw,), 'visual.ln_post.bias': (vw,),
        'token_embedding.weight': (c['vocab_size'], tw), 'ln_final.weight': (tw,), 'ln_final.bias': (tw,),
    }
    for i in range(c['vision_layers']):
        s.update(block_shapes(f'visual.transformer.resblocks.{i}', vw))
    for i in range(c['transformer_layers']):
        s.update(block_shapes(f'transformer.resblocks.{i}', tw))
    return s


def write_safetensors(path, tensors, metadata=None):
    header = {} if metadata is None else {'__metadata__': metadata}
    blobs, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name]
        if t.dtype == torch.int64:
            dtype, raw = 'I64', t.numpy().astype('<i8').tobytes()
        elif t.dtype == torch.float16:
            dtype, raw = 'F16', t.numpy().astype('<f2').tobytes()
        else:
            dtype, raw = 'F32', t.float().numpy().astype('<f4').tobytes()
        header[name] = {'dtype': dtype, 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def is_fp16_after_convert_weights(name):
    # clip.model.convert_weights: Conv/Linear weights and biases, MultiheadAttention in/out projections, and the
    # attributes text_projection and proj become fp16; LayerNorms, embeddings and logit_scale stay fp32.
    if name in ('text_projection', 'visual.proj', 'visual.conv1.weight'):
        return True
    return any(part in name for part in ('.attn.in_proj_', '.attn.out_proj.', '.mlp.c_fc.', '.mlp.c_proj.'))


def to_huggingface(sd):
    hf = {}
    for name, t in sd.items():
        if name == 'visual.proj':
            hf['visual_projection.weight'] = t.t().contiguous()
        elif name == 'text_projection':
            hf['text_projection.weight'] = t.t().contiguous()
        elif name == 'logit_scale':
            hf['logit_scale'] = t
        elif name == 'token_embedding.weight':
            hf['text_model.embeddings.token_embedding.weight'] = t
        elif name == 'positional_embedding':
            hf['text_model.embeddings.position_embedding.weight'] = t
        elif name.startswith('ln_final.'):
            hf['text_model.final_layer_norm.' + name.split('.')[-1]] = t
        elif name == 'visual.class_embedding':
            hf['vision_model.embeddings.class_embedding'] = t
        elif name == 'visual.conv1.weight':
            hf['vision_model.embeddings.patch_embedding.weight'] = t
        elif name == 'visual.positional_embedding':
            hf['vision_model.embeddings.position_embedding.weight'] = t
        elif name.startswith('visual.ln_pre.'):
            hf['vision_model.pre_layrnorm.' + name.split('.')[-1]] = t
        elif name.startswith('visual.ln_post.'):
            hf['vision_model.post_layernorm.' + name.split('.')[-1]] = t
        else:
            parts = name.split('.')
            if parts[0] == 'visual':
                tower, parts = 'vision_model', parts[1:]
            else:
                tower = 'text_model'
            assert parts[0] == 'transformer' and parts[1] == 'resblocks', name
            base = f'{tower}.encoder.layers.{parts[2]}.'
            rest = '.'.join(parts[3:])
            if rest in ('attn.in_proj_weight', 'attn.in_proj_bias'):
                kind = 'weight' if rest.endswith('weight') else 'bias'
                q, k, v = t.chunk(3, dim=0)
                hf[base + f'self_attn.q_proj.{kind}'] = q.contiguous()
                hf[base + f'self_attn.k_proj.{kind}'] = k.contiguous()
                hf[base + f'self_attn.v_proj.{kind}'] = v.contiguous()
            else:
                mapping = {'attn.out_proj': 'self_attn.out_proj', 'ln_1': 'layer_norm1', 'ln_2': 'layer_norm2',
                           'mlp.c_fc': 'mlp.fc1', 'mlp.c_proj': 'mlp.fc2'}
                module, kind = rest.rsplit('.', 1)
                hf[base + f'{mapping[module]}.{kind}'] = t
    hf['text_model.embeddings.position_ids'] = torch.arange(CONFIG['context_length'], dtype=torch.int64)[None]
    grid = CONFIG['image_resolution'] // CONFIG['vision_patch_size']
    hf['vision_model.embeddings.position_ids'] = torch.arange(grid * grid + 1, dtype=torch.int64)[None]
    return hf


def main():
    torch.manual_seed(SEED)
    os.makedirs(os.path.join(OUT, 'hf'), exist_ok=True)
    shapes = openai_shapes(CONFIG)
    sd = {}
    for name in sorted(shapes):
        t = torch.randn(shapes[name]) * 0.5
        if name == 'logit_scale':
            t = torch.tensor(float(np.log(1 / 0.07)), dtype=torch.float32)
        sd[name] = t.float()

    write_safetensors(os.path.join(OUT, 'reference.safetensors'), sd,
                      {'config': json.dumps(CONFIG), 'generator': 'test-fixtures/generators/clip_weights.py'})
    sd16 = {k: v.half() for k, v in sd.items()}
    write_safetensors(os.path.join(OUT, 'reference_f16.safetensors'), sd16)
    torch.save(sd, os.path.join(OUT, 'state_fp32.pt'))
    torch.save(sd16, os.path.join(OUT, 'state_fp16.pt'))
    torch.save(sd, os.path.join(OUT, 'state_protocol4.pt'), pickle_protocol=4)

    # FairCLIP-style checkpoint: mixed precision model, Adam state, storages tagged cuda:0.
    mixed = {k: (v.half() if is_fp16_after_convert_weights(k) else v.clone()) for k, v in sd.items()}
    params = [nn.Parameter(v.clone()) for v in sd.values()]
    opt = torch.optim.Adam(params, lr=1e-5, betas=(0.1, 0.1), eps=1e-6, weight_decay=6e-5)
    gen = torch.Generator().manual_seed(SEED + 1)
    for p in params:
        p.grad = torch.randn(p.shape, generator=gen)
    opt.step()

    def cuda_tag(obj):
        return 'cuda:0'

    def never(obj, location):
        return None

    torch.serialization.register_package(1, cuda_tag, never)  # only changes the location string written
    try:
        torch.save({'epoch': 3, 'model_state_dict': mixed, 'optimizer_state_dict': opt.state_dict(), 'loss': 0.6931},
                   os.path.join(OUT, 'fairclip_checkpoint.pth'))
    finally:
        torch.serialization._package_registry[:] = [r for r in torch.serialization._package_registry
                                                    if r[1] is not cuda_tag]

    # Views: transposed storage and shared storages with offsets.
    nc = dict(sd)
    nc['text_projection'] = sd['text_projection'].t().contiguous().t()  # same values, strides (1, rows)
    ln = torch.cat([sd['ln_final.weight'], sd['ln_final.bias']])
    tw = CONFIG['transformer_width']
    nc['ln_final.weight'] = ln[:tw]
    nc['ln_final.bias'] = ln[tw:]  # storage offset tw in the same storage
    assert not nc['text_projection'].is_contiguous()
    torch.save(nc, os.path.join(OUT, 'noncontiguous.pt'))

    hf = to_huggingface(sd)
    write_safetensors(os.path.join(OUT, 'hf', 'model.safetensors'), hf, {'format': 'pt'})
    hf_config = {
        'architectures': ['CLIPModel'], 'model_type': 'clip', 'projection_dim': CONFIG['embed_dim'],
        'logit_scale_init_value': 2.6592,
        'text_config': {'hidden_size': CONFIG['transformer_width'], 'intermediate_size': 4 * CONFIG['transformer_width'],
                        'num_attention_heads': CONFIG['transformer_heads'],
                        'num_hidden_layers': CONFIG['transformer_layers'],
                        'max_position_embeddings': CONFIG['context_length'], 'vocab_size': CONFIG['vocab_size'],
                        'hidden_act': 'quick_gelu'},
        'vision_config': {'hidden_size': CONFIG['vision_width'], 'intermediate_size': 4 * CONFIG['vision_width'],
                          'num_attention_heads': CONFIG['vision_width'] // 64,
                          'num_hidden_layers': CONFIG['vision_layers'], 'image_size': CONFIG['image_resolution'],
                          'patch_size': CONFIG['vision_patch_size'], 'hidden_act': 'quick_gelu'},
    }
    with open(os.path.join(OUT, 'hf', 'config.json'), 'w') as f:
        json.dump(hf_config, f, indent=1)

    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)

        def forward(self, x):
            return self.lin(x)

    torch.jit.script(Tiny()).save(os.path.join(OUT, 'torchscript.pt'))
    torch.save(nn.Linear(2, 2), os.path.join(OUT, 'whole_module.pt'))
    torch.save({'a': torch.zeros(2)}, os.path.join(OUT, 'legacy.pt'), _use_new_zipfile_serialization=False)

    # Checks of what was written, with torch itself.
    back = torch.load(os.path.join(OUT, 'fairclip_checkpoint.pth'), map_location='cpu')
    assert back['epoch'] == 3 and set(back['model_state_dict']) == set(sd)
    back_nc = torch.load(os.path.join(OUT, 'noncontiguous.pt'))
    assert all(torch.equal(back_nc[k], sd[k]) for k in sd)

    samples = {k: [float(x) for x in v.float().flatten()[:6]] for k, v in sd16.items()}
    expected = {
        'generator': 'test-fixtures/generators/clip_weights.py',
        'versions': {'python': platform.python_version(), 'torch': torch.__version__, 'numpy': np.__version__},
        'seed': SEED,
        'config': CONFIG,
        'n_tensors': len(sd),
        'n_values': int(sum(v.numel() for v in sd.values())),
        'f16_upcast_samples': samples,
        'checkpoint': {'epoch': 3, 'loss': 0.6931, 'state_dict_key': 'model_state_dict',
                       'fp16_keys': sorted(k for k in sd if is_fp16_after_convert_weights(k)),
                       'other_keys': ['optimizer_state_dict']},
        'hf_position_ids': ['text_model.embeddings.position_ids', 'vision_model.embeddings.position_ids'],
    }
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump(expected, f, indent=1)
    print('wrote', OUT, expected['n_tensors'], 'tensors', expected['n_values'], 'values')


if __name__ == '__main__':
    main()
