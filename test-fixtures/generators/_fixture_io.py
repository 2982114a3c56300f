"""Save and provenance helpers shared by the fixture generators in this folder.

Every generated output records where it came from (checked by test-fixtures/test/provenance.test.ts): the
generator's path in the repository, the versions of Python and the libraries that computed it, and the seed.
`provenance(__file__, SEED, numpy=np, torch=torch)` builds those three fields (versions in the order given, Python
first); the writers below keep the outputs byte-identical to what the generators wrote before they shared them.

A generator imports this module by name (`from _fixture_io import ...`): Python puts a script's own folder first on
sys.path, so `/usr/bin/python3 test-fixtures/generators/<name>.py` works from any working directory.
"""
import json
import os
import platform
import struct

import numpy as np


def generator_path(script):
    """The path that outputs record as their generator, e.g. 'test-fixtures/generators/ot_kernels.py'."""
    return 'test-fixtures/generators/' + os.path.basename(script)


def versions(python=True, **libraries):
    """{'python': '3.11.2', <key>: module.__version__, ...} in the order the keywords are given."""
    out = {'python': platform.python_version()} if python else {}
    out.update((key, module.__version__) for key, module in libraries.items())
    return out


def provenance(script, seed, python=True, **libraries):
    """The 'generator', 'versions' and 'seed' fields that open every generated JSON output."""
    return {'generator': generator_path(script), 'versions': versions(python, **libraries), 'seed': seed}


def write_json(path, obj, newline=True, **dump_options):
    """json.dump(obj, **dump_options) into `path` (UTF-8, its folder made if missing), followed by a newline unless
    newline=False."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(obj, f, **dump_options)
        if newline:
            f.write('\n')


def save_npy_set(folder, prefix, arrays):
    """Saves each array as <folder>/<prefix>_<key>.npy; returns {key: file name} in the order of `arrays`."""
    files = {}
    for key, array in arrays.items():
        files[key] = f'{prefix}_{key}.npy'
        np.save(os.path.join(folder, files[key]), array)
    return files


_SAFETENSORS_DTYPES = {np.dtype(np.int64): ('I64', '<i8'), np.dtype(np.float16): ('F16', '<f2')}


def write_safetensors(path, arrays, metadata=None):
    """Writes numpy arrays as a safetensors file, tensors sorted by name; int64 -> I64, float16 -> F16, any other
    dtype -> F32. `metadata` (str -> str) goes under '__metadata__'; the header is space-padded to 8 bytes."""
    header = {} if metadata is None else {'__metadata__': metadata}
    blobs, offset = [], 0
    for name in sorted(arrays):
        a = arrays[name]
        dtype, layout = _SAFETENSORS_DTYPES.get(a.dtype, ('F32', '<f4'))
        raw = a.astype(layout).tobytes()
        header[name] = {'dtype': dtype, 'shape': list(a.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
