#!/usr/bin/env python3
"""PyTorch (CPU) baseline for packages/train/bench/train.bench.ts: the whole FairCLIP fine-tuning path of the default
tiny CLIP, done the way FairCLIP's finetune_CLIP.py does it, timed in the same run as runTraining.

One run (one stdin line, the JSON spec written by train.bench.ts) does, inside the timed region:
  - weights (safetensors, parsed with numpy) and BPE vocabulary loaded; OpenAI's CLIP architecture (the class of
    packages/clip/bench/torch_worker.py, same parameter count checked by the caller);
  - the dataset opened: npz files of each split listed, their labels and attributes read with numpy.load, the
    official filter (validation/test samples with an unknown attribute left out), the GPT-4 summaries read with csv
    and cut with the official truncate_note, the captions tokenized (OpenAI's simple_tokenizer rules, below);
  - images read with numpy.load (slo_fundus, float32) and preprocessed as FairCLIP does (PIL mode "F", Resize 224
    BICUBIC, CenterCrop, convert("RGB"), ToTensor, Normalize; the steps of test-fixtures/generators/_clip_preprocess.py),
    each image once per run (runTraining keeps an ImageCache per run too);
  - per step: the batch of the given plan (the TypeScript side's seeded order), forward, the symmetric contrastive loss,
    backward (gradients of the trained parameters only: model.visual and model.transformer, as optim.trainable
    'official'), torch.optim.Adam step (lr, betas, eps, weight decay of the preset);
  - per epoch: zero-shot evaluation of validation and test (raw cosine to the two prompts, softmax, p1), AUC, accuracy
    (sklearn's roc_auc_score) and the group metrics of every attribute (group AUCs, ES-AUC, ES-accuracy, DPD, DEOdds with fairlearn 0.9's
    conventions), the epoch CSV rows, a checkpoint (model + optimizer state, torch.save) and best.pt when the
    validation AUC improves; steps.csv and result.json at the end.

Protocol (packages/clip/bench/torch-worker.ts drives it): argv[1] is the JSON of CLIP's constructor arguments,
argv[2] the torch device ('cpu'). The first line written is 'ready <torch version> <device> <threads>'; then one JSON
spec per stdin line, answered with one JSON line: {"ms", "losses", "val_auc", "test_auc", "params", "trainable",
"splits"}. 'quit' ends the process. BENCH_TORCH_THREADS sets torch.set_num_threads.
"""
import csv
import gzip
import html
import json
import os
import re
import sys
import time
import traceback

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from sklearn.metrics import roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
sys.path.insert(0, os.path.join(REPO, 'packages', 'clip', 'bench'))
sys.path.insert(0, os.path.join(REPO, 'test-fixtures', 'generators'))
from torch_worker import Clip  # noqa: E402
from _clip_preprocess import resize_and_crop, to_tensor_normalize  # noqa: E402

ATTRIBUTES = ['race', 'gender', 'ethnicity', 'language']
SPLIT_FOLDERS = {'train': 'Training', 'val': 'Validation', 'test': 'Test'}


# ---------------------------------------------------------------------------------------------- weights, tokenizer

