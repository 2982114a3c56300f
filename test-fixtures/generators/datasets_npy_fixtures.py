#!/usr/bin/env python3
"""Reference .npy / .npz files for @fairclip/datasets' readers, written by numpy itself.

Writes test-fixtures/data/datasets/npy/*.npy, npz/*.npz and bad/* (damaged files), and
test-fixtures/data/datasets/npy-fixtures.json with, for every file, the dtype, shape, fortran_order, format version and
the values (C order and file order) numpy reads back, or the error code a reader must raise.

Variants: every dtype (float16/32/64, (u)int8-64, bool) little- and big-endian, C and Fortran order, 0-d scalars,
empty arrays, header versions 1.0 / 2.0 / 3.0 (numpy.lib.format.write_array(version=...)), and .npz stored
(np.savez), deflated (np.savez_compressed) and with zip64 records (zipfile.ZIP64_LIMIT lowered while writing).

Run: /usr/bin/python3 test-fixtures/generators/datasets_npy_fixtures.py
"""
import io
import math
import os
import shutil
import zipfile

import numpy as np

from _fixture_io import provenance, write_json

SEED = 20240330
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data', 'datasets')
DTYPES = ['float16', 'float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64',
          'bool']


def jsonable(values, dtype):
    out = []
    for v in values:
        if dtype == 'bool':
            out.append(1 if v else 0)
        elif dtype in ('int64', 'uint64'):
            out.append(str(int(v)))
        elif dtype.startswith('float'):
            f = float(v)
            if math.isnan(f):
                out.append('nan')
            elif math.isinf(f):
                out.append('inf' if f > 0 else '-inf')
            elif f == 0 and math.copysign(1, f) < 0:
                out.append('-0')
            else:
                out.append(f)
        else:
            out.append(int(v))
    return out


def sample_values(dtype, n, rng):
    """n values of dtype including its edge values."""
    if dtype == 'bool':
        return rng.integers(0, 2, n).astype(bool)
    if dtype.startswith('float'):
        info = np.finfo(dtype)
        edges = [0.0, -0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, float(info.max), float(info.min),
                 float(info.tiny), float(info.tiny) / 4, 1.0 / 3.0]
        vals = np.concatenate([np.array(edges, dtype=np.float64), rng.standard_normal(max(0, n - len(edges))) * 100])
        return vals[:n].astype(dtype)
    info = np.iinfo(dtype)
    edges = [0, 1, int(info.max), int(info.min), int(info.max) - 1, int(info.min) + 1]
    if dtype in ('int64', 'uint64'):
        edges += [2 ** 53 + 1 if info.max > 2 ** 53 else 7]
    rand = rng.integers(int(info.min), int(info.max), n, dtype=dtype, endpoint=True)
    vals = np.array(edges[:n] + list(rand[len(edges):]), dtype=object)
    return np.array([int(v) for v in vals], dtype=dtype)


