#!/usr/bin/env python3
"""Reference outputs of PIL's 8-bit bicubic resize and of CLIP's `_transform` on 8-bit images (FairFace's path).

For seeded synthetic RGB and gray (mode "L") uint8 images, computed with Debian's Pillow (the same 9.4.0 that made
the golden set) and torch:
- `Resize(n_px, BICUBIC)` as torchvision 0.14 does it on PIL images (shorter side -> n_px, longer side
  int(n_px * long / short)), or `Resize((n_px, n_px), BICUBIC)` (linear probing's eval transform, mode "square"),
  both through PIL's own `Image.resize(size, Image.BICUBIC)` -> `<case>_resized.npy` (uint8 [h, w, c]);
- `CenterCrop(n_px)` with torchvision's offsets int(round((H - n_px) / 2)) (Python round, half to even) through
  PIL's `Image.crop` -> `<case>_cropped.npy`;
- `convert("RGB")`, `ToTensor` and `Normalize(CLIP mean, std)` in torch float32 (the operations torchvision runs:
  uint8 -> float32, div(255), sub_(mean), div_(std)) -> `<case>_expected.npy` (float32 [3, n_px, n_px]).
torchvision itself is not installed here, so its two geometry rules are re-typed (in _clip_preprocess.py); the
pixels come from PIL.
The images mix smooth gradients, noise and hard 0/255 edges so that the bicubic overshoot is clamped.

Run: /usr/bin/python3 test-fixtures/generators/clip_preprocess_rgb.py
(writes test-fixtures/data/clip/preprocess-extra/rgb_*.npy and rgb_cases.json)
"""
import os

import numpy as np
from PIL import Image

from _clip_preprocess import resize_and_crop, to_tensor_normalize, write_cases
from _fixture_io import save_npy_set

SEED = 5150
OUT = os.path.join(os.path.dirname(__file__), '..', 'data', 'clip', 'preprocess-extra')

# name, height, width, channels, n_px, mode
CASES = [
    ('rgb_down_224', 300, 257, 3, 224, 'shorter-side'),  # 257 -> 224, 300 -> 261, crop top round(18.5) = 18
    ('rgb_up_64', 40, 31, 3, 64, 'shorter-side'),  # upscaling (kernel not stretched)
    ('rgb_square_48', 97, 130, 3, 48, 'square'),  # Resize((48, 48)), both passes shrink by different factors
    ('rgb_square_hpass_48', 48, 100, 3, 48, 'square'),  # height unchanged: only the horizontal pass runs
    ('rgb_tiny_up_7', 3, 2, 3, 7, 'shorter-side'),  # 2 -> 7, 3 -> 10: every tap clipped at the borders
    ('rgb_big_down_5', 200, 90, 3, 5, 'square'),  # factors 40 and 18: very wide kernels
    ('gray_down_32', 61, 45, 1, 32, 'shorter-side'),  # mode "L": 45 -> 32, 61 -> 43, crop top round(5.5) = 6
    ('rgb_identity_32', 45, 32, 3, 32, 'shorter-side'),  # shorter side already 32: PIL copies, crop round(6.5) = 6
]


def synth(rng, h, w, c):
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.empty((h, w, c), np.float64)
    for ch in range(c):
        a, b = rng.uniform(-2, 2, size=2)
        img[:, :, ch] = 128 + 90 * np.sin(a * x / max(w, 1) * 6 + ch) * np.cos(b * y / max(h, 1) * 5)
    img += rng.normal(0, 20, size=img.shape)
    # hard-edged blocks of 0 and 255, and single bright/dark pixels
    for _ in range(max(1, (h * w) // 400)):
        y0, x0 = rng.integers(0, h), rng.integers(0, w)
        hh, ww = rng.integers(1, max(2, h // 4)), rng.integers(1, max(2, w // 4))
        img[y0:y0 + hh, x0:x0 + ww, :] = rng.choice([0.0, 255.0])
    for _ in range(max(1, (h * w) // 200)):
        img[rng.integers(0, h), rng.integers(0, w), :] = rng.choice([0.0, 255.0])
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def as_hwc(im):
    a = np.array(im, np.uint8)
    return a if a.ndim == 3 else a[:, :, None]


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(SEED)
    records = []
    for name, h, w, c, n_px, mode in CASES:
        arr = synth(rng, h, w, c)
        pil = Image.fromarray(arr if c == 3 else arr[:, :, 0], mode='RGB' if c == 3 else 'L')
        resized, cropped, geometry = resize_and_crop(pil, n_px, mode)
        arrays = {'input': arr, 'resized': as_hwc(resized), 'cropped': as_hwc(cropped)}
        if n_px <= 64:  # the 224 case stops at the crop (normalisation is checked at 224 by the golden float case)
            arrays['expected'] = to_tensor_normalize(cropped.convert('RGB'))
        files = save_npy_set(OUT, name, arrays)
        records.append({
            'name': name,
            'input_shape_hwc': [h, w, c],
            'pil_mode': 'RGB' if c == 3 else 'L',
            **geometry,
            'files': files,
        })
    write_cases(os.path.join(OUT, 'rgb_cases.json'), __file__, SEED,
                'uint8 images resized by PIL Image.resize(BICUBIC) (8-bit fixed-point path), cropped with PIL, '
                'ToTensor/Normalize in torch float32; .npy files are C order, uint8 [h, w, c] or float32 [3, n, n]',
                records)


if __name__ == '__main__':
    main()
