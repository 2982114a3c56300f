"""Streams of @fairclip/io's seeded generator, computed by an independent Python implementation with exact integer
arithmetic: splitmix32 seeding (over both 32-bit halves of the seed), xoshiro128** (Blackman & Vigna's reference
algorithm, https://prng.di.unimi.it/xoshiro128starstar.c), unbiased integers by rejection, 53-bit floats, mixSeed and
the Fisher-Yates permutation. Output: test-fixtures/data/io/rng-streams.json (read by packages/io/test/random.test.ts).

Run: /usr/bin/python3 test-fixtures/generators/io_rng_streams.py
"""
import os
import random

from _fixture_io import provenance, write_json

SEED = 13  # seeds the choice of the random seeds and bounds below
M = 0xFFFFFFFF
GOLDEN = 0x9E3779B9


def splitmix32(state):
    state = (state + GOLDEN) & M
    z = state
    z = ((z ^ (z >> 16)) * 0x85EBCA6B) & M
    z = ((z ^ (z >> 13)) * 0xC2B2AE35) & M
    return state, z ^ (z >> 16)


def rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M


class Xoshiro128ss:
    def __init__(self, seed):
        # Low 32 bits of the seed, xor the high part (floor(seed / 2^32)) times the golden ratio, mod 2^32.
        state = (seed & M) ^ (((seed // 2**32) * GOLDEN) & M)
        s = []
        for _ in range(4):
            state, v = splitmix32(state)
            s.append(v)
        if s == [0, 0, 0, 0]:
            s[0] = 1
        self.s = s

    def next_uint32(self):
        s = self.s
        result = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 9) & M
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 11)
        return result

    def next_int(self, n):
        limit = 2**32 - (2**32 % n)
        while True:
            x = self.next_uint32()
            if x < limit:
                return x % n

    def next_float(self):
        hi = self.next_uint32() >> 5
        lo = self.next_uint32() >> 6
        return (hi * 2**26 + lo) / 2**53


def mix_seed(*parts):
    state = 0x243F6A88
    h = 0
    for p in parts:
        state ^= (p & M) ^ ((p // 2**32) & M)
        state, v = splitmix32(state)
        h = v ^ ((h * 31) & M)
    return h


def permutation(n, seed):
    out = list(range(n))
    rng = Xoshiro128ss(seed)
    for i in range(n - 1, 0, -1):
        j = rng.next_int(i + 1)
        out[i], out[j] = out[j], out[i]
    return out


def main():
    r = random.Random(SEED)
    edge = [0, 1, 42, 99, 12345, 20240331, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**32 + 1, -1, -2, -(2**31),
            -(2**32), 2**53 - 1, -(2**53 - 1), 123 + 2**40]
    seeds = edge + [r.randrange(0, 2**32) for _ in range(6)] + [r.randrange(-(2**53 - 1), 2**53) for _ in range(6)]
    streams = []
    for seed in seeds:
        n = r.choice([1, 2, 3, 6, 7, 1000, 2**31 + 1, 2**32 - 1, 2**32])
        ints = Xoshiro128ss(seed)
        streams.append({
            'seed': seed,
            'uint32': iter_take(Xoshiro128ss(seed).next_uint32, 40),
            'int': {'n': n, 'values': iter_take(lambda: ints.next_int(n), 40)},
            'float53': iter_take(Xoshiro128ss(seed).next_float, 20),
        })
    mixes = [[0], [1], [1, 0], [1, 1], [7, 3, 2], [5, 1, 0x11E4], [-1], [2**32], [2**53 - 1, -(2**53 - 1)], []]
    mixes += [[r.randrange(-(2**53 - 1), 2**53) for _ in range(r.randrange(1, 5))] for _ in range(10)]
    perms = [(0, 1), (1, 5), (2, 0), (10, 3), (37, mix_seed(1, 0)), (100, 2**32 - 1), (64, -5), (250, 2**40 + 7)]
    out = provenance(__file__, SEED)
    out['streams'] = streams
    out['mix'] = [{'parts': p, 'seed': mix_seed(*p)} for p in mixes]
    out['permutations'] = [{'n': n, 'seed': s, 'order': permutation(n, s)} for n, s in perms]
    here = os.path.dirname(os.path.abspath(__file__))
    write_json(os.path.join(here, '..', 'data', 'io', 'rng-streams.json'), out)


def iter_take(fn, k):
    return [fn() for _ in range(k)]


if __name__ == '__main__':
    main()
