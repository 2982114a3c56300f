#!/usr/bin/env python3
"""A corpus of mutated .npy files and what numpy.load makes of each: the reference for @fairclip/io's npy fuzz suite.

Writes test-fixtures/data/io/npy-mutations.json: for each case, the mutated file (base64), the mutation applied, and
numpy's verdict (numpy.load(allow_pickle=False)): either the array it reads (dtype, shape, fortran_order, values in
file order) or the exception it raises. The mutations are those of hostile or damaged files: truncation, bit flips in
the header and in the data, inflated shape fields (huge dimensions, products beyond 2^53 and 2^64, many dimensions),
inflated header lengths, changed versions, changed dtypes and byte orders.

Run: /usr/bin/python3 test-fixtures/generators/io_npy_mutations.py
"""
import base64
import io
import math
import os
import random
import re

import numpy as np

from _fixture_io import provenance, write_json

SEED = 20250514
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data', 'io', 'npy-mutations.json')


def base_arrays(rng):
    r = np.random.default_rng(SEED)
    return {
        'f4-2x3': r.standard_normal((2, 3)).astype('<f4'),
        'f8-be-fortran': np.asfortranarray(r.standard_normal((3, 2)).astype('>f8')),
        'i8-4': np.array([1, -2, 3, 2**62], dtype='<i8'),
        'u1-5': np.arange(5, dtype='u1'),
        'b1-3': np.array([True, False, True]),
        'f2-2x2': np.array([[0.5, -1.0], [65504.0, 0.0]], dtype='<f2'),
        'i2-scalar': np.array(7, dtype='<i2'),
        'u4-empty': np.zeros((0, 3), dtype='<u4'),
    }


def encode(a, version=None):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, version=version, allow_pickle=False)
    return buf.getvalue()


def header_bounds(b):
    major = b[6]
    start = 10 if major == 1 else 12
    hlen = int.from_bytes(b[8:start], 'little')
    return start, start + hlen


def replace_in_header(b, pattern, repl):
    """Replaces a regex match in the header text, keeping the header length (trailing spaces absorb the change)."""
    start, end = header_bounds(b)
    text = b[start:end].decode('latin1')
    new = re.sub(pattern, repl, text, count=1)
    body = new.rstrip('\n').rstrip(' ')
    pad = len(text) - 1 - len(body)
    if pad < 0:
        return None
    return b[:start] + (body + ' ' * pad + '\n').encode('latin1') + b[end:]


def jsonable(a):
    out = []
    flat = a.ravel(order='K' if False else ('F' if a.flags.f_contiguous and not a.flags.c_contiguous else 'C'))
    for v in flat.tolist():
        if isinstance(v, bool):
            out.append(1 if v else 0)
        elif isinstance(v, int):
            out.append(str(v) if a.dtype.itemsize == 8 else v)
        elif isinstance(v, float):
            if math.isnan(v):
                out.append('nan')
            elif math.isinf(v):
                out.append('inf' if v > 0 else '-inf')
            elif v == 0 and math.copysign(1, v) < 0:
                out.append('-0')
            else:
                out.append(v)
        else:
            out.append(repr(v))
    return out


def verdict(b):
    try:
        a = np.load(io.BytesIO(b), allow_pickle=False)
    except Exception as e:  # noqa: BLE001 -- any refusal is a verdict
        return {'ok': False, 'error': type(e).__name__}
    if not isinstance(a, np.ndarray):
        return {'ok': False, 'error': 'not an array'}
    fortran = bool(a.flags.f_contiguous and not a.flags.c_contiguous and a.ndim > 1)
    kind = a.dtype.kind
    supported = kind in 'fiub' and a.dtype.itemsize in (1, 2, 4, 8) and not (kind == 'f' and a.dtype.itemsize == 1)
    out = {'ok': True, 'dtype': a.dtype.str, 'shape': list(a.shape), 'fortran_order': fortran, 'supported': supported}
    if supported:
        out['values_file'] = jsonable(a)
    return out


def mutations(name, b, rng):
    start, end = header_bounds(b)
    cases = []
    # Truncations: inside the magic, the preamble, the header, the data.
    for cut in sorted({0, 3, 8, start, start + 5, end - 1, end, max(end, len(b) - 1)} | {rng.randrange(len(b)) for _ in range(2)}):
        if cut < len(b):
            cases.append((f'truncate at {cut}', b[:cut]))
    # Bit flips anywhere, in the header and in the data.
    for _ in range(4):
        i = rng.randrange(len(b))
        m = bytearray(b)
        m[i] ^= 1 << rng.randrange(8)
        cases.append((f'flip a bit of byte {i}', bytes(m)))
    # Inflated shape fields.
    for shape in ['(4503599627370496,)', '(9007199254740993,)', '(4294967296, 4294967296)', '(18446744073709551616,)',
                  '(3037000500, 3037000500, 0)', '(0, 9007199254740992)', '(-1,)', '(2, 3, ' + '1, ' * 70 + ')',
                  '(6,)', '(3, 2)', '()', '(1.5,)', '(True,)']:
        m = replace_in_header(b, r"\(\s*[0-9, ]*\)", shape.replace('\\', ''))
        if m is not None:
            cases.append((f'shape {shape[:40]}', m))
    # Inflated header lengths (the u16 / u32 field) and versions.
    for hl in [0xffff, end - start + 1, end - start - 1, 0]:
        m = bytearray(b)
        if b[6] == 1:
            m[8:10] = min(hl, 0xffff).to_bytes(2, 'little')
        else:
            m[8:12] = hl.to_bytes(4, 'little')
        cases.append((f'header length {hl}', bytes(m)))
    for v in [(0, 0), (2, 0), (3, 0), (4, 0), (1, 1)]:
        m = bytearray(b)
        m[6], m[7] = v
        cases.append((f'version {v}', bytes(m)))
    # Changed dtypes and byte orders (same header length).
    for descr in ["'<f8'", "'>i4'", "'|u1'", "'<c8'", "'|O'", "'<U1'", "'<f16'", "'|b1'", "'<i3'", "'<M8[s]'"]:
        m = replace_in_header(b, r"'[<>|=][a-zA-Z?][0-9]*'", descr)
        if m is not None:
            cases.append((f'descr {descr}', m))
    m = replace_in_header(b, 'False', 'True ') or replace_in_header(b, 'True', 'False')
    if m is not None:
        cases.append(('fortran_order toggled', m))
    return cases


def main():
    rng = random.Random(SEED)
    cases = []
    for name, a in base_arrays(rng).items():
        for version in (None, (2, 0)) if name in ('f4-2x3', 'u1-5') else (None,):
            b = encode(a, version)
            label = name + ('' if version is None else '-v2')
            for what, m in mutations(label, b, rng):
                cases.append({'base': label, 'mutation': what, 'bytes': base64.b64encode(m).decode('ascii'),
                              'numpy': verdict(m)})
    out = provenance(__file__, SEED, numpy=np)
    out['cases'] = cases
    write_json(OUT, out, indent=0)


if __name__ == '__main__':
    main()
