#!/usr/bin/env python3
"""A corpus of mutated CSV files and what Python's csv module (strict=True) makes of each: the reference for
@fairclip/io's CSV fuzz suite.

Writes test-fixtures/data/io/csv-mutations.json: for each case, the mutated text, the mutation, and Python's verdict:
the records it reads (blank lines left out, as pandas.read_csv and our reader skip them) and whether any record has a
number of fields other than the header's, or the error it raises. Bases: RFC 4180 files with quoted fields, doubled
quotes, separators and line ends inside quotes, CRLF line ends, a UTF-8 BOM. Mutations: a character deleted,
inserted or replaced (from the characters that matter: quote, comma, CR, LF, space, a letter), a line duplicated,
the text truncated.

Run: /usr/bin/python3 test-fixtures/generators/io_csv_mutations.py
"""
import csv
import io
import os
import random

from _fixture_io import provenance, write_json

SEED = 20250515
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data', 'io', 'csv-mutations.json')

BASES = {
    'scores': 'score,label,race,gender,ethnicity,language\n0.91,1,0,1,0,0\n0.12,0,2,0,1,2\n-0.5e-3,1,1,1,0,1\n',
    'quoted': 'file,"note, with comma",summary\r\ndata_1.npz,"said ""hi""","line one\nline two"\r\n'
              'data_2.npz,,"x"\r\n',
    'bom': '\ufeffa,b\n"1",2\n\n3,"4\r\n5"\n',
}
CHARS = ['"', ',', '\r', '\n', ' ', 'x']


def verdict(text):
    if text.startswith('\ufeff'):
        text = text[1:]
    try:
        rows = list(csv.reader(io.StringIO(text, newline=''), strict=True))
    except csv.Error as e:
        return {'ok': False, 'error': str(e)}
    rows = [r for r in rows if r not in ([], [''])]
    if not rows:
        return {'ok': True, 'rows': [], 'ragged': False}
    ragged = any(len(r) != len(rows[0]) for r in rows[1:])
    return {'ok': True, 'rows': rows, 'ragged': ragged}


def main():
    rng = random.Random(SEED)
    cases = []
    for name, text in BASES.items():
        cases.append({'base': name, 'mutation': 'none', 'text': text, 'python': verdict(text)})
        for _ in range(70):
            kind = rng.choice(['delete', 'insert', 'replace', 'duplicate line', 'truncate'])
            i = rng.randrange(len(text))
            if kind == 'delete':
                m = text[:i] + text[i + 1:]
            elif kind == 'insert':
                m = text[:i] + rng.choice(CHARS) + text[i:]
            elif kind == 'replace':
                m = text[:i] + rng.choice(CHARS) + text[i + 1:]
            elif kind == 'duplicate line':
                lines = text.split('\n')
                k = rng.randrange(len(lines))
                m = '\n'.join(lines[:k + 1] + lines[k:])
            else:
                m = text[:i]
            cases.append({'base': name, 'mutation': f'{kind} at {i}', 'text': m, 'python': verdict(m)})
    out = provenance(__file__, SEED)
    out['cases'] = cases
    write_json(OUT, out, indent=0, ensure_ascii=False)


if __name__ == '__main__':
    main()
