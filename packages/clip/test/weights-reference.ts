// The values torch.load reads from test-fixtures/data/clip/weights-hostile (clip_weights_hostile.py), and the check
// that a state dict holds exactly them: shared by the hostile-input and fuzz tests.
import { expect } from 'vitest';
import type { StateDict } from '../src/index.ts';
import { readFixtureBytes } from './model-helpers.ts';

export interface TensorExpect {
  shape: number[];
  dtype: string;
  stride: number[];
  storage_offset: number;
  values: (number | string)[];
}
export interface HostileExpected {
  tiny: Record<string, TensorExpect>;
  views: Record<string, TensorExpect>;
  deflated_torch_loads: boolean;
  nonfinite: Record<string, TensorExpect>;
}
export const HOSTILE = JSON.parse(
  new TextDecoder().decode(readFixtureBytes('clip/weights-hostile/expected.json')),
) as HostileExpected;
export const hostileFixture = (name: string) => readFixtureBytes(`clip/weights-hostile/${name}`);

const num = (v: number | string): number =>
  v === 'nan' ? Number.NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : (v as number);

/** torch.load's values, as this package holds them (floats as float32, integers and bools as int64). */
export function expectTorchValues(sd: StateDict, want: Record<string, TensorExpect>, label: string): void {
  expect([...sd.keys()].sort(), label).toEqual(Object.keys(want).sort());
  for (const [name, w] of Object.entries(want)) {
    const t = sd.get(name)!;
    expect(t.shape, `${label} ${name}`).toEqual(w.shape);
    if (w.dtype.startsWith('int') || w.dtype === 'bool') {
      expect([...(t.data as BigInt64Array)], `${label} ${name}`).toEqual(w.values.map((v) => BigInt(v)));
    } else {
      expect([...(t.data as Float32Array)], `${label} ${name}`).toEqual([...Float32Array.from(w.values.map(num))]);
    }
  }
}
