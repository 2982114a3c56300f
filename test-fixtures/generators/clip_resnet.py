#!/usr/bin/env python3
"""Reference outputs of a tiny CLIP with OpenAI's ModifiedResNet image tower, for @fairclip/clip's RN50 code path.

The model is written here from the architecture description of OpenAI CLIP's ModifiedResNet (clip/model.py, commit
d05afc4; re-implemented, not copied), with OpenAI's state-dict names:
- stem: three bias-free 3x3 convolutions (3 -> width/2 with stride 2, width/2 -> width/2, width/2 -> width), each
  followed by BatchNorm2d and ReLU, then AvgPool2d(2);
- four stages of anti-aliased Bottlenecks (expansion 4): conv1 1x1, bn1, relu; conv2 3x3 (padding 1, stride 1), bn2,
  relu; AvgPool2d(stride) when stride > 1; conv3 1x1, bn3; a downsample branch AvgPool2d(stride) -> conv 1x1 ->
  BatchNorm when stride > 1 or the channel count changes; out = relu(out + identity). Stage s has planes
  width * 2**s, the first block of stages 2-4 has stride 2;
- AttentionPool2d: tokens = flattened positions, a mean token prepended, + positional embedding
  [(R/32)^2 + 1, width*32]; multi-head attention (heads = width*32 // 64, separate q/k/v projections with bias) of
  the mean token over all tokens; output projection c_proj to embed_dim.
The text tower is OpenAI's (token + positional embedding, pre-LN residual blocks with QuickGELU MLP and a causal
mask, ln_final, pooling at argmax(token id), text_projection), built on torch.nn.MultiheadAttention.

BatchNorm runs in evaluation mode (running statistics), as clip.load returns the model. Every BatchNorm gets seeded
non-trivial running statistics, weights and biases (OpenAI zero-initialises bn3.weight; here it is perturbed so the
residual branch matters), LayerNorm weights/biases are perturbed too. The forward and backward pass run in float64
from the float32 weights; the float32 run is stored for information.

Outputs (test-fixtures/data/clip/resnet-tiny/): config.json, model.safetensors (F32, OpenAI names, int64
num_batches_tracked, header padded to 8 bytes), expected.json (images, tokens, encode_image, encode_text,
logits_per_image, loss, gradients of selected parameters).

Run: /usr/bin/python3 test-fixtures/generators/clip_resnet.py
"""
import json
import os
from collections import OrderedDict

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from _fixture_io import generator_path, provenance, write_json, write_safetensors

SEED = 5050
OUT_DIR = os.path.join(os.path.dirname(__file__), '..', 'data', 'clip', 'resnet-tiny')
CONFIG = {
    'embed_dim': 24,
    'image_resolution': 64,
    'vision_layers': [1, 2, 1, 1],
    'vision_width': 4,
    'vision_patch_size': None,
    'context_length': 10,
    'vocab_size': 64,
    'transformer_width': 32,
    'transformer_heads': 2,
    'transformer_layers': 1,
}


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pool = nn.AvgPool2d(stride) if stride > 1 else nn.Identity()
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = None
        if stride > 1 or inplanes != planes * 4:
            self.downsample = nn.Sequential(OrderedDict([
                ('-1', nn.AvgPool2d(stride)),
                ('0', nn.Conv2d(inplanes, planes * 4, 1, stride=1, bias=False)),
                ('1', nn.BatchNorm2d(planes * 4)),
            ]))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(self.pool(y)))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(y + identity)


class AttentionPool(nn.Module):
    def __init__(self, grid, channels, heads, out_dim):
        super().__init__()
        self.positional_embedding = nn.Parameter(torch.randn(grid * grid + 1, channels) / channels ** 0.5)
        self.q_proj = nn.Linear(channels, channels)
        self.k_proj = nn.Linear(channels, channels)
        self.v_proj = nn.Linear(channels, channels)
        self.c_proj = nn.Linear(channels, out_dim)
        self.heads = heads

    def forward(self, x):
        n, c, h, w = x.shape
        tokens = x.reshape(n, c, h * w).permute(0, 2, 1)  # [N, HW, C]
        tokens = torch.cat([tokens.mean(dim=1, keepdim=True), tokens], dim=1) + self.positional_embedding
        q = self.q_proj(tokens[:, :1])
        k = self.k_proj(tokens)
        v = self.v_proj(tokens)
        dh = c // self.heads

        def heads(t):
            return t.reshape(n, t.shape[1], self.heads, dh).permute(0, 2, 1, 3)

        att = torch.softmax((heads(q) * dh ** -0.5) @ heads(k).transpose(-1, -2), dim=-1)
        out = (att @ heads(v)).permute(0, 2, 1, 3).reshape(n, 1, c)
        return self.c_proj(out)[:, 0]


