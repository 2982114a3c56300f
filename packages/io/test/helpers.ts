// Shared test helpers: committed fixture files and comparison of decoded arrays with the values numpy recorded.
import { readFileSync } from 'node:fs';
import { fixturePath, readFixtureJson } from '@fairclip/test-fixtures';
import { expect } from 'vitest';
import type { NpyData } from '../src/index.ts';

export interface NpyFixture {
  dtype: string;
  shape: number[];
  fortran_order: boolean;
  big_endian: boolean;
  version: [number, number];
  values_c: (number | string)[];
  values_file: (number | string)[];
  bytes: number;
}

export interface NpyFixtures {
  generator: string;
  versions: Record<string, string>;
  seed: number;
  files: Record<string, NpyFixture | NpzFixture>;
  bad: Record<string, { code: string; note: string }>;
}

export interface NpzFixture {
  arrays: Record<string, Omit<NpyFixture, 'version' | 'bytes'>>;
  methods: number[];
  entries: string[];
  bytes: number;
}

export const npyFixtures = (): NpyFixtures => readFixtureJson<NpyFixtures>('datasets/npy-fixtures.json');

export function fixtureBytes(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath(rel)));
}

/** Compares decoded data with numpy's recorded values exactly (NaN, ±inf, -0 and 64-bit integers included). */
export function expectValues(data: NpyData, expected: readonly (number | string)[], what: string): void {
  expect(data.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = data[i]!;
    if (typeof a === 'bigint') {
      expect(a.toString(), `${what}[${i}]`).toBe(String(e));
    } else if (e === 'nan') {
      expect(Number.isNaN(a), `${what}[${i}] is NaN`).toBe(true);
    } else if (e === 'inf' || e === '-inf') {
      expect(a, `${what}[${i}]`).toBe(e === 'inf' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY);
    } else if (e === '-0') {
      expect(Object.is(a, -0), `${what}[${i}] is -0`).toBe(true);
    } else {
      expect(Object.is(a, e) || (a === 0 && e === 0), `${what}[${i}]: ${a} vs ${e}`).toBe(true);
    }
  }
}
