#!/usr/bin/env python3
"""A tiny FairFace-format folder made with PIL, and what the reproducibility study's
FairCLIP/src/modules.py::fairface_dataset logic makes of it (re-typed below: natsorted file lists cut to `limit`, the
age / race mappings, gender label int(gender == 'Male'), the training caption).

Layout: train/<n>.jpg (14 files, so natural and lexicographic order differ), val/<n>.jpg (6 files),
fairface_label_train.csv / fairface_label_val.csv with columns file, age, gender, race, service_test.
Images: 24x20 RGB JPEGs (baseline, quality 90, 4:4:4 chroma; train/3 and val/3 4:2:0), one grayscale JPEG and
one progressive JPEG. Expected pixels are
PIL's decoding after .convert('RGB') (what the official preprocessing sees).

Writes test-fixtures/data/fairface-mini/ and test-fixtures/data/fairface-mini/expected.json.
Run: /usr/bin/python3 test-fixtures/generators/datasets_fairface_fixture.py
"""
import csv
import os
import re
import shutil

import numpy as np
import PIL
from PIL import Image

from _fixture_io import provenance, write_json

SEED = 31
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data', 'fairface-mini')
AGES = ['0-2', '3-9', '10-19', '20-29', '30-39', '40-49', '50-59', '60-69', 'more than 70']
RACES = ['East Asian', 'Indian', 'Black', 'White', 'Middle Eastern', 'Southeast Asian', 'Latino_Hispanic']
LIMIT = 10  # the tests open the training split with limit 10 (the official code uses 10000)


def natural_key(s):
    return [int(p) if i % 2 else p for i, p in enumerate(re.split(r'(\d+)', s))]


def caption(row):
    # verbatim string building of the official training caption (note: no space before "They")
    return "Image of a person that is " + row['age'] + " years old, and their race is: " + row['race'] + "They are " + row['gender']


def main():
    rng = np.random.default_rng(SEED)
    shutil.rmtree(OUT, ignore_errors=True)
    expected = {}
    kinds = {}
    for split, n in (('train', 14), ('val', 6)):
        os.makedirs(os.path.join(OUT, split))
        rows = []
        for i in range(1, n + 1):
            name = f'{i}.jpg'
            # A smooth face-like blob plus noise, so JPEG decoding differences stay small but nonzero.
            yy, xx = np.mgrid[0:24, 0:20]
            blob = np.exp(-((yy - 12) ** 2 + (xx - 10) ** 2) / 60.0)
            rgb = np.stack([blob * c for c in rng.uniform(80, 255, 3)], -1) + rng.normal(0, 6, (24, 20, 3))
            img = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), 'RGB')
            path = os.path.join(OUT, split, name)
            # 4:4:4 chroma except two 4:2:0 files: decoders upsample 4:2:0 chroma differently (libjpeg's "fancy"
            # triangular filter vs replication), so those get their own tolerance in the tests.
            subsampling = 2 if i == 3 else 0
            if split == 'train' and i == 5:
                img.convert('L').save(path, quality=90)
                subsampling = None
            elif split == 'train' and i == 7:
                img.save(path, quality=90, progressive=True, subsampling=0)
            else:
                img.save(path, quality=90, subsampling=subsampling)
            kinds[f'{split}/{name}'] = 'gray' if subsampling is None else ['4:4:4', None, '4:2:0'][subsampling]
            rows.append({'file': f'{split}/{name}', 'age': AGES[int(rng.integers(0, 9))],
                         'gender': ['Male', 'Female'][int(rng.integers(0, 2))],
                         'race': RACES[int(rng.integers(0, 7))], 'service_test': str(bool(rng.integers(0, 2)))})
        # The label CSV lists rows in a shuffled order: labels must be matched by file name.
        order = rng.permutation(len(rows))
        with open(os.path.join(OUT, f'fairface_label_{split}.csv'), 'w', newline='') as f:
            wr = csv.DictWriter(f, fieldnames=['file', 'age', 'gender', 'race', 'service_test'])
            wr.writeheader()
            for k in order:
                wr.writerow(rows[k])
        by_file = {r['file']: r for r in rows}
        files = sorted(os.listdir(os.path.join(OUT, split)), key=natural_key)
        limit = LIMIT if split == 'train' else None
        out = []
        for name in files[:limit]:
            row = by_file[f'{split}/{name}']
            pixels = np.asarray(Image.open(os.path.join(OUT, split, name)).convert('RGB'))
            out.append({
                'file': f'{split}/{name}',
                'gender': int(row['gender'] == 'Male'),
                'age': AGES.index(row['age']),
                'race': RACES.index(row['race']),
                'caption': caption(row),
                'chroma': kinds[f'{split}/{name}'],
                'shape': list(pixels.shape),
                'pixels': pixels.ravel().tolist(),
            })
        expected[split] = {'limit': limit, 'samples': out}

    write_json(os.path.join(OUT, 'expected.json'),
               {**provenance(__file__, SEED, numpy=np, pillow=PIL), 'expected': expected})
    print('wrote', OUT)


if __name__ == '__main__':
    main()
