/**
 * Unregularised (exact) optimal transport, for checking the entropic solvers and as FairCLIP's fast path:
 *
 *  - `exact1d`: 1-D OT for any weights by sorting and merging the quantile functions (O((n+m) log(n+m))):
 *    W = ∫₀¹ C(F⁻¹(t), G⁻¹(t)) dt with C(x, y) = |x − y|^p / p (geomloss's cost; p >= 1 makes C convex in x − y,
 *    so the monotone plan is optimal). Returns the plan, dual potentials and the gradient w.r.t. the points.
 *  - `emd`: exact discrete OT on a cost matrix by the transportation (network) simplex, for small problems.
 */
import { checkCostExponent, costFromR2, costGradFactor } from './cost.ts';
import { OtInputError } from './errors.ts';
import {
  checkEqualMass,
  checkInteger,
  type MatrixInput,
  type PointsInput,
  sum,
  toCloud,
  toMatrix,
  toWeights,
} from './inputs.ts';

export interface PlanEntry {
  readonly i: number;
  readonly j: number;
  readonly mass: number;
}

export interface Exact1dResult {
  /** W = Σ_(i,j) P_ij · C(x_i, y_j), C = |x − y|^p / p. */
  value: number;
  /** The monotone (north-west corner on sorted supports) plan as sparse entries, original indices. */
  plan: PlanEntry[];
  /** ∂W/∂x_i = Σ_j P_ij ∇ₓC(x_i, y_j) (exact where the optimal plan is unique, i.e. no ties). */
  gradX: Float64Array;
  /** ∂W/∂y_j. */
  gradY: Float64Array;
  /**
   * Dual potentials (f, g): f_i + g_j <= C(x_i, y_j) with equality on the plan's support, gauge ⟨a,f⟩ = ⟨b,g⟩ = W/2.
   * They are the gradients of W w.r.t. the weights up to an additive constant (meaningful for zero-sum changes).
   */
  f: Float64Array;
  g: Float64Array;
}

export interface Exact1dOptions {
  /** Cost exponent, C = |x − y|^p / p (default 2: ½|x − y|²). */
  p?: number;
  /** Relative tolerance on |Σa − Σb| (default 1e-9). b is rescaled to the mass of a. */
  massTolerance?: number;
}

