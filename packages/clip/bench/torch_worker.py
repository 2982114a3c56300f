#!/usr/bin/env python3
"""PyTorch (CPU) baseline for @fairclip/clip's benchmarks: OpenAI's CLIP architecture with a Vision Transformer image
tower, written from its description (pre-LN residual blocks with QuickGELU MLPs, class token, ln_pre/ln_post,
projections, causal text transformer pooled at the largest token id), randomly initialised, float32.

Protocol (one process per benchmark run, so interpreter and model start-up are not timed): argv[1] is the JSON of
OpenAI's constructor arguments, argv[2] the torch device (default 'cpu'; 'cuda' synchronises before answering),
argv[3] (optional) the number of CPU threads (torch.set_num_threads; default: torch's own choice);
then one command per stdin line, answered with one stdout line when done:
  infer B    image features of B random images (torch.no_grad)
  train B    one training step at batch B: symmetric contrastive loss, backward, SGD update
  quit
The first line written is 'ready <torch version> <threads>'.
"""
import json
import sys
from collections import OrderedDict

import torch
from torch import nn
import torch.nn.functional as F


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class Block(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(OrderedDict([
            ('c_fc', nn.Linear(width, 4 * width)), ('gelu', QuickGELU()), ('c_proj', nn.Linear(4 * width, width))]))
        self.ln_2 = nn.LayerNorm(width)

    def forward(self, x, mask=None):
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False, attn_mask=mask)[0]
        return x + self.mlp(self.ln_2(x))


class Clip(nn.Module):
    def __init__(self, c):
        super().__init__()
        vw, p, r = c['vision_width'], c['vision_patch_size'], c['image_resolution']
        self.conv1 = nn.Conv2d(3, vw, p, stride=p, bias=False)
        self.class_embedding = nn.Parameter(torch.randn(vw) * vw ** -0.5)
        self.vpos = nn.Parameter(torch.randn((r // p) ** 2 + 1, vw) * vw ** -0.5)
        self.ln_pre = nn.LayerNorm(vw)
        self.vblocks = nn.ModuleList([Block(vw, vw // 64) for _ in range(c['vision_layers'])])
        self.ln_post = nn.LayerNorm(vw)
        self.proj = nn.Parameter(torch.randn(vw, c['embed_dim']) * vw ** -0.5)
        tw = c['transformer_width']
        self.token_embedding = nn.Embedding(c['vocab_size'], tw)
        self.tpos = nn.Parameter(torch.randn(c['context_length'], tw) * 0.01)
        self.tblocks = nn.ModuleList([Block(tw, c['transformer_heads']) for _ in range(c['transformer_layers'])])
        self.ln_final = nn.LayerNorm(tw)
        self.text_projection = nn.Parameter(torch.randn(tw, c['embed_dim']) * tw ** -0.5)
        self.logit_scale = nn.Parameter(torch.tensor(2.6592))
        L = c['context_length']
        self.register_buffer('mask', torch.full((L, L), float('-inf')).triu(1))

    def encode_image(self, x):
        x = self.conv1(x).flatten(2).permute(0, 2, 1)
        cls = self.class_embedding.expand(x.shape[0], 1, -1)
        x = self.ln_pre(torch.cat([cls, x], dim=1) + self.vpos).permute(1, 0, 2)
        for b in self.vblocks:
            x = b(x)
        return self.ln_post(x[0]) @ self.proj

    def encode_text(self, t):
        x = (self.token_embedding(t) + self.tpos).permute(1, 0, 2)
        for b in self.tblocks:
            x = b(x, self.mask)
        x = self.ln_final(x.permute(1, 0, 2))
        return x[torch.arange(x.shape[0]), t.argmax(dim=-1)] @ self.text_projection


def main():
    config = json.loads(sys.argv[1])
    device = torch.device(sys.argv[2] if len(sys.argv) > 2 else 'cpu')
    if len(sys.argv) > 3 and int(sys.argv[3]) > 0:
        torch.set_num_threads(int(sys.argv[3]))
    torch.manual_seed(0)
    model = Clip(config).float().to(device)
    opt = torch.optim.SGD(model.parameters(), lr=1e-6)
    r, L, V = config['image_resolution'], config['context_length'], config['vocab_size']
    print('ready', torch.__version__, device, torch.get_num_threads(), flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts or parts[0] == 'quit':
            break
        b = int(parts[1])
        images = torch.randn(b, 3, r, r, device=device)
        if parts[0] == 'infer':
            with torch.no_grad():
                model.encode_image(images)
        else:
            tokens = torch.randint(1, V - 1, (b, L), device=device)
            tokens[:, L // 2] = V - 1
            img = F.normalize(model.encode_image(images), dim=-1)
            txt = F.normalize(model.encode_text(tokens), dim=-1)
            logits = model.logit_scale.exp() * img @ txt.t()
            labels = torch.arange(b, device=device)
            loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels)) / 2
            opt.zero_grad()
            loss.backward()
            opt.step()
        if device.type == 'cuda':
            torch.cuda.synchronize()
        print('ok', flush=True)


if __name__ == '__main__':
    main()
