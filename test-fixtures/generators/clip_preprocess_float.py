#!/usr/bin/env python3
"""More reference cases for FairCLIP's float-image path (PIL mode "F"), beside the golden 664 x 512 case.

Seeded synthetic float32 images (smooth structure, noise, values below 0 and above 255) go through
`PIL.Image.fromarray(float32)` (mode "F") and, with Debian's Pillow 9.4.0:
- `Resize(n_px, BICUBIC)` as torchvision 0.14 does it on PIL images (shorter side -> n_px, longer side
  int(n_px * long / short)) or `Resize((n_px, n_px))` (mode "square"), through PIL's `Image.resize` ->
  `<case>_resized.npy` (float32 [h, w]);
- `CenterCrop(n_px)` (offsets int(round((H - n_px) / 2)), Python's half-to-even round) with PIL's `Image.crop`, then
  `convert("RGB")` -> `<case>_rgb.npy` (uint8 [n_px, n_px, 3]);
- `ToTensor` + `Normalize(CLIP mean, std)` in torch float32 -> `<case>_expected.npy` (float32 [3, n_px, n_px]).
torchvision is not installed here, so its two geometry rules are re-typed (in _clip_preprocess.py); the pixels come
from PIL.
Cases cover upscaling, a strong downscale, a crop offset that rounds half to even (6.5 -> 6, 7.5 -> 8), an input
whose shorter side already equals n_px (PIL returns a copy), and the square variant.

Run: /usr/bin/python3 test-fixtures/generators/clip_preprocess_float.py
(writes test-fixtures/data/clip/preprocess-extra/f32_*.npy and f32_cases.json)
"""
import os

import numpy as np
from PIL import Image

from _clip_preprocess import resize_and_crop, to_tensor_normalize, write_cases
from _fixture_io import save_npy_set

SEED = 6626
OUT = os.path.join(os.path.dirname(__file__), '..', 'data', 'clip', 'preprocess-extra')

# name, height, width, n_px, mode
CASES = [
    ('f32_up_64', 37, 29, 64, 'shorter-side'),  # 29 -> 64, 37 -> 81, crop top round(8.5) = 8
    ('f32_down_6', 200, 170, 6, 'shorter-side'),  # factor 28.3: wide kernels; 200 -> 7, crop round(0.5) = 0
    ('f32_identity_32', 45, 32, 32, 'shorter-side'),  # no resize; crop top round(6.5) = 6
    ('f32_crop_up_32', 32, 47, 32, 'shorter-side'),  # no resize; crop left round(7.5) = 8
    ('f32_square_32', 120, 77, 32, 'square'),  # Resize((32, 32))
    ('f32_wide_40', 50, 90, 40, 'shorter-side'),  # landscape: 50 -> 40, 90 -> 72, crop left 16
]


def synth(rng, h, w):
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    cy, cx = (h - 1) / 2, (w - 1) / 2
    r = np.sqrt(((y - cy) / max(h, 1)) ** 2 + ((x - cx) / max(w, 1)) ** 2)
    img = 200 * np.exp(-6 * r ** 2) + 40 * np.sin(x / 3.0) * np.cos(y / 4.0) + 0.3 * x - 0.2 * y
    img += rng.normal(0, 15, size=img.shape)
    for _ in range(max(2, (h * w) // 150)):
        img[rng.integers(0, h), rng.integers(0, w)] = rng.choice([-60.0, 320.0]) + rng.uniform(-5, 5)
    return img.astype(np.float32)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(SEED)
    records = []
    for name, h, w, n_px, mode in CASES:
        arr = synth(rng, h, w)
        pil = Image.fromarray(arr)
        assert pil.mode == 'F'
        resized, cropped, geometry = resize_and_crop(pil, n_px, mode)
        rgb = cropped.convert('RGB')
        files = save_npy_set(OUT, name, {
            'input': arr,
            'resized': np.array(resized, np.float32),
            'rgb': np.array(rgb, np.uint8),
            'expected': to_tensor_normalize(rgb),
        })
        records.append({
            'name': name,
            'input_shape_hw': [h, w],
            'input_min': float(arr.min()),
            'input_max': float(arr.max()),
            **geometry,
            'files': files,
        })
    write_cases(os.path.join(OUT, 'f32_cases.json'), __file__, SEED,
                'float32 images as PIL mode F, resized by PIL Image.resize(BICUBIC), cropped with PIL, '
                'convert("RGB"), ToTensor/Normalize in torch float32; .npy files are C order', records)


if __name__ == '__main__':
    main()