function sortedOrder(v: Float64Array): Int32Array {
  const idx = new Int32Array(v.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  idx.sort((s, t) => v[s]! - v[t]! || s - t);
  return idx;
}

/**
 * Exact 1-D OT between Σ a_i δ_{x_i} and Σ b_j δ_{y_j} (x, y: 1-D points, any weights of equal total mass).
 * Same quantity as POT `wasserstein_1d(x, y, a, b, p)` / p.
 */
export function exact1d(
  x: PointsInput,
  y: PointsInput,
  a?: ArrayLike<number>,
  b?: ArrayLike<number>,
  options: Exact1dOptions = {},
): Exact1dResult {
  const p = options.p ?? 2;
  checkCostExponent(p);
  const cx = toCloud('x', x);
  const cy = toCloud('y', y);
  if (cx.d !== 1 || cy.d !== 1) {
    throw new OtInputError('SHAPE_MISMATCH', `exact1d needs 1-D points, got dimensions ${cx.d} and ${cy.d}`);
  }
  const wa = toWeights('a', a, cx.n);
  const wb = toWeights('b', b, cy.n);
  checkEqualMass(wa, wb, options.massTolerance ?? 1e-9);
  return exact1dCore(cx.data, wa, cy.data, wb, p);
}

/** exact1d on validated float64 arrays (no checks). */
export function exact1dCore(
  x: Float64Array,
  a: Float64Array,
  y: Float64Array,
  b: Float64Array,
  p: number,
): Exact1dResult {
  const n = x.length;
  const m = y.length;
  const ma = sum(a);
  const scaleB = ma / sum(b);
  const ox = sortedOrder(x);
  const oy = sortedOrder(y);
  const plan: PlanEntry[] = [];
  const gradX = new Float64Array(n);
  const gradY = new Float64Array(m);
  // Potentials along the staircase: f_i + g_j = C_ij on every visited cell (a spanning tree of the bipartite graph).
  const f = new Float64Array(n);
  const g = new Float64Array(m);
  let value = 0;
  let ii = 0;
  let jj = 0;
  let remA = a[ox[0]!]!;
  let remB = b[oy[0]!]! * scaleB;
  let i = ox[0]!;
  let j = oy[0]!;
  const cost = (s: number, t: number) => {
    const dlt = x[s]! - y[t]!;
    return costFromR2(dlt * dlt, p);
  };
  f[i] = 0;
  g[j] = cost(i, j);
  for (;;) {
    const q = ii === n - 1 && jj === m - 1 ? Math.max(remA, remB) : Math.min(remA, remB);
    if (q > 0) {
      plan.push({ i, j, mass: q });
      const dlt = x[i]! - y[j]!;
      const r2 = dlt * dlt;
      value += q * costFromR2(r2, p);
      const gf = q * costGradFactor(r2, p) * dlt;
      gradX[i] = gradX[i]! + gf;
      gradY[j] = gradY[j]! - gf;
    }
    if (ii === n - 1 && jj === m - 1) break;
    // Advance exactly one index per step (north-west corner rule), so visited cells form a spanning tree.
    const moveI = jj === m - 1 || (ii < n - 1 && remA - q <= remB - q);
    if (moveI) {
      remB -= q;
      ii++;
      i = ox[ii]!;
      remA = a[i]!;
      f[i] = cost(i, j) - g[j]!;
    } else {
      remA -= q;
      jj++;
      j = oy[jj]!;
      remB = b[j]! * scaleB;
      g[j] = cost(i, j) - f[i]!;
    }
  }
  // Gauge: ⟨a, f⟩ = ⟨b, g⟩.
  let af = 0;
  let bg = 0;
  for (let s = 0; s < n; s++) af += a[s]! * f[s]!;
  for (let t = 0; t < m; t++) bg += b[t]! * scaleB * g[t]!;
  const shift = (bg - af) / (2 * ma);
  for (let s = 0; s < n; s++) f[s] = f[s]! + shift;
  for (let t = 0; t < m; t++) g[t] = g[t]! - shift;
  return { value, plan, gradX, gradY, f, g };
}

export interface EmdResult {
  /** Σ P_ij C_ij at the optimum. */
  value: number;
  /** Optimal plan, row-major rows × cols. */
  plan: Float64Array;
  rows: number;
  cols: number;
  /**
   * Dual potentials: u_i + v_j <= C_ij (to float64 rounding of the potentials), equality on the basis; u = 0 on the
   * first row of positive weight. Zero-weight rows and columns get the largest feasible potential.
   */
  u: Float64Array;
  v: Float64Array;
  /** Simplex pivots performed. */
  pivots: number;
  /** false when the pivot budget ran out before optimality (the plan is then feasible but maybe not optimal). */
  converged: boolean;
}

export interface EmdOptions {
  /** Pivot budget (default 100 000, as POT's numItermax). */
  maxPivots?: number;
  /**
   * Relative tolerance on |Σa − Σb| (default 1e-9). Within it the plan moves the smaller mass exactly
   * (P·1 <= a, Pᵀ·1 <= b, ΣP = min(Σa, Σb)); POT rescales b instead, which agrees to O(|Σa − Σb|·max C).
   */
  massTolerance?: number;
}

/**
 * Exact OT on a cost matrix by the transportation (network) simplex: north-west corner start, Dantzig pricing,
 * tree pivots with the strongly-feasible leaving rule (Cunningham), so degenerate pivots cannot cycle.
 *
 * Optimality is decided exactly for the given float64 costs: a reduced cost c_ij − u_i − v_j is trusted in float64
 * only where it is farther from 0 than a bound on its rounding error (which follows the costs along the tree paths of
 * i and j, not a global cost scale); closer to 0, its sign is taken from the potentials recomputed exactly (sums of
 * doubles as integers). So costs that differ by 1e-12, or 1e-300 next to 1e300, are never mistaken for ties.
 * Zero-weight rows and columns carry no mass and are left out of the simplex, as in POT's `EMD_wrap`.
 * O(rows·cols) per pivot: meant for small problems (checks, tests), like POT's `emd` on a few hundred points.
 */
export function emd(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  cost: MatrixInput,
  options: EmdOptions = {},
): EmdResult {
  const C = toMatrix('cost', cost);
  const n = C.rows;
  const m = C.cols;
  const wa = toWeights('a', a, n);
  const wb = toWeights('b', b, m);
  checkEqualMass(wa, wb, options.massTolerance ?? 1e-9);
  const maxPivots = options.maxPivots ?? 100_000;
  checkInteger('maxPivots', maxPivots, 0);
  const c = C.data;
  // Zero-weight rows and columns carry no mass: they stay out of the simplex (as in POT's EMD_wrap).
  const rowIdx: number[] = [];
  const colIdx: number[] = [];
  for (let i = 0; i < n; i++) if (wa[i]! > 0) rowIdx.push(i);
  for (let j = 0; j < m; j++) if (wb[j]! > 0) colIdx.push(j);
  const supply = rowIdx.map((i) => exactUnits(wa[i]!));
  const demand = colIdx.map((j) => exactUnits(wb[j]!));
  // Σa and Σb agree to massTolerance but rarely to the last bit. The plan moves the smaller mass, exactly: a dummy
  // column (or row) of zero cost takes the excess, so P·1 <= a, Pᵀ·1 <= b, ΣP = min(Σa, Σb). This is symmetric in
  // (a, C) ↔ (b, Cᵀ), unlike rescaling b, whose rounding could force mass through any cell (at 1e300 a cost).
  let gap = 0n;
  for (const s of supply) gap += s;
  for (const d of demand) gap -= d;
  const nk = rowIdx.length;
  const mk = colIdx.length;
  const rowsX = gap < 0n ? nk + 1 : nk;
  const colsX = gap > 0n ? mk + 1 : mk;
  if (gap > 0n) demand.push(gap);
  if (gap < 0n) supply.push(-gap);
  const sub = new Float64Array(rowsX * colsX);
  for (let s = 0; s < nk; s++) {
    for (let t = 0; t < mk; t++) sub[s * colsX + t] = c[rowIdx[s]! * m + colIdx[t]!]!;
  }
  const r = networkSimplex(supply, demand, sub, maxPivots);
  const plan = new Float64Array(n * m);
  const u = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  const v = new Float64Array(m).fill(Number.POSITIVE_INFINITY);
  for (let s = 0; s < nk; s++) {
    u[rowIdx[s]!] = r.pot[s]!;
    for (let t = 0; t < mk; t++) plan[rowIdx[s]! * m + colIdx[t]!] = r.flow[s * colsX + t]!;
  }
  for (let t = 0; t < mk; t++) v[colIdx[t]!] = r.pot[rowsX + t]!;
  // Rows, then columns, without mass: the largest potential that keeps u_i + v_j <= C_ij (no flow, so no slackness
  // condition to meet).
  for (let i = 0; i < n; i++) {
    if (wa[i]! > 0) continue;
    for (const j of colIdx) u[i] = Math.min(u[i]!, c[i * m + j]! - v[j]!);
  }
  for (let j = 0; j < m; j++) {
    if (wb[j]! > 0) continue;
    for (let i = 0; i < n; i++) v[j] = Math.min(v[j]!, c[i * m + j]! - u[i]!);
  }
  let value = 0;
  for (let k = 0; k < plan.length; k++) value += plan[k]! * c[k]!;
  return { value, plan, rows: n, cols: m, u, v, pivots: r.pivots, converged: r.converged };
}

/** 2⁻⁵², twice float64's unit roundoff: the factor of the rounding-error bound on a computed reduced cost. */
const EPS = 2 ** -52;
const f64Bits = new DataView(new ArrayBuffer(8));

/** x exactly, as an integer number of 2⁻¹⁰⁷⁴ (the smallest subnormal): sums of these never round. */
export function exactUnits(x: number): bigint {
  f64Bits.setFloat64(0, x);
  const bits = f64Bits.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & 0xfffffffffffffn;
  const units = biased === 0 ? fraction : (fraction | 0x10000000000000n) << BigInt(biased - 1);
  return bits >> 63n ? -units : units;
}

/** An integer number of 2⁻¹⁰⁷⁴ as the nearest double (one rounding: a sticky bit stands for the bits shifted out). */
function unitsToNumber(units: bigint): number {
  const neg = units < 0n;
  const mag = neg ? -units : units;
  const shift = mag.toString(2).length - 1000;
  let x: number;
  if (shift <= 0) {
    x = Number(mag) * 2 ** -1074;
  } else {
    const s = BigInt(shift);
    let q = mag >> s;
    if (q << s !== mag) q |= 1n;
    x = Number(q) * 2 ** (shift - 1074);
  }
  return neg ? -x : x;
}

interface SimplexResult {
  /** The optimal plan, each entry rounded once from its exact value. */
  flow: Float64Array;
  /** Potentials, rows 0..n−1 (u) then columns (v), each rounded once from its exact value. */
  pot: Float64Array;
  pivots: number;
  converged: boolean;
}

/**
 * The transportation simplex on supplies and demands in integer units of 2⁻¹⁰⁷⁴, all > 0, Σ supply = Σ demand
 * exactly. Nodes: rows 0..n−1, columns n..n+m−1; basic cells (i, j) are tree arcs row i → column j.
 *
 * Flows are exact (sums and differences of the weights), so ties in the ratio test are real ties, degenerate pivots
 * move exactly nothing, and no residue of rounding is left on a cell whose exact flow is 0 (which next to a 1e300
 * cost would be ruinous).
 */
function networkSimplex(supply: bigint[], demand: bigint[], c: Float64Array, maxPivots: number): SimplexResult {
  const n = supply.length;
  const m = demand.length;
  const N = n + m;
  const flow: bigint[] = new Array<bigint>(n * m).fill(0n);
  const basic = new Uint8Array(n * m);
  const adj: number[][] = Array.from({ length: N }, () => []);
  const cellOf = (s: number, t: number) => (s < n ? s * m + (t - n) : t * m + (s - n));
  const link = (k: number) => {
    const i = Math.floor(k / m);
    const j = k - i * m;
    basic[k] = 1;
    adj[i]!.push(n + j);
    adj[n + j]!.push(i);
  };
  const unlink = (k: number) => {
    const i = Math.floor(k / m);
    const j = k - i * m;
    basic[k] = 0;
    const r = adj[i]!;
    r.splice(r.indexOf(n + j), 1);
    const s = adj[n + j]!;
    s.splice(s.indexOf(i), 1);
  };
  // North-west corner start, ties moving down a row. Rooted at row 0 it is strongly feasible: a cell that opens a
  // new column (its arc points away from the root) always carries positive flow, as every weight is > 0; only a cell
  // that opens a new row (its arc points toward the root) can be degenerate.
  {
    let i = 0;
    let j = 0;
    let remA = supply[0]!;
    let remB = demand[0]!;
    for (;;) {
      let q = remB; // min of two bigints (Math.min takes numbers)
      if (remA < remB) q = remA;
      flow[i * m + j] = q;
      link(i * m + j);
      if (i === n - 1 && j === m - 1) break;
      const moveI = j === m - 1 || (i < n - 1 && remA <= remB);
      remA -= q;
      remB -= q;
      if (moveI) {
        i++;
        remA = supply[i]!;
      } else {
        j++;
        remB = demand[j]!;
      }
    }
  }
  // The basis tree from the root (row 0): parent, depth, potentials (u_i + v_j = C_ij on basic cells, u_0 = 0) and
  // mag = Σ|C| along the path from the root, which bounds |potential| and, times depth·2⁻⁵³, its rounding error.
  const parent = new Int32Array(N);
  const depth = new Int32Array(N);
  const pot = new Float64Array(N);
  const mag = new Float64Array(N);
  const order = new Int32Array(N);
  const buildTree = () => {
    parent[0] = -1;
    order[0] = 0;
    let len = 1;
    for (let h = 0; h < len; h++) {
      const node = order[h]!;
      for (const nb of adj[node]!) {
        if (nb === parent[node]) continue;
        const cc = c[cellOf(node, nb)]!;
        parent[nb] = node;
        depth[nb] = depth[node]! + 1;
        pot[nb] = cc - pot[node]!;
        mag[nb] = mag[node]! + Math.abs(cc);
        order[len++] = nb;
      }
    }
  };
  // The same potentials without rounding (only when a reduced cost is within its error bound of 0, and at the end).
  const exactPot: bigint[] = new Array<bigint>(N);
  const buildExactPotentials = () => {
    exactPot[0] = 0n;
    for (let h = 1; h < N; h++) {
      const node = order[h]!;
      const p = parent[node]!;
      exactPot[node] = exactUnits(c[cellOf(node, p)]!) - exactPot[p]!;
    }
  };
  const rowSide: number[] = [];
  const colSide: number[] = [];
  let pivots = 0;
  let converged = false;
  for (;;) {
    buildTree();
    // Pricing (Dantzig): the most negative reduced cost among those whose sign survives rounding; if there is none,
    // the most negative of the reduced costs within their error bound of 0, computed exactly.
    let enter = -1;
    let best = 0;
    for (let i = 0; i < n; i++) {
      const ui = pot[i]!;
      for (let j = 0; j < m; j++) {
        const k = i * m + j;
        const r = c[k]! - ui - pot[n + j]!;
        if (r < best && !basic[k]) {
          const err = EPS * (depth[i]! + depth[n + j]! + 2) * (mag[i]! + mag[n + j]! + Math.abs(c[k]!));
          if (r < -err) {
            best = r;
            enter = k;
          }
        }
      }
    }
    if (enter < 0) {
      let bestExact = 0n;
      let exact = false;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < m; j++) {
          const k = i * m + j;
          if (basic[k]) continue;
          const r = c[k]! - pot[i]! - pot[n + j]!;
          const err = EPS * (depth[i]! + depth[n + j]! + 2) * (mag[i]! + mag[n + j]! + Math.abs(c[k]!));
          if (r > err) continue;
          if (!exact) {
            buildExactPotentials();
            exact = true;
          }
          const rx = exactUnits(c[k]!) - exactPot[i]! - exactPot[n + j]!;
          if (rx < bestExact) {
            bestExact = rx;
            enter = k;
          }
        }
      }
    }
    if (enter < 0) {
      converged = true;
      break;
    }
    if (pivots === maxPivots) break;
    // The cycle of the entering cell (row k → column l): the tree paths from k and from l up to their join (apex).
    // Oriented along the entering arc it runs apex → … → k → l → … → apex; every other cell on it, starting with the
    // ones next to k and to l, is traversed column → row and loses θ.
    const ek = Math.floor(enter / m);
    const el = n + (enter - ek * m);
    rowSide.length = 0;
    colSide.length = 0;
    let p = ek;
    let q = el;
    while (p !== q) {
      if (depth[p]! >= depth[q]!) {
        rowSide.push(cellOf(p, parent[p]!));
        p = parent[p]!;
      } else {
        colSide.push(cellOf(q, parent[q]!));
        q = parent[q]!;
      }
    }
    let theta = -1n;
    for (const side of [rowSide, colSide]) {
      for (let t = 0; t < side.length; t += 2) {
        const f = flow[side[t]!]!;
        if (theta < 0n || f < theta) theta = f;
      }
    }
    // Leaving cell: the last blocking cell met going around the cycle from the apex (down to k, across, up from l).
    // This keeps the tree strongly feasible (every zero-flow arc points toward the root), so pivots cannot cycle.
    let leave = -1;
    for (let t = (colSide.length - 1) & ~1; t >= 0 && leave < 0; t -= 2) {
      if (flow[colSide[t]!] === theta) leave = colSide[t]!;
    }
    for (let t = 0; t < rowSide.length && leave < 0; t += 2) {
      if (flow[rowSide[t]!] === theta) leave = rowSide[t]!;
    }
    if (theta > 0n) {
      for (const side of [rowSide, colSide]) {
        for (let t = 0; t < side.length; t++) {
          const k = side[t]!;
          flow[k] = t % 2 === 0 ? flow[k]! - theta : flow[k]! + theta;
        }
      }
    }
    flow[enter] = theta;
    unlink(leave);
    link(enter);
    pivots++;
  }
  // Potentials of the final basis rounded once from their exact values (the float64 ones above carry the rounding of
  // every cost on their tree path, which can exceed the potentials themselves).
  buildExactPotentials();
  for (let node = 0; node < N; node++) pot[node] = unitsToNumber(exactPot[node]!);
  return { flow: Float64Array.from(flow, unitsToNumber), pot, pivots, converged };
}
