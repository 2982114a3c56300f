"""Mutated BPE vocabularies and how OpenAI's loader reads them: the reference of packages/clip/test/vocab-fuzz.test.ts.

A small valid vocabulary in OpenAI's layout (a header line, then one merge "a b" per line, byte-level symbols
including multi-byte UTF-8 characters and `</w>` endings), as gzip and as plain text, and seeded mutations of both:
truncation, bit flips, inserted/deleted/duplicated bytes and lines, an inflated gzip length field (ISIZE), header
flags, appended members and garbage, CRLF line ends, empty lines. For each input, what openai/CLIP's
`SimpleTokenizer.__init__` reads from it (clip/simple_tokenizer.py):

    merges = gzip.open(bpe_path).read().decode("utf-8").split('\\n')
    merges = merges[1:49152-256-2+1]
    merges = [tuple(merge.split()) for merge in merges]

(plain-text inputs are read as the gzip of their bytes, since OpenAI's loader only opens gzip), or the name of the
exception it raises. Output: test-fixtures/data/clip/tokenizer-fuzz/vocab_mutations.json.
Run: /usr/bin/python3 test-fixtures/generators/clip_tok_vocab_mutations.py
"""
import base64
import gzip
import io
import os
import random
import struct

from _fixture_io import provenance, write_json

SEED = 141414
OUT = os.path.join(os.path.dirname(__file__), '..', 'data', 'clip', 'tokenizer-fuzz', 'vocab_mutations.json')
NUM_MERGES = 48894  # 49152 - 256 - 2

# Byte-level symbols (GPT-2's bytes_to_unicode): ASCII letters, 'Ġ' (U+0120, the space byte), 'Ã' (U+00C3), '©'.
MERGES = [
    ('i', 'n'), ('t', 'h'), ('a', 'n'), ('e', 'r'), ('th', 'e</w>'), ('Ġ', 't'), ('in', 'g</w>'), ('Ã', '©'),
    ('o', 'n</w>'), ('an', 'd</w>'), ('Ġt', 'h'), ('r', 'e'), ('Ã©', 't'), ('e', 'd</w>'), ('c', 'at</w>'),
    ('h', 'ello</w>'),
]
HEADER = '#version: 0.2'


def reference_read(data, is_gzip):
    """What OpenAI's loader reads: a list of tuples, or raises."""
    raw = data if is_gzip else gzip.compress(data, mtime=0)
    text = gzip.GzipFile(fileobj=io.BytesIO(raw)).read().decode('utf-8')
    merges = text.split('\n')[1:NUM_MERGES + 1]
    return [list(m.split()) for m in merges]


def plain_text():
    return '\n'.join([HEADER] + [f'{a} {b}' for a, b in MERGES]).encode('utf-8')


