#!/usr/bin/env python3
"""A tiny Harvard-FairVLMed-format folder written with numpy and Python's csv module, and what the official
FairCLIP/src/modules.py::fair_vl_med_dataset logic makes of it (re-typed below: find_all_files, the unknown-attribute
filter of validation/test, the summaries dict from columns 0 and 2 with .strip(), truncate_note(note, 180)).

It exercises: savez and savez_compressed, slo_fundus as uint8 / float32 / float64 / Fortran-ordered, attributes as
0-d int64, shape-(1,) int8 and float64 values, unknown (-1) attributes in every split, the `Testing` folder spelling,
the `gpt4_summarized_notes.csv` spelling, CSV fields with commas, quotes, newlines, surrounding whitespace and non-ASCII
text, summaries longer than 180 characters (one without any space in its first 180 characters: the official code
then drops the last character), and a duplicated summary row (the later one wins).

Writes test-fixtures/data/datasets/fairvlmed-py/ and test-fixtures/data/datasets/fairvlmed-py.json.
Run: /usr/bin/python3 test-fixtures/generators/datasets_fairvlmed_fixture.py
"""
import csv
import os
import re
import shutil

import numpy as np

from _fixture_io import provenance, write_json

SEED = 7
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'data', 'datasets', 'fairvlmed-py')
FOLDERS = {'train': 'Training', 'val': 'Validation', 'test': 'Testing'}


def truncate_note(note, max_length=180):
    # FairCLIP/src/modules.py (official), verbatim logic
    if len(note) > max_length:
        note = note[:max_length]
        note = note[:note.rfind(' ')]
    return note


def natural_key(s):
    return [int(p) if i % 2 else p for i, p in enumerate(re.split(r'(\d+)', s))]


