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
import { checkEqualMass, type MatrixInput, type PointsInput, sum, toCloud, toMatrix, toWeights } from './inputs.ts';

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
  /** Dual potentials: u_i + v_j <= C_ij, equality on the basis. */
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
  /** Relative tolerance on |Σa − Σb| (default 1e-9). */
  massTolerance?: number;
}

/**
 * Exact OT on a cost matrix by the transportation simplex (north-west corner start, Dantzig pricing, tree pivots).
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
  const scaleB = sum(wa) / sum(wb);
  for (let j = 0; j < m; j++) wb[j] = wb[j]! * scaleB;
  const maxPivots = options.maxPivots ?? 100_000;
  const c = C.data;
  // Basis: n + m − 1 cells; adjacency over nodes 0..n−1 (rows) and n..n+m−1 (cols).
  const flow = new Float64Array(n * m);
  const basic = new Uint8Array(n * m);
  const adj: number[][] = Array.from({ length: n + m }, () => []);
  const addBasic = (i: number, j: number) => {
    basic[i * m + j] = 1;
    adj[i]!.push(n + j);
    adj[n + j]!.push(i);
  };
  const removeBasic = (i: number, j: number) => {
    basic[i * m + j] = 0;
    const r = adj[i]!;
    r.splice(r.indexOf(n + j), 1);
    const s = adj[n + j]!;
    s.splice(s.indexOf(i), 1);
  };
  {
    let i = 0;
    let j = 0;
    let remA = wa[0]!;
    let remB = wb[0]!;
    for (;;) {
      const last = i === n - 1 && j === m - 1;
      const q = last ? Math.max(remA, remB, 0) : Math.max(0, Math.min(remA, remB));
      flow[i * m + j] = q;
      addBasic(i, j);
      if (last) break;
      const moveI = j === m - 1 || (i < n - 1 && remA <= remB);
      remA -= q;
      remB -= q;
      if (moveI) {
        i++;
        remA = wa[i]!;
      } else {
        j++;
        remB = wb[j]!;
      }
    }
  }
  let cmax = 0;
  for (let k = 0; k < c.length; k++) cmax = Math.max(cmax, Math.abs(c[k]!));
  const tol = 1e-12 * Math.max(cmax, 1e-300);
  const u = new Float64Array(n);
  const v = new Float64Array(m);
  const parent = new Int32Array(n + m);
  const order: number[] = [];
  const computePotentials = () => {
    // BFS over the basis tree from row 0: u_i + v_j = C_ij on basic cells.
    parent.fill(-2);
    parent[0] = -1;
    u[0] = 0;
    order.length = 0;
    order.push(0);
    for (let h = 0; h < order.length; h++) {
      const node = order[h]!;
      for (const nb of adj[node]!) {
        if (parent[nb] !== -2) continue;
        parent[nb] = node;
        order.push(nb);
        if (nb >= n) v[nb - n] = c[node * m + (nb - n)]! - u[node]!;
        else u[nb] = c[nb * m + (node - n)]! - v[node - n]!;
      }
    }
  };
  let pivots = 0;
  let converged = false;
  while (pivots <= maxPivots) {
    computePotentials();
    let best = -tol;
    let ei = -1;
    let ej = -1;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) {
        if (basic[i * m + j]) continue;
        const r = c[i * m + j]! - u[i]! - v[j]!;
        if (r < best) {
          best = r;
          ei = i;
          ej = j;
        }
      }
    }
    if (ei < 0) {
      converged = true;
      break;
    }
    if (pivots === maxPivots) break;
    // Tree path from column node n+ej up to the root and from row node ei up to the root; join at the LCA.
    const pathUp = (start: number) => {
      const path = [start];
      let node = start;
      while (parent[node]! >= 0) {
        node = parent[node]!;
        path.push(node);
      }
      return path;
    };
    const pr = pathUp(ei);
    const pc = pathUp(n + ej);
    const inPr = new Map<number, number>();
    pr.forEach((node, k) => inPr.set(node, k));
    let k2 = 0;
    while (!inPr.has(pc[k2]!)) k2++;
    const k1 = inPr.get(pc[k2]!)!;
    // Cycle: (ei, ej) [+], then from col ej along pc to the LCA, then down pr back to row ei; signs alternate.
    const nodes = [...pc.slice(0, k2 + 1), ...pr.slice(0, k1).reverse()];
    // nodes: n+ej, ..., lca, ..., ei. Consecutive pairs are basic cells, starting with sign −.
    const cells: number[] = [];
    for (let k = 0; k + 1 < nodes.length; k++) {
      const s = nodes[k]!;
      const t = nodes[k + 1]!;
      cells.push(s < n ? s * m + (t - n) : t * m + (s - n));
    }
    let theta = Number.POSITIVE_INFINITY;
    let leave = -1;
    for (let k = 0; k < cells.length; k += 2) {
      const fl = flow[cells[k]!]!;
      if (fl < theta) {
        theta = fl;
        leave = cells[k]!;
      }
    }
    for (let k = 0; k < cells.length; k++) {
      const cell = cells[k]!;
      flow[cell] = k % 2 === 0 ? flow[cell]! - theta : flow[cell]! + theta;
    }
    flow[ei * m + ej] = theta;
    flow[leave] = 0;
    removeBasic(Math.floor(leave / m), leave % m);
    addBasic(ei, ej);
    pivots++;
  }
  let value = 0;
  for (let k = 0; k < flow.length; k++) {
    if (flow[k]! < 0) flow[k] = 0;
    value += flow[k]! * c[k]!;
  }
  return { value, plan: flow, rows: n, cols: m, u, v, pivots, converged };
}
