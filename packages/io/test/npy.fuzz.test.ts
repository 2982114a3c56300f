// Fuzzing the .npy reader. (1) A committed corpus of mutated files (truncations, bit flips, inflated shape and
// header-length fields, other versions and dtypes) with numpy.load's verdict on each
// (test-fixtures/generators/io_npy_mutations.py): where numpy reads an array we support, we read the same array;
// everywhere else we throw a typed IoError. (2) Random mutations of numpy-written fixtures (fast-check): a typed
// error, or, for a flipped data byte, numpy's values with only the element holding that byte changed.
import { readFixtureJson } from '@fairclip/test-fixtures';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { IoError, parseNpy, parseNpyHeader } from '../src/index.ts';
import { expectValues, fixtureBytes, type NpyFixture, npyFixtures } from './helpers.ts';

interface Case {
  base: string;
  mutation: string;
  bytes: string;
  numpy:
    | { ok: false; error: string }
    | {
        ok: true;
        dtype: string;
        shape: number[];
        fortran_order: boolean;
        supported: boolean;
        values_file?: (number | string)[];
      };
}

const corpus = readFixtureJson<{ generator: string; cases: Case[] }>('io/npy-mutations.json');

/** numpy's dtype string ('<f4', '|b1', '>i8') as our dtype name. */
function dtypeName(str: string): string {
  const kind = str[1]!;
  const size = Number(str.slice(2));
  if (kind === 'b') return 'bool';
  return `${{ f: 'float', i: 'int', u: 'uint' }[kind as 'f']}${size * 8}`;
}

function typed(fn: () => unknown): IoError | undefined {
  try {
    fn();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(IoError);
    expect((e as Error).message).not.toMatch(/\n/);
    expect((e as Error).message.length).toBeLessThan(600);
    return e as IoError;
  }
  return undefined;
}

describe('npy mutation corpus (numpy.load decides)', () => {
  test('the corpus has both verdicts and the hostile cases', () => {
    expect(corpus.generator).toBe('test-fixtures/generators/io_npy_mutations.py');
    expect(corpus.cases.filter((c) => c.numpy.ok).length).toBeGreaterThan(50);
    expect(corpus.cases.filter((c) => !c.numpy.ok).length).toBeGreaterThan(200);
    expect(corpus.cases.some((c) => c.mutation.startsWith('shape (4294967296, 4294967296)'))).toBe(true);
  });

  test.each(corpus.cases.map((c, i) => [i, c.base, c.mutation, c] as const))(
    'case %i: %s, %s',
    (_i, base, mutation, c) => {
      const bytes = new Uint8Array(Buffer.from(c.bytes, 'base64'));
      const source = `${base}:${mutation}`;
      let result: ReturnType<typeof parseNpy> | undefined;
      const error = typed(() => {
        result = parseNpy(bytes, source);
      });
      if (!c.numpy.ok) {
        // numpy refuses it (ValueError, MemoryError for an inflated shape, OverflowError, ...): so do we, typed.
        expect(error, `numpy: ${c.numpy.error}; we read ${JSON.stringify(result?.shape)}`).toBeDefined();
        return;
      }
      if (!c.numpy.supported) {
        expect(error?.code).toBe('NPY_UNSUPPORTED_DTYPE');
        return;
      }
      if (c.numpy.shape.some((d) => !Number.isSafeInteger(d))) {
        // An (empty) array with a dimension beyond 2^53 - 1: numpy reads it, a JavaScript number cannot hold it.
        expect(error?.message).toMatch(/NPY_BAD_HEADER: .*integer too large/);
        return;
      }
      expect(error, `numpy reads it; we threw ${error?.message}`).toBeUndefined();
      expect(result!.dtype).toBe(dtypeName(c.numpy.dtype));
      expect(result!.shape).toEqual(c.numpy.shape);
      // numpy calls an array Fortran-ordered only where the two layouts differ (two dimensions above 1, none 0).
      const distinct = result!.shape.filter((d) => d > 1).length >= 2 && !result!.shape.includes(0);
      expect(result!.fortranOrder && distinct).toBe(c.numpy.fortran_order);
      expectValues(result!.data, c.numpy.values_file!, source);
    },
  );
});

describe('random mutations of numpy-written .npy files', () => {
  const fx = npyFixtures();
  const files = Object.entries(fx.files).filter(
    ([k, f]) => k.startsWith('npy/') && (f as NpyFixture).values_file.length > 0,
  ) as [string, NpyFixture][];
  const loaded = files.map(([k, f]) => ({ name: k, f, bytes: fixtureBytes(`datasets/${k}`) }));

  test('a flipped byte is a typed error, or numpy values with at most the element holding that byte changed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: loaded.length - 1 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (which, at, xor) => {
          const { name, f, bytes } = loaded[which]!;
          const pos = at % bytes.length;
          const damaged = bytes.slice();
          damaged[pos]! ^= xor;
          let result: ReturnType<typeof parseNpy> | undefined;
          const error = typed(() => {
            result = parseNpy(damaged, name);
          });
          const h = parseNpyHeader(bytes, name);
          if (pos < h.dataOffset) {
            // A header byte: refused, or a self-consistent array (a digit of the shape, a padding space).
            if (error === undefined) {
              const n = result!.shape.reduce((a, b) => a * b, 1);
              expect(result!.data.length).toBe(n);
            }
            return;
          }
          expect(error, 'a data byte never makes the file unreadable').toBeUndefined();
          expect(result!.shape).toEqual(f.shape);
          const changed = Math.floor((pos - h.dataOffset) / h.itemSize);
          const expected = f.values_file.slice();
          const back = result!.data;
          // Every other element is numpy's value; the changed one is whatever the new bits say.
          expected[changed] = typeof back[changed] === 'bigint' ? String(back[changed]) : (back[changed] as number);
          if (typeof expected[changed] === 'number' && Number.isNaN(expected[changed])) expected[changed] = 'nan';
          if (Object.is(expected[changed], -0)) expected[changed] = '-0';
          if (expected[changed] === Number.POSITIVE_INFINITY) expected[changed] = 'inf';
          if (expected[changed] === Number.NEGATIVE_INFINITY) expected[changed] = '-inf';
          expectValues(back, expected, name);
        },
      ),
      { numRuns: 400 },
    );
  });

  test('every truncation is a typed error naming the truncated or malformed part', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: loaded.length - 1 }), fc.nat(), (which, at) => {
        const { name, bytes } = loaded[which]!;
        const cut = at % bytes.length;
        let result: ReturnType<typeof parseNpy> | undefined;
        const error = typed(() => {
          result = parseNpy(bytes.subarray(0, cut), name);
        });
        expect(error?.code ?? 'read', `cut at ${cut} of ${bytes.length}`).toMatch(
          /^(NPY_TRUNCATED|NPY_BAD_MAGIC|NPY_BAD_HEADER)$/,
        );
        expect(result).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });
});