def read_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], 'little')
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, meta in header.items():
        if name == '__metadata__':
            continue
        assert meta['dtype'] == 'F32', f'{path}: {name} is {meta["dtype"]}'
        a, b = meta['data_offsets']
        out[name] = torch.from_numpy(np.frombuffer(raw, '<f4', (b - a) // 4, 8 + n + a).reshape(meta['shape']).copy())
    return out


# OpenAI state-dict names -> the attribute names of torch_worker.Clip
RENAMES = [('visual.transformer.resblocks.', 'vblocks.'), ('visual.positional_embedding', 'vpos'),
           ('visual.', ''), ('transformer.resblocks.', 'tblocks.'), ('positional_embedding', 'tpos')]
TRAINED_PREFIXES = ('conv1.', 'class_embedding', 'vpos', 'ln_pre.', 'vblocks.', 'ln_post.', 'proj', 'tblocks.')


def load_model(config, weights_path):
    model = Clip(config).float()
    state = {}
    for name, value in read_safetensors(weights_path).items():
        for old, new in RENAMES:
            if name.startswith(old):
                name = new + name[len(old):]
                break
        state[name] = value
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert missing == ['mask'] and not unexpected, (missing, unexpected)
    return model


def bytes_to_unicode():
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


class Tokenizer:
    """OpenAI's clip/simple_tokenizer.py without ftfy (identity on well-formed text, as @fairclip/clip) and with the
    standard `re` module: [^\\W\\d_] and \\d stand for \\p{L} and \\p{N} (the same on the ASCII captions here)."""

    PAT = re.compile(r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|(?:[^\s\w]|_)+",
                     re.IGNORECASE)

    def __init__(self, path):
        lines = gzip.open(path).read().decode('utf-8').split('\n')[1:49152 - 256 - 2 + 1]
        merges = [tuple(m.split()) for m in lines if m.strip()]
        self.byte_encoder = bytes_to_unicode()
        vocab = list(self.byte_encoder.values())
        vocab += [v + '</w>' for v in vocab] + [''.join(m) for m in merges] + ['<|startoftext|>', '<|endoftext|>']
        self.encoder = {v: i for i, v in enumerate(vocab)}
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.cache = {}

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + '</w>',)
        while len(word) > 1:
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
            best = min(pairs, key=lambda p: self.ranks.get(p, float('inf')))
            if best not in self.ranks:
                break
            first, second = best
            out, i = [], 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                except ValueError:
                    out.extend(word[i:])
                    break
                out.extend(word[i:j])
                i = j
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    out.append(first + second)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            word = tuple(out)
        self.cache[token] = word
        return word

    def encode(self, text):
        text = html.unescape(html.unescape(text)).strip()
        text = re.sub(r'\s+', ' ', text).strip().lower()
        ids = []
        for token in self.PAT.findall(text):
            token = ''.join(self.byte_encoder[b] for b in token.encode('utf-8'))
            ids.extend(self.encoder[t] for t in self.bpe(token))
        return ids

    def tokenize(self, texts, context_length):
        out = torch.zeros(len(texts), context_length, dtype=torch.long)
        sot, eot = self.encoder['<|startoftext|>'], self.encoder['<|endoftext|>']
        for i, text in enumerate(texts):
            ids = [sot] + self.encode(text) + [eot]
            if len(ids) > context_length:
                raise RuntimeError(f'input {text!r} is too long for context length {context_length}')
            out[i, :len(ids)] = torch.tensor(ids)
        return out


# ------------------------------------------------------------------------------------------------------------- data

def truncate_note(note, max_length):
    return note if len(note) <= max_length else note[:max_length][:note[:max_length].rfind(' ')]


def open_split(root, split, limit, summaries, max_chars):
    folder = os.path.join(root, SPLIT_FOLDERS[split])
    samples = []
    for name in sorted(f for f in os.listdir(folder) if f.endswith('.npz')):
        path = os.path.join(folder, name)
        with np.load(path) as z:
            label = int(z['glaucoma'])
            groups = {a: int(z[a]) for a in ATTRIBUTES}
        if split != 'train' and any(g == -1 for g in groups.values()):
            continue  # the official filter
        note = summaries.get(name)
        samples.append({'path': path, 'label': label, 'groups': groups,
                        'caption': None if note is None else truncate_note(note, max_chars)})
    return samples if limit is None else samples[:limit]


def read_summaries(root):
    with open(os.path.join(root, 'gpt-4_summarized_notes.csv'), newline='', encoding='utf-8') as f:
        rows = list(csv.reader(f))[1:]
    return {r[0].strip(): r[2].strip() for r in rows if r[2].strip()}


class Images:
    """FairCLIP's preprocessing of slo_fundus, each file once per run."""

    def __init__(self, size):
        self.size = size
        self.cache = {}

    def get(self, path):
        if path not in self.cache:
            with np.load(path) as z:
                arr = z['slo_fundus'].astype(np.float32)
            _, cropped, _ = resize_and_crop(Image.fromarray(arr), self.size, 'shorter-side')
            self.cache[path] = torch.from_numpy(to_tensor_normalize(cropped.convert('RGB')))
        return self.cache[path]

    def batch(self, samples):
        return torch.stack([self.get(s['path']) for s in samples])


# ------------------------------------------------------------------------------------------------------- evaluation

def auc(scores, labels):
    """sklearn's roc_auc_score (what FairCLIP calls), None when one class is missing."""
    return float(roc_auc_score(labels, scores)) if 0 < labels.sum() < len(labels) else None


def split_metrics(scores, labels, groups, threshold):
    pred = (scores >= threshold).astype(np.int64)
    overall_auc = auc(scores, labels)
    acc = float((pred == labels).mean())
    out = {'auc': overall_auc, 'acc': acc, 'attributes': {}}
    for a in ATTRIBUTES:
        g = np.array([s[a] for s in groups])
        per = {}
        for v in sorted(set(g.tolist()) - {-1}):
            m = g == v
            y, p = labels[m], pred[m]
            per[v] = {'auc': auc(scores[m], y), 'acc': float((p == y).mean()), 'sel': float(p.mean()),
                      'tpr': float(p[y == 1].mean()) if (y == 1).any() else 0.0,
                      'fpr': float(p[y == 0].mean()) if (y == 0).any() else 0.0}
        aucs = [x['auc'] for x in per.values() if x['auc'] is not None]
        rates = lambda k: [x[k] for x in per.values()]  # noqa: E731
        out['attributes'][a] = {
            'group_auc': {k: x['auc'] for k, x in per.items()},
            'es_auc': None if overall_auc is None else overall_auc / (1 + sum(abs(overall_auc - x) for x in aucs)),
            'es_acc': acc / (1 + sum(abs(acc - x['acc']) for x in per.values())),
            'dpd': max(rates('sel')) - min(rates('sel')),
            'deodds': max(max(rates('tpr')) - min(rates('tpr')), max(rates('fpr')) - min(rates('fpr'))),
        }
    return out


def zero_shot_scores(model, images, samples, prompt_features, batch_size):
    out = []
    with torch.no_grad():
        for s in range(0, len(samples), batch_size):
            feats = F.normalize(model.encode_image(images.batch(samples[s:s + batch_size])), dim=-1)
            out.append(torch.softmax(feats @ prompt_features.t(), dim=-1)[:, 1])
    return torch.cat(out).double().numpy()


def csv_row(epoch, m):
    cells = [epoch, m['acc'], m['auc']]
    for a in ATTRIBUTES:
        x = m['attributes'][a]
        cells += [x['es_acc'], x['es_auc'], x['dpd'], x['deodds'], *x['group_auc'].values()]
    return ', '.join('nan' if c is None else str(c) for c in cells)


# ------------------------------------------------------------------------------------------------------------- run

def run(spec, config):
    model_dir = os.path.dirname(spec['modelConfig'])
    model_json = json.load(open(spec['modelConfig']))
    model = load_model(config, os.path.join(model_dir, model_json['weights']))
    tokenizer = Tokenizer(os.path.join(model_dir, model_json['vocab']))
    assert len(tokenizer.encoder) <= config['vocab_size']
    summaries = read_summaries(spec['dataRoot'])
    data = {s: open_split(spec['dataRoot'], s, spec['limits'][s], summaries, spec['summaryMaxChars'])
            for s in ('train', 'val', 'test')}
    L = config['context_length']
    train_tokens = tokenizer.tokenize([s['caption'] for s in data['train']], L)
    prompts = tokenizer.tokenize(spec['prompts'], L)
    images = Images(config['image_resolution'])
    trained = []
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith(TRAINED_PREFIXES))
        if p.requires_grad:
            trained.append(p)
    opt = torch.optim.Adam(trained, lr=spec['lr'], betas=tuple(spec['betas']), eps=spec['eps'],
                           weight_decay=spec['weightDecay'])
    out_dir = spec['outDir']
    os.makedirs(os.path.join(out_dir, 'checkpoints'), exist_ok=True)
    labels = {s: np.array([x['label'] for x in data[s]]) for s in ('val', 'test')}
    losses, step_rows, val_auc, test_auc, csv_rows = [], [], [], [], {'val': [], 'test': []}
    best = None
    for epoch, plan in enumerate(spec['plans']):
        model.train()
        for step, idx in enumerate(plan):
            batch = [data['train'][i] for i in idx]
            img = F.normalize(model.encode_image(images.batch(batch)), dim=-1)
            txt = F.normalize(model.encode_text(train_tokens[idx]), dim=-1)
            logits = model.logit_scale.exp() * img @ txt.t()
            target = torch.arange(len(idx))
            loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)) / 2
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            step_rows.append(f'{epoch}, {step}, {len(losses)}, {len(idx)}, {losses[-1]}, {losses[-1]}, 0')
        model.eval()
        with torch.no_grad():
            prompt_features = F.normalize(model.encode_text(prompts), dim=-1)
        metrics = {}
        for s in ('val', 'test'):
            scores = zero_shot_scores(model, images, data[s], prompt_features, spec['evalBatchSize'])
            metrics[s] = split_metrics(scores, labels[s], [x['groups'] for x in data[s]], spec['threshold'])
            csv_rows[s].append(csv_row(epoch, metrics[s]))
            with open(os.path.join(out_dir, f'epochs_{s}.csv'), 'w') as f:
                f.write('\n'.join(csv_rows[s]) + '\n')
        val_auc.append(metrics['val']['auc'])
        test_auc.append(metrics['test']['auc'])
        if metrics['val']['auc'] is not None and (best is None or metrics['val']['auc'] > best[1]):
            best = (epoch, metrics['val']['auc'])
            torch.save(model.state_dict(), os.path.join(out_dir, 'best.pt'))
        torch.save({'model': model.state_dict(), 'optimizer': opt.state_dict(), 'epoch': epoch},
                   os.path.join(out_dir, 'checkpoints', 'latest.pt'))
    with open(os.path.join(out_dir, 'steps.csv'), 'w') as f:
        f.write('\n'.join(['epoch, step, global_step, samples, loss, clip, fairness'] + step_rows) + '\n')
    with open(os.path.join(out_dir, 'result.json'), 'w') as f:
        json.dump({'status': 'complete', 'selected_epoch': best and best[0], 'val_auc': val_auc,
                   'test_auc': test_auc, 'losses': losses}, f)
    return {'losses': losses, 'val_auc': val_auc, 'test_auc': test_auc,
            'params': sum(p.numel() for p in model.parameters()), 'trainable': sum(p.numel() for p in trained),
            'splits': {s: len(v) for s, v in data.items()}}


def main():
    config = json.loads(sys.argv[1])
    device = sys.argv[2] if len(sys.argv) > 2 else 'cpu'
    if device != 'cpu':
        raise SystemExit(f'torch_train.py runs on the CPU only, got device {device!r}')
    if os.environ.get('BENCH_TORCH_THREADS'):
        torch.set_num_threads(int(os.environ['BENCH_TORCH_THREADS']))
    torch.manual_seed(0)
    print('ready', torch.__version__, device, torch.get_num_threads(), flush=True)
    for line in sys.stdin:
        if not line.strip() or line.strip() == 'quit':
            break
        try:
            spec = json.loads(line)
            t0 = time.perf_counter()
            result = run(spec, config)
            result['ms'] = (time.perf_counter() - t0) * 1e3
        except Exception:  # answered, so that the caller fails with the reason instead of waiting
            result = {'error': traceback.format_exc()}
        print(json.dumps(result), flush=True)


if __name__ == '__main__':
    main()
