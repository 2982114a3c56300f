/**
 * Typed access to test-fixtures/data/ot/emd-degenerate.json (test-fixtures/generators/ot_emd_degenerate.py): exact OT
 * problems with near-degenerate and tied costs, POT 0.8.2's `ot.emd` cost and, for uniform square ones, the exact
 * brute-force optimum over permutations.
 */
import { readFixtureJson } from '@fairclip/test-fixtures';

export interface EmdDegenerateCase {
  name: string;
  note: string;
  n: number;
  m: number;
  a: number[];
  b: number[];
  M: number[][];
  /** POT's Σ G_ij M_ij (its plan may be suboptimal: POT's pricing tolerance is relative to the potentials). */
  pot_cost: number;
  /** 1 = POT reports optimal. */
  pot_result_code: number;
  /** min over permutations of (1/n) Σ M[i, p(i)], exact then rounded (uniform n = m <= 7 only). */
  brute_force?: number;
}

export function emdDegenerateCases(): EmdDegenerateCase[] {
  return readFixtureJson<{ cases: EmdDegenerateCase[] }>('ot/emd-degenerate.json').cases;
}
