#!/usr/bin/env python3
"""References for the linear probe's data pipeline as the official mae/main_linprobe.py builds it (FairCLIP repo):
FUNDUS_Dataset converts the float fundus to 8-bit RGB first (`Image.fromarray(x).convert("RGB")`), then
- training: BLIP-2's train processor (LAVIS blip_processors.py `Blip2ImageTrainProcessor(image_size, min_scale 0.5,
  max_scale 1.0)`): RandomResizedCrop(size, scale (0.5, 1), BICUBIC) + RandomHorizontalFlip + ToTensor + Normalize;
- evaluation: `BlipImageEvalProcessor`: Resize((size, size), BICUBIC) + ToTensor + Normalize;
- captions: `BlipCaptionProcessor(prompt='', max_words=50)` then engine_finetune.py's `truncate_note(note, 170)`.

torchvision is not installed here. For PIL images torchvision 0.14 computes RandomResizedCrop's output as
`F.resized_crop(img, top, left, h, w, size, BICUBIC)` = `img.crop((left, top, left + w, top + h))` then
`img.resize((size, size), BICUBIC)`, and hflip as `img.transpose(FLIP_LEFT_RIGHT)`; those PIL calls are made here for
fixed crop boxes (the box itself comes from torch's RNG in the original and from a seeded generator in the port, so
only the geometry for a given box is comparable). ToTensor + Normalize are torch's float32 operations
(_clip_preprocess.to_tensor_normalize). LAVIS is not installed either: `pre_caption` and `truncate_note` are re-typed
from LAVIS blip_processors.py and mae/engine_finetune.py.

Run: /usr/bin/python3 test-fixtures/generators/train_linear_probe_augment.py
(writes test-fixtures/data/train/linear_probe_augment.json)
"""
import os
import re

import numpy as np
import PIL
import torch
from PIL import Image

from _clip_preprocess import to_tensor_normalize
from _fixture_io import provenance, write_json

SEED = 4316
OUT = os.path.join(os.path.dirname(__file__), '..', 'data', 'train', 'linear_probe_augment.json')
SIZE = 16


def pre_caption(caption, max_words=50):
    caption = re.sub(r"([.!\"()*#:;~])", " ", caption.lower())
    caption = re.sub(r"\s{2,}", " ", caption)
    caption = caption.rstrip("\n")
    caption = caption.strip(" ")
    words = caption.split(" ")
    if len(words) > max_words:
        caption = " ".join(words[:max_words])
    return caption


def truncate_note(note, max_length=170):
    if len(note) > max_length:
        note = note[:max_length]
        note = note[:note.rfind(' ')]
    return note


def flat(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def main():
    rng = np.random.default_rng(SEED)
    # A float fundus-like image with values outside [0, 255] (the 8-bit conversion clamps and truncates) and an
    # 8-bit RGB image (FairFace).
    gray = (rng.standard_normal((30, 24)) * 90 + 120).astype(np.float32)
    gray[0, :4] = [-3.5, 255.7, 0.99, 254.2]
    rgb = rng.integers(0, 256, (22, 27, 3), dtype=np.uint8)
    images = {'gray': Image.fromarray(gray).convert('RGB'), 'rgb': Image.fromarray(rgb, 'RGB')}
    boxes = [  # top, left, height, width, flip
        (0, 0, 30, 24, False), (3, 5, 20, 17, True), (7, 2, 23, 19, False), (10, 8, 15, 12, True)]
    rgb_boxes = [(0, 0, 22, 27, True), (2, 4, 18, 20, False), (5, 1, 16, 21, True)]
    cases = []
    for name, pil in images.items():
        cases.append({'image': name, 'transform': 'eval',
                      'expected': flat(to_tensor_normalize(pil.resize((SIZE, SIZE), Image.BICUBIC)))})
        for top, left, h, w, flip in (boxes if name == 'gray' else rgb_boxes):
            out = pil.crop((left, top, left + w, top + h)).resize((SIZE, SIZE), Image.BICUBIC)
            if flip:
                out = out.transpose(Image.FLIP_LEFT_RIGHT)
            cases.append({'image': name, 'transform': 'train', 'box': [top, left, h, w], 'flip': flip,
                          'expected': flat(to_tensor_normalize(out))})
    notes = [
        'The patient (65 y.o.) has GLAUCOMA: cup-to-disc ratio 0.8; follow up in 6 months!  "Stable"  ~ok #1.',
        ' '.join(f'Word{i}.' for i in range(60)),
        'No  glaucoma.\n\n',
        'Optic nerve head: normal appearance; IOP 14 mmHg OD and 15 mmHg OS (within normal limits), visual field '
        'full; no signs of glaucomatous damage were found on examination of both eyes, recommend routine follow-up.',
        'x' * 200,
    ]
    captions = [{'note': n, 'pre_caption': pre_caption(n), 'caption': truncate_note(pre_caption(n))} for n in notes]
    out = {
        **provenance(__file__, SEED, numpy=np, PIL=PIL, torch=torch),
        'size': SIZE,
        'gray': {'height': 30, 'width': 24, 'data': flat(gray)},
        'rgb': {'height': 22, 'width': 27, 'data': [int(v) for v in rgb.ravel()]},
        'cases': cases,
        'captions': captions,
    }
    write_json(OUT, out, separators=(',', ':'))
    print(f'wrote {os.path.normpath(OUT)} ({len(cases)} image cases, {len(captions)} captions)')


if __name__ == '__main__':
    main()
