/** Typed access to the golden reference file test-fixtures/data/golden/ot/sinkhorn.json (geomloss 0.2.6 + POT 0.8.2). */
import { readFixtureJson } from '@fairclip/test-fixtures';

export interface GeomlossCase {
  name: string;
  dim: number;
  n: number;
  m: number;
  p: number;
  blur: number;
  scaling: number;
  diameter: number | null;
  debias: boolean;
  reach: number | null;
  weighted: boolean;
  x: number[][];
  y: number[][];
  a: number[] | null;
  b: number[] | null;
  loss: number;
  grad_x: number[][];
  grad_y: number[][];
  grad_a?: number[];
  grad_b?: number[];
  potential_f: number[];
  potential_g: number[];
  diameter_used: number;
  eps_list: number[];
  n_eps: number;
  loss_float32: number | null;
  exact_ot_emd2?: number;
  exact_ot_1d_quantile?: number;
  exact_ot_1d_sorted?: number;
}

export interface PotMethodBlock {
  plan: number[][];
  sinkhorn2: number;
  niter: number;
  err: number[];
  warnings: string[];
  u?: number[];
  v?: number[];
  log_u?: number[];
  log_v?: number[];
  marginal_err_rows: number;
  marginal_err_cols: number;
}

export interface PotCase {
  name: string;
  n: number;
  m: number;
  cost_kind: string;
  a: number[];
  b: number[];
  M: number[][];
  reg: number;
  numItermax: number;
  stopThr: number;
  sinkhorn: PotMethodBlock;
  sinkhorn_log: PotMethodBlock;
  emd2: number;
  emd_plan: number[][];
}

interface GoldenFile {
  geomloss: { cases: GeomlossCase[] };
  pot: { cases: PotCase[] };
}

let cached: GoldenFile | undefined;
function load(): GoldenFile {
  cached ??= readFixtureJson<GoldenFile>('golden/ot/sinkhorn.json');
  return cached;
}

export function geomlossCases(): GeomlossCase[] {
  return load().geomloss.cases;
}

export function potCases(): PotCase[] {
  return load().pot.cases;
}
