/** Typed access to test-fixtures/data/ot/kernels.json (test-fixtures/generators/ot_kernels.py). */
import { readFixtureJson } from '@fairclip/test-fixtures';

export interface KernelCase {
  name: string;
  loss: 'energy' | 'gaussian' | 'laplacian';
  n: number;
  m: number;
  d: number;
  blur: number;
  weighted: boolean;
  x: number[];
  y: number[];
  a: number[];
  b: number[];
  value: number;
  grad_x: number[];
  grad_y: number[];
  grad_a: number[];
  grad_b: number[];
}

export function kernelCases(): KernelCase[] {
  return readFixtureJson<{ cases: KernelCase[] }>('ot/kernels.json').cases;
}