class ModifiedResNet(nn.Module):
    def __init__(self, layers, out_dim, heads, resolution, width):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width // 2, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width // 2)
        self.conv2 = nn.Conv2d(width // 2, width // 2, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width // 2)
        self.conv3 = nn.Conv2d(width // 2, width, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(width)
        self.avgpool = nn.AvgPool2d(2)
        inplanes = width
        stages = []
        for s, count in enumerate(layers):
            planes = width * 2 ** s
            blocks = []
            for j in range(count):
                blocks.append(Bottleneck(inplanes, planes, 2 if (j == 0 and s > 0) else 1))
                inplanes = planes * 4
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.attnpool = AttentionPool(resolution // 32, width * 32, heads, out_dim)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = F.relu(self.bn3(self.conv3(x)))
        x = self.avgpool(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.attnpool(x)


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class Block(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(OrderedDict([
            ('c_fc', nn.Linear(width, width * 4)), ('gelu', QuickGELU()), ('c_proj', nn.Linear(width * 4, width))]))
        self.ln_2 = nn.LayerNorm(width)

    def forward(self, x, mask):  # x: [L, N, D]
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False, attn_mask=mask)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width, layers, heads):
        super().__init__()
        self.resblocks = nn.ModuleList([Block(width, heads) for _ in range(layers)])

    def forward(self, x, mask):
        for b in self.resblocks:
            x = b(x, mask)
        return x


class TinyClipRN(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.visual = ModifiedResNet(c['vision_layers'], c['embed_dim'], c['vision_width'] * 32 // 64,
                                     c['image_resolution'], c['vision_width'])
        w = c['transformer_width']
        self.transformer = Transformer(w, c['transformer_layers'], c['transformer_heads'])
        self.token_embedding = nn.Embedding(c['vocab_size'], w)
        self.positional_embedding = nn.Parameter(torch.randn(c['context_length'], w) * 0.01)
        self.ln_final = nn.LayerNorm(w)
        self.text_projection = nn.Parameter(torch.randn(w, c['embed_dim']) * w ** -0.5)
        self.logit_scale = nn.Parameter(torch.tensor(float(np.log(1 / 0.07))))
        self.context_length = c['context_length']

    def encode_image(self, images):
        return self.visual(images)

    def encode_text(self, tokens):
        L = self.context_length
        mask = torch.full((L, L), float('-inf'), dtype=self.positional_embedding.dtype).triu(1)
        x = self.token_embedding(tokens) + self.positional_embedding
        x = self.transformer(x.permute(1, 0, 2), mask).permute(1, 0, 2)
        x = self.ln_final(x)
        return x[torch.arange(x.shape[0]), tokens.argmax(dim=-1)] @ self.text_projection

    def forward(self, images, tokens):
        img = self.encode_image(images)
        txt = self.encode_text(tokens)
        img = img / img.norm(dim=1, keepdim=True)
        txt = txt / txt.norm(dim=1, keepdim=True)
        logits = self.logit_scale.exp() * img @ txt.t()
        return logits, logits.t()


def nested(a):
    return np.asarray(a, dtype=np.float64).tolist()


def main():
    torch.manual_seed(SEED)
    model = TinyClipRN(CONFIG).float()
    gen = torch.Generator().manual_seed(SEED + 1)
    with torch.no_grad():
        for name, m in model.named_modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(1 + 0.2 * torch.randn(c, generator=gen))
                m.bias.copy_(0.1 * torch.randn(c, generator=gen))
                m.running_mean.copy_(0.1 * torch.randn(c, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(c, generator=gen))
                m.num_batches_tracked.fill_(7)
            if isinstance(m, nn.LayerNorm):
                m.weight.add_(0.1 * torch.randn(m.weight.shape, generator=gen))
                m.bias.add_(0.1 * torch.randn(m.bias.shape, generator=gen))
            if isinstance(m, nn.MultiheadAttention):
                m.in_proj_bias.add_(0.1 * torch.randn(m.in_proj_bias.shape, generator=gen))
                m.out_proj.bias.add_(0.1 * torch.randn(m.out_proj.bias.shape, generator=gen))
    model.eval()
    sd = {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}
    os.makedirs(OUT_DIR, exist_ok=True)
    meta = {'format': 'pt', 'config': json.dumps(CONFIG), 'generator': generator_path(__file__)}
    write_safetensors(os.path.join(OUT_DIR, 'model.safetensors'), sd, meta)

    rng = np.random.default_rng(SEED)
    n = 2
    images32 = rng.standard_normal((n, 3, CONFIG['image_resolution'], CONFIG['image_resolution'])).astype(np.float32)
    L, V = CONFIG['context_length'], CONFIG['vocab_size']
    tokens = np.zeros((n, L), dtype=np.int64)
    for i, length in enumerate([4, 7]):
        tokens[i, 0] = V - 2  # start token
        tokens[i, 1:length - 1] = rng.integers(1, V - 2, length - 2)
        tokens[i, length - 1] = V - 1  # end token (the largest id: pooled)

    grad_names = [
        'visual.conv1.weight', 'visual.bn1.weight', 'visual.bn3.bias', 'visual.conv3.weight',
        'visual.layer1.0.conv1.weight', 'visual.layer1.0.conv2.weight', 'visual.layer1.0.bn3.weight',
        'visual.layer1.0.downsample.0.weight', 'visual.layer1.0.downsample.1.bias',
        'visual.layer2.0.conv2.weight', 'visual.layer2.1.conv1.weight', 'visual.layer4.0.conv3.weight',
        'visual.attnpool.positional_embedding', 'visual.attnpool.q_proj.bias', 'visual.attnpool.k_proj.weight',
        'visual.attnpool.v_proj.bias', 'visual.attnpool.c_proj.weight',
        'transformer.resblocks.0.attn.in_proj_weight', 'text_projection', 'logit_scale',
    ]

    def run(dtype):
        m = TinyClipRN(CONFIG)
        m.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})
        m = m.to(dtype).eval()
        imgs = torch.from_numpy(images32).to(dtype)
        toks = torch.from_numpy(tokens)
        img = m.encode_image(imgs)
        txt = m.encode_text(toks)
        logits, logits_t = m(imgs, toks)
        labels = torch.arange(n)
        loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits_t, labels)) / 2
        params = dict(m.named_parameters())
        grads = torch.autograd.grad(loss, [params[k] for k in grad_names])
        return img, txt, logits, loss, grads

    img, txt, logits, loss, grads = run(torch.float64)
    img32, txt32, logits32, loss32, _ = run(torch.float32)
    expected = {
        **provenance(__file__, SEED, torch=torch, numpy=np),
        'config': CONFIG,
        'compute_dtype': 'float64',
        'note': 'float32 weights and images cast to float64; BatchNorm in eval mode; loss = (CE(L, arange) + CE(L^T, arange)) / 2',
        'images': {'shape': list(images32.shape), 'data': nested(images32)},
        'tokens': tokens.tolist(),
        'encode_image': nested(img.detach()),
        'encode_text': nested(txt.detach()),
        'logits_per_image': nested(logits.detach()),
        'loss': float(loss),
        'grads': {k: {'shape': list(g.shape), 'data': nested(g)} for k, g in zip(grad_names, grads)},
        'float32': {
            'encode_image': nested(img32.detach()),
            'encode_text': nested(txt32.detach()),
            'loss': float(loss32),
        },
    }
    write_json(os.path.join(OUT_DIR, 'expected.json'), expected, newline=False)
    write_json(os.path.join(OUT_DIR, 'config.json'),
               {'constructor_args': CONFIG, 'generator': generator_path(__file__), 'seed': SEED}, newline=False, indent=1)
    print('wrote', OUT_DIR, 'params', sum(v.size for v in sd.values()), 'loss', float(loss))


if __name__ == '__main__':
    main()