def save(path, arr, version=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        np.lib.format.write_array(f, arr, version=version, allow_pickle=False)


def describe(arr, version, file_bytes):
    dtype = arr.dtype.name
    fortran = bool(arr.flags.f_contiguous and not arr.flags.c_contiguous)
    return {
        'dtype': dtype,
        'shape': list(arr.shape),
        'fortran_order': fortran,
        'big_endian': arr.dtype.byteorder == '>',
        'version': list(version),
        'values_c': jsonable(arr.ravel(order='C').tolist(), dtype),
        'values_file': jsonable(arr.ravel(order='F' if fortran else 'C').tolist(), dtype),
        'bytes': file_bytes,
    }


def main():
    if os.path.isdir(ROOT):
        for sub in ('npy', 'npz', 'bad'):
            shutil.rmtree(os.path.join(ROOT, sub), ignore_errors=True)
    rng = np.random.default_rng(SEED)
    files = {}

    def add(name, arr, version=None):
        path = os.path.join(ROOT, 'npy', name)
        save(path, arr, version)
        back = np.load(path, allow_pickle=False)
        assert back.dtype == arr.dtype and back.shape == arr.shape
        assert np.array_equal(back, arr, equal_nan=arr.dtype.kind == 'f')
        with open(path, 'rb') as f:
            raw = f.read()
        files['npy/' + name] = describe(back, (raw[6], raw[7]), len(raw))

    for dt in DTYPES:
        base = sample_values(dt, 24, rng).reshape(2, 3, 4)
        add(f'{dt}-le-c.npy', base.astype(np.dtype(dt).newbyteorder('<')))
        add(f'{dt}-be-c.npy', base.astype(np.dtype(dt).newbyteorder('>')))
        add(f'{dt}-le-f.npy', np.asfortranarray(base.reshape(4, 6)))
        add(f'{dt}-be-f.npy', np.asfortranarray(base.reshape(3, 2, 4).astype(np.dtype(dt).newbyteorder('>'))))
        add(f'{dt}-scalar.npy', np.array(base.ravel()[2], dtype=dt))
        add(f'{dt}-empty.npy', np.zeros((0, 3), dtype=dt))
        add(f'{dt}-1d.npy', base.ravel()[:7].copy())
    add('float32-v2.npy', sample_values('float32', 12, rng).reshape(3, 4), version=(2, 0))
    add('int16-v3.npy', sample_values('int16', 10, rng).reshape(5, 2), version=(3, 0))
    add('float64-be-f-v3.npy', np.asfortranarray(sample_values('float64', 12, rng).reshape(2, 6).astype('>f8')),
        version=(3, 0))
    add('uint8-empty-3d.npy', np.zeros((2, 0, 5), dtype=np.uint8))
    add('float32-image.npy', (rng.random((64, 48)) * 255).astype(np.float32))

    # npz archives
    npz_arrays = {
        'slo_fundus': (rng.random((40, 32)) * 255).astype(np.float32),
        'md': np.array(-3.25, dtype=np.float64),
        'tds': rng.standard_normal(52).astype(np.float32),
        'age': np.array(61.5, dtype=np.float64),
        'gender': np.array(1, dtype=np.int64),
        'race': np.array(2, dtype=np.int64),
        'glaucoma': np.array(1, dtype=np.int64),
        'mask': rng.integers(0, 2, (3, 3)).astype(bool),
        'half': rng.standard_normal((2, 2)).astype(np.float16),
        'big': np.asfortranarray(rng.standard_normal((3, 2)).astype('>f8')),
        'empty': np.zeros((0,), dtype=np.int32),
    }
    os.makedirs(os.path.join(ROOT, 'npz'), exist_ok=True)

    def add_npz(name, writer):
        path = os.path.join(ROOT, 'npz', name)
        writer(path)
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: describe(z[k], (1, 0), 0) for k in z.files}
        with zipfile.ZipFile(path) as zf:
            methods = sorted({i.compress_type for i in zf.infolist()})
            names = [i.filename for i in zf.infolist()]
        with open(path, 'rb') as f:
            raw = f.read()
        for v in arrays.values():
            del v['bytes']
            del v['version']
        files['npz/' + name] = {'arrays': arrays, 'methods': methods, 'entries': names, 'bytes': len(raw)}

    add_npz('stored.npz', lambda p: np.savez(p, **npz_arrays))
    add_npz('deflated.npz', lambda p: np.savez_compressed(p, **npz_arrays))

    def zip64_writer(p):
        limit, count = zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT
        zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = 1000, 2
        try:
            np.savez_compressed(p, **npz_arrays)
        finally:
            zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = limit, count
        with open(p, 'rb') as f:
            raw = f.read()
        assert b'PK\x06\x06' in raw and b'PK\x06\x07' in raw, 'expected zip64 end records'

    add_npz('zip64.npz', zip64_writer)

    # Damaged and unsupported files, with the error code a reader must raise.
    bad = {}
    bad_dir = os.path.join(ROOT, 'bad')
    os.makedirs(bad_dir, exist_ok=True)

    def npy_bytes(arr, version=None, allow_pickle=False):
        buf = io.BytesIO()
        np.lib.format.write_array(buf, arr, version=version, allow_pickle=allow_pickle)
        return buf.getvalue()

    def put(name, raw, code, note):
        with open(os.path.join(bad_dir, name), 'wb') as f:
            f.write(raw)
        bad['bad/' + name] = {'code': code, 'note': note}

    good = npy_bytes(np.arange(100, dtype=np.float32))
    put('bad-magic.npy', b'\x93NUMPZ' + good[6:], 'NPY_BAD_MAGIC', 'magic string altered')
    put('not-npy.npy', b'hello, world\n', 'NPY_BAD_MAGIC', 'a text file')
    put('truncated-data.npy', good[:-40], 'NPY_TRUNCATED', 'header declares 100 float32, 90 present')
    put('truncated-header.npy', good[:40], 'NPY_TRUNCATED', 'file ends inside the header')
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (4000000000000000,), }"
    header = header + ' ' * (64 - (10 + len(header) + 1) % 64) + '\n'
    huge = b'\x93NUMPY\x01\x00' + len(header).to_bytes(2, 'little') + header.encode('latin1') + b'\x00' * 32
    put('huge-shape.npy', huge, 'NPY_TRUNCATED', 'header declares 3.2e16 bytes; 32 present (no allocation)')
    put('version-4.npy', good[:6] + b'\x04\x00' + good[8:], 'NPY_UNSUPPORTED_VERSION', 'format version 4.0')
    put('complex.npy', npy_bytes(np.arange(4, dtype=np.complex64)), 'NPY_UNSUPPORTED_DTYPE', 'complex64')
    put('object.npy', npy_bytes(np.array([1, 'a', None], dtype=object), allow_pickle=True), 'NPY_UNSUPPORTED_DTYPE',
        'object array (pickle)')
    put('unicode.npy', npy_bytes(np.array(['ab', 'cd'])), 'NPY_UNSUPPORTED_DTYPE', 'unicode strings')
    put('structured.npy', npy_bytes(np.zeros(3, dtype=[('a', '<i4'), ('b', '<f8')])), 'NPY_UNSUPPORTED_DTYPE',
        'structured dtype')
    put('datetime.npy', npy_bytes(np.array(['2024-01-01'], dtype='datetime64[D]')), 'NPY_UNSUPPORTED_DTYPE',
        'datetime64')
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'extra': 1, }"
    header = header + ' ' * (64 - (10 + len(header) + 1) % 64) + '\n'
    put('extra-key.npy', b'\x93NUMPY\x01\x00' + len(header).to_bytes(2, 'little') + header.encode() + b'\x00' * 12,
        'NPY_BAD_HEADER', 'header with an unexpected key')
    header = "[1, 2, 3]"
    header = header + ' ' * (64 - (10 + len(header) + 1) % 64) + '\n'
    put('not-dict.npy', b'\x93NUMPY\x01\x00' + len(header).to_bytes(2, 'little') + header.encode() + b'\x00' * 12,
        'NPY_BAD_HEADER', 'header is a list')
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }"
    header = header + ' ' * (64 - (10 + len(header) + 1) % 64) + '\n'
    put('negative-dim.npy', b'\x93NUMPY\x01\x00' + len(header).to_bytes(2, 'little') + header.encode(),
        'NPY_BAD_HEADER', 'negative dimension')

    with open(os.path.join(ROOT, 'npz', 'deflated.npz'), 'rb') as f:
        deflated = f.read()
    with open(os.path.join(ROOT, 'npz', 'stored.npz'), 'rb') as f:
        stored = f.read()
    put('truncated.npz', deflated[: len(deflated) // 2], 'ZIP_CORRUPT', 'second half cut off (no end record)')
    put('empty.npz', b'', 'ZIP_CORRUPT', 'zero bytes')
    put('not-zip.npz', b'this is not a zip archive' * 10, 'ZIP_CORRUPT', 'no end record')
    # Flip one byte inside the first stored entry's data (after the npy header): the CRC no longer matches.
    with zipfile.ZipFile(io.BytesIO(stored)) as zf:
        first = zf.infolist()[0]
    lh = first.header_offset
    name_len = int.from_bytes(stored[lh + 26: lh + 28], 'little')
    extra_len = int.from_bytes(stored[lh + 28: lh + 30], 'little')
    pos = lh + 30 + name_len + extra_len + 200
    flipped = bytearray(stored)
    flipped[pos] ^= 0xFF
    put('crc-mismatch.npz', bytes(flipped), 'ZIP_CORRUPT', f'stored entry {first.filename}: byte {pos} flipped')
    with zipfile.ZipFile(io.BytesIO(deflated)) as zf:
        first = zf.infolist()[0]
    lh = first.header_offset
    name_len = int.from_bytes(deflated[lh + 26: lh + 28], 'little')
    extra_len = int.from_bytes(deflated[lh + 28: lh + 30], 'little')
    start = lh + 30 + name_len + extra_len
    garbled = bytearray(deflated)
    for i in range(start + 5, start + 45):
        garbled[i] = (garbled[i] * 7 + 13) & 0xFF
    put('bad-deflate.npz', bytes(garbled), 'ZIP_CORRUPT', f'deflated entry {first.filename}: 40 bytes garbled')

    def zip_with(names):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, 'w') as zf:
            for n in names:
                zf.writestr(zipfile.ZipInfo(n), npy_bytes(np.arange(3, dtype=np.int32)))
        return buf.getvalue()

    put('dotdot.npz', zip_with(['ok.npy', '../../evil.npy']), 'ZIP_UNSAFE_PATH', "entry '../../evil.npy'")
    put('absolute.npz', zip_with(['/etc/evil.npy']), 'ZIP_UNSAFE_PATH', "entry '/etc/evil.npy'")
    put('inner-dotdot.npz', zip_with(['a/../../evil.npy']), 'ZIP_UNSAFE_PATH', "entry 'a/../../evil.npy'")
    put('missing-key.npz', zip_with(['only.npy']), 'NPZ_MISSING_KEY', "has 'only', lacks 'slo_fundus'")

    out = {
        **provenance(__file__, SEED, numpy=np),
        'files': files,
        'bad': bad,
    }
    write_json(os.path.join(ROOT, 'npy-fixtures.json'), out, indent=1, allow_nan=False)
    print(f'wrote {len(files)} good and {len(bad)} bad files under {ROOT}')


if __name__ == '__main__':
    main()