def main():
    rng = np.random.default_rng(SEED)
    shutil.rmtree(OUT, ignore_errors=True)
    for f in FOLDERS.values():
        os.makedirs(os.path.join(OUT, f))

    long_words = ('The 71 y/o female patient has severe primary open-angle glaucoma in both eyes, with advanced cupping, '
                  'inferior rim thinning, a dense superior arcuate scotoma and progression despite maximal medical therapy.')
    no_space = 'X' * 200
    # Code points, not UTF-16 units: the emoji is one character for Python; the space is the 180th character.
    unicode_note = '  \U0001F642' + '\u00e9' * 178 + ' glaucoom vastgesteld, controle "over" drie maanden.  '
    samples = [
        # split, id, glaucoma, race, gender, ethnicity, language, marital, summary, image dtype, writer
        ('train', 12, 1, 2, 0, 0, 0, 0, long_words, 'float32', 'compressed'),
        ('train', 3, 0, 1, 1, -1, 0, 1, ' Normal optic nerves, no glaucoma. ', 'uint8', 'stored'),
        ('train', 27, 1, 0, 0, 1, 1, -1, no_space, 'float64', 'compressed'),
        ('train', 100, 0, 2, 1, 0, -1, 2, 'Line one,\nline two with "quotes", no glaucoma.', 'float32-fortran', 'stored'),
        ('train', 45, 1, 1, 0, 0, 2, 3, unicode_note, 'float32', 'compressed'),
        ('train', 8, 0, 2, 0, 0, 0, 4, 'first version (replaced below)', 'uint8', 'compressed'),
        ('val', 200, 1, 2, 1, 0, 0, 0, 'Glaucoma suspect with elevated IOP.', 'float32', 'compressed'),
        ('val', 201, 0, 0, 0, -1, 0, 1, 'Unknown ethnicity: filtered out of validation.', 'float32', 'compressed'),
        ('val', 202, 1, 1, 1, 0, 1, 0, 'Spanish-speaking patient with glaucoma.', 'uint8', 'stored'),
        ('val', 203, 0, 2, 0, 0, -1, -1, 'Unknown language: filtered out.', 'float32', 'compressed'),
        ('test', 300, 0, 0, 1, 0, 0, 0, 'Healthy.', 'float64', 'compressed'),
        ('test', 31, 1, 2, 0, 1, 2, 2, 'Hispanic patient, glaucoma, other language.', 'float32', 'stored'),
        ('test', 302, 1, 1, 0, -1, -1, 0, 'Both unknown: filtered.', 'float32', 'compressed'),
        ('test', 4, 0, 2, 1, 0, 0, 3, 'Normal exam.', 'uint8', 'compressed'),
    ]
    summaries = []
    expected = {s: [] for s in FOLDERS}
    data_rows = []
    for k, (split, ident, glaucoma, race, gender, eth, lang, marital, summary, dtype, writer) in enumerate(samples):
        name = f'data_{ident:05d}.npz'
        h, w = 12 + k % 3, 9 + k % 2
        base = rng.integers(0, 256, (h, w))
        if dtype == 'uint8':
            img = base.astype(np.uint8)
        elif dtype == 'float64':
            img = base.astype(np.float64) + rng.random((h, w))
        elif dtype == 'float32-fortran':
            img = np.asfortranarray((base + rng.random((h, w))).astype(np.float32))
        else:
            img = (base + rng.random((h, w))).astype(np.float32)
        age = round(float(rng.uniform(20, 90)), 2)
        md = round(float(rng.normal(-3, 4)), 2)
        arrays = {
            'slo_fundus': img,
            'md': np.float64(md),
            'tds': rng.normal(md, 2, 52).astype(np.float32),
            'age': np.array(age),
            'gender': np.array(gender, dtype=np.int64),
            'race': np.array([race], dtype=np.int8) if k % 4 == 1 else np.array(race),
            'ethnicity': np.array(float(eth)) if k % 5 == 2 else np.array(eth),
            'language': np.array(lang, dtype=np.int16),
            'maritalstatus': np.array(marital),
            'glaucoma': np.array(glaucoma, dtype=np.uint8) if k % 3 == 0 else np.array(glaucoma),
        }
        path = os.path.join(OUT, FOLDERS[split], name)
        (np.savez_compressed if writer == 'compressed' else np.savez)(path, **arrays)
        summaries.append([name, f'original note {k}, with a comma', summary])
        data_rows.append([name, f'{age:.2f}', ['female', 'male'][gender], ['asian', 'black', 'white'][race],
                          {0: 'non-hispanic', 1: 'hispanic', -1: 'unknown'}[eth],
                          {0: 'english', 1: 'spanish', 2: 'other', -1: 'unknown'}[lang],
                          {0: 'married or partnered', 1: 'single', 2: 'divorced', 3: 'widowed', 4: 'legally separated',
                           -1: 'unknown'}[marital], f'original note {k}', summary, 'yes' if glaucoma else 'no',
                          {'train': 'training', 'val': 'validation', 'test': 'test'}[split]])
    # A later row for data_00008.npz replaces the first one (dict assignment in the official code).
    summaries.append(['  data_00008.npz ', 'second original', '   Replaced summary: no glaucoma.\t'])

    with open(os.path.join(OUT, 'gpt4_summarized_notes.csv'), 'w', newline='', encoding='utf-8') as f:
        wr = csv.writer(f)
        wr.writerow(['File Name', 'Original Note', 'Summarized Note'])
        wr.writerows(summaries)
    with open(os.path.join(OUT, 'data_summary.csv'), 'w', newline='', encoding='utf-8') as f:
        wr = csv.writer(f)
        wr.writerow(['filename', 'age', 'gender', 'race', 'ethnicity', 'language', 'maritalstatus', 'note',
                     'gpt4_summary', 'glaucoma', 'use'])
        wr.writerows(data_rows)

    # What the official logic yields, read back from the files just written.
    notes = {}
    with open(os.path.join(OUT, 'gpt4_summarized_notes.csv'), newline='', encoding='utf-8') as f:
        rows = list(csv.reader(f))
    for row in rows[1:]:
        notes[row[0].strip()] = row[2].strip()
    for split, folder in FOLDERS.items():
        d = os.path.join(OUT, folder)
        files = sorted([f for f in os.listdir(d) if f.endswith('npz')], key=natural_key)
        for file in files:
            data = np.load(os.path.join(d, file))
            attrs = {a: int(data[a].item()) for a in ('race', 'gender', 'ethnicity', 'language', 'maritalstatus')}
            kept = split == 'train' or all(attrs[a] != -1 for a in ('race', 'gender', 'ethnicity', 'language'))
            img = data['slo_fundus'].astype(np.float32)
            expected[split].append({
                'file': file,
                'kept': kept,
                'glaucoma': int(data['glaucoma'].item()),
                'attributes': attrs,
                'age': float(data['age'].item()),
                'md': float(data['md'].item()),
                'note': notes.get(file),
                'caption': truncate_note(notes[file].strip()) if file in notes else None,
                'image_shape': list(img.shape),
                'image_c_order': [float(v) for v in np.ascontiguousarray(img).ravel()],
            })

    out = {
        **provenance(__file__, SEED, numpy=np),
        'folders': FOLDERS,
        'summary_file': 'gpt4_summarized_notes.csv',
        'expected': expected,
    }
    write_json(os.path.join(OUT, '..', 'fairvlmed-py.json'), out, indent=1, ensure_ascii=False)
    print('wrote', OUT)


if __name__ == '__main__':
    main()
