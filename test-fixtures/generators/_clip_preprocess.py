"""CLIP's `_transform` steps and the cases file shared by clip_preprocess_float.py and clip_preprocess_rgb.py.

torchvision is not installed here, so its two geometry rules (Resize's output size on PIL images, CenterCrop's
offsets, as in torchvision 0.14) are re-typed; the pixels themselves come from PIL, and ToTensor + Normalize run the
same torch float32 operations torchvision runs (uint8 -> float32, div(255), sub_(mean), div_(std)).
"""
import numpy as np
import PIL
import torch
from PIL import Image

from _fixture_io import provenance, write_json

MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)


def torchvision_resize_size(h, w, n_px, mode):
    """(new_h, new_w) of `Resize(n_px)` (mode 'shorter-side': shorter side -> n_px, longer side
    int(n_px * long / short)) or of `Resize((n_px, n_px))` (mode 'square')."""
    if mode == 'square':
        return n_px, n_px
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = n_px, int(n_px * long / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    return new_h, new_w


def center_crop_top_left(h, w, n_px):
    """`CenterCrop(n_px)`'s offsets: int(round((H - n_px) / 2)), Python's round (half to even)."""
    return int(round((h - n_px) / 2.0)), int(round((w - n_px) / 2.0))


def resize_and_crop(pil, n_px, mode):
    """`Resize` (BICUBIC) then `CenterCrop(n_px)` through PIL -> (resized, cropped, fields), where fields are the
    case record's 'n_px', 'resize', 'resized_hw' and 'crop_top_left'."""
    new_h, new_w = torchvision_resize_size(pil.height, pil.width, n_px, mode)
    resized = pil.resize((new_w, new_h), Image.BICUBIC)
    top, left = center_crop_top_left(new_h, new_w, n_px)
    cropped = resized.crop((left, top, left + n_px, top + n_px))
    return resized, cropped, {'n_px': n_px, 'resize': mode, 'resized_hw': [new_h, new_w], 'crop_top_left': [top, left]}


def to_tensor_normalize(rgb):
    """`ToTensor` + `Normalize(MEAN, STD)` of a PIL RGB image -> float32 [3, h, w]."""
    t = torch.from_numpy(np.array(rgb, np.uint8, copy=True)).permute(2, 0, 1).contiguous()
    t = t.to(dtype=torch.float32).div(255)
    t = t.sub_(torch.as_tensor(MEAN, dtype=torch.float32)[:, None, None])
    t = t.div_(torch.as_tensor(STD, dtype=torch.float32)[:, None, None])
    return t.numpy().astype(np.float32)


def write_cases(path, script, seed, notes, cases):
    """The cases file: provenance, CLIP's mean and std, notes and one record per case (JSON, indent 1)."""
    meta = {**provenance(script, seed, numpy=np, PIL=PIL, torch=torch), 'mean': MEAN, 'std': STD, 'notes': notes,
            'cases': cases}
    write_json(path, meta, indent=1)