def mutate(rng, data, is_gzip):
    """One seeded mutation: (description, bytes)."""
    b = bytearray(data)
    kind = rng.choice(['truncate', 'bitflip', 'bitflips', 'insert', 'delete', 'dup_chunk', 'overwrite'] +
                      (['isize', 'flags', 'crc', 'append_member', 'append_garbage', 'append_zeros'] if is_gzip else
                       ['dup_line', 'swap_lines', 'crlf', 'empty_line', 'trailing_newline', 'three_symbols', 'bom']))
    n = len(b)
    if kind == 'truncate':
        k = rng.randrange(0, n)
        return f'truncate to {k}', bytes(b[:k])
    if kind == 'bitflip':
        i = rng.randrange(n)
        bit = rng.randrange(8)
        b[i] ^= 1 << bit
        return f'flip bit {bit} of byte {i}', bytes(b)
    if kind == 'bitflips':
        spots = [(rng.randrange(n), rng.randrange(8)) for _ in range(rng.randint(2, 6))]
        for i, bit in spots:
            b[i] ^= 1 << bit
        return f'flip bits {spots}', bytes(b)
    if kind == 'insert':
        i = rng.randrange(n + 1)
        extra = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
        return f'insert {extra.hex()} at {i}', bytes(b[:i] + extra + b[i:])
    if kind == 'delete':
        i = rng.randrange(n)
        k = rng.randint(1, 4)
        return f'delete {k} bytes at {i}', bytes(b[:i] + b[i + k:])
    if kind == 'dup_chunk':
        i = rng.randrange(n)
        k = rng.randint(1, 16)
        return f'duplicate {k} bytes at {i}', bytes(b[:i + k] + b[i:i + k] + b[i + k:])
    if kind == 'overwrite':
        i = rng.randrange(n)
        v = rng.choice([0, 0xff, 0x0a, 0x20, 0x80, 0xc3])
        b[i] = v
        return f'byte {i} = {v:#x}', bytes(b)
    if kind == 'isize':
        v = rng.choice([0, 1, 0x7fffffff, 0xffffffff, n * 1000])
        b[-4:] = struct.pack('<I', v)
        return f'ISIZE = {v}', bytes(b)
    if kind == 'flags':
        bit = rng.randrange(8)
        b[3] ^= 1 << bit
        return f'flip FLG bit {bit}', bytes(b)
    if kind == 'crc':
        b[-8] ^= 0x01
        return 'corrupt CRC32', bytes(b)
    if kind == 'append_member':
        extra = gzip.compress(rng.choice([b'', b'\nx y', b'\nin g</w>', b'\n\n']), mtime=0)
        return f'append a member of {len(extra)} bytes', bytes(b) + extra
    if kind == 'append_garbage':
        extra = bytes(rng.randrange(256) for _ in range(rng.randint(1, 12)))
        return f'append {extra.hex()}', bytes(b) + extra
    if kind == 'append_zeros':
        return 'append 8 zero bytes', bytes(b) + bytes(8)
    lines = data.decode('utf-8').split('\n')
    if kind == 'dup_line':
        i = rng.randrange(1, len(lines))
        j = rng.randrange(1, len(lines) + 1)
        lines.insert(j, lines[i])
        return f'line {i + 1} repeated at {j + 1}', '\n'.join(lines).encode('utf-8')
    if kind == 'swap_lines':
        i, j = rng.randrange(1, len(lines)), rng.randrange(1, len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        return f'lines {i + 1} and {j + 1} swapped', '\n'.join(lines).encode('utf-8')
    if kind == 'crlf':
        return 'CRLF line ends', '\r\n'.join(lines).encode('utf-8')
    if kind == 'empty_line':
        i = rng.randrange(1, len(lines) + 1)
        lines.insert(i, rng.choice(['', ' ', '\t']))
        return f'blank line at {i + 1}', '\n'.join(lines).encode('utf-8')
    if kind == 'trailing_newline':
        return 'trailing newline', '\n'.join(lines).encode('utf-8') + b'\n'
    if kind == 'three_symbols':
        i = rng.randrange(1, len(lines))
        lines[i] += ' x'
        return f'line {i + 1} has three symbols', '\n'.join(lines).encode('utf-8')
    assert kind == 'bom'
    return 'UTF-8 byte-order mark', b'\xef\xbb\xbf' + '\n'.join(lines).encode('utf-8')


def main():
    rng = random.Random(SEED)
    plain = plain_text()
    gz = gzip.compress(plain, compresslevel=9, mtime=0)
    assert reference_read(gz, True) == [list(m) for m in MERGES]
    cases = [{'what': 'valid gzip', 'gzip': True, 'data': gz}, {'what': 'valid plain text', 'gzip': False, 'data': plain}]
    for _ in range(90):
        what, data = mutate(rng, gz, True)
        cases.append({'what': what, 'gzip': True, 'data': data})
    for _ in range(90):
        what, data = mutate(rng, plain, False)
        cases.append({'what': what, 'gzip': False, 'data': data})
    out = []
    for c in cases:
        # A mutated gzip whose magic bytes were hit is read as plain text by our loader (it sniffs the magic);
        # OpenAI's loader would fail on it: the reference reading is then that failure.
        try:
            merges = reference_read(c['data'], c['gzip'])
            result = {'ok': True, 'merges': [' '.join(m) for m in merges], 'lengths': [len(m) for m in merges]}
        except Exception as e:  # noqa: BLE001 - the exception's class is the recorded result
            result = {'ok': False, 'error': type(e).__name__}
        out.append({'what': c['what'], 'gzip': c['gzip'], 'base64': base64.b64encode(c['data']).decode('ascii'),
                    **result})
    doc = provenance(__file__, SEED)
    doc.update({'header': HEADER, 'merges': [' '.join(m) for m in MERGES], 'num_merges_read': NUM_MERGES,
                'cases': out})
    write_json(OUT, doc, indent=0)


if __name__ == '__main__':
    main()
