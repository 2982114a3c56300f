/**
 * The WGSL soft-min program, run through tfjs-backend-webgpu's `runWebGPUProgram` so that it reads and writes the
 * same GPUBuffers as tfjs tensors (no copy through the CPU).
 *
 * One invocation owns one output row (b, i) and streams over the M points of its batch with an online
 * log-sum-exp (running max `mx`, running sum `s`, rescaled when the max grows), so memory is O(N + M), never N×M.
 * For D ≤ TILED_MAX_DIM the row x_i lives in registers and the workgroup stages tiles of y (and h) in workgroup
 * memory; larger D reads straight from the storage buffers.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { type Dispatch, foldDispatch } from './dispatch.ts';

/** Largest point dimension handled by the register/shared-memory tiled variant. */
export const TILED_MAX_DIM = 32;
export const DEFAULT_WORKGROUP_SIZE = 64;
/** Workgroup memory the tiled variant may use: WebGPU's guaranteed minimum of maxComputeWorkgroupStorageSize. */
export const TILE_BYTES_MAX = 16_384;

/** The subset of tfjs-backend-webgpu's WebGPUProgram interface this package fills in. */
export interface WebGPUProgramLike {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  uniforms?: string;
  workgroupSize: [number, number, number];
  size?: boolean;
  getUserCode: () => string;
}

/** What runWebGPUProgram needs from the backend (structural, so no deep import of tfjs internals). */
export interface WebGPUBackendLike {
  device: GPUDevice;
  runWebGPUProgram(
    program: WebGPUProgramLike,
    inputs: TensorInfo[],
    outputDtype: 'float32',
    programDefinedUniform?: Array<{ type: string; data: number[] }>,
  ): TensorInfo;
}

/** Which shader variant a (p, D, workgroup size) triple compiles to; part of the pipeline cache key. */
export interface SoftminVariant {
  /** 'p2' (half squared distance), 'p1' (distance) or 'pgen' (distance^p / p, p a uniform). */
  cost: 'p1' | 'p2' | 'pgen';
  /** D baked into the tiled variant; undefined for the generic variant (D a uniform). */
  tiledDim: number | undefined;
  workgroupSize: number;
}

export function softminVariant(p: number, d: number, workgroupSize = DEFAULT_WORKGROUP_SIZE): SoftminVariant {
  return {
    cost: p === 2 ? 'p2' : p === 1 ? 'p1' : 'pgen',
    tiledDim: d >= 1 && d <= TILED_MAX_DIM && workgroupSize * (d + 1) * 4 <= TILE_BYTES_MAX ? d : undefined,
    workgroupSize,
  };
}

function costSnippet(cost: SoftminVariant['cost']): string {
  switch (cost) {
    case 'p2':
      return 'return 0.5 * r2;';
    case 'p1':
      return 'return sqrt(r2);';
    case 'pgen':
      return 'let r = sqrt(r2); if (r == 0.0) { return 0.0; } return pow(r, uniforms.p) / uniforms.p;';
  }
}

// Online log-sum-exp update shared by both variants: v = h_j − C_ij/ε. NaN is tracked with tfjs' bit-level
// isnan(): drivers may compile float comparisons assuming no NaN (lavapipe does), which would silently drop it.
const UPDATE = `
      sawNaN = sawNaN || isnan(v);
      if (v > mx) {
        s = s * exp(mx - v) + 1.0;
        mx = v;
      } else if (v == mx) {
        s = s + 1.0;
      } else {
        s = s + exp(v - mx);
      }`;

// Flat workgroup id from a (possibly folded) grid; batch b and row i; all uniform per workgroup except i.
const PROLOGUE = `
    let wgFlat = i32(workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x);
    let b = wgFlat / uniforms.wgPerBatch;
    let i = (wgFlat - b * uniforms.wgPerBatch) * WG + i32(localIndex);
    let live = b < uniforms.batch && i < uniforms.n;
    var mx = -uniforms.INFINITY;
    var s = 0.0;
    var sawNaN = false;`;

const EPILOGUE = `
    if (live) {
      var f = uniforms.INFINITY;
      if (sawNaN) {
        f = uniforms.NAN;
      } else if (s != 0.0) {
        f = -uniforms.eps * (mx + log(s));
      }
      result[b * uniforms.n + i] = f;
    }`;

/** WGSL body (the part tfjs' program header does not generate) for a variant. */
export function softminUserCode(variant: SoftminVariant): string {
  const wg = variant.workgroupSize;
  const head = `
  const WG : i32 = ${wg};
  fn softminCost(r2 : f32) -> f32 { ${costSnippet(variant.cost)} }`;
  if (variant.tiledDim !== undefined) {
    const dim = variant.tiledDim;
    return `${head}
  const DIM : i32 = ${dim};
  var<workgroup> tileY : array<f32, ${wg * dim}>;
  var<workgroup> tileH : array<f32, ${wg}>;

  fn main(unusedIndex : i32) {
    ${PROLOGUE}
    var xi : array<f32, ${dim}>;
    if (live) {
      let xo = (b * uniforms.n + i) * DIM;
      for (var k = 0; k < DIM; k++) { xi[k] = px[xo + k]; }
    }
    let lid = i32(localIndex);
    for (var t = 0; t < uniforms.m; t += WG) {
      let j = t + lid;
      if (b < uniforms.batch && j < uniforms.m) {
        let yo = (b * uniforms.m + j) * DIM;
        for (var k = 0; k < DIM; k++) { tileY[lid * DIM + k] = py[yo + k]; }
        tileH[lid] = ph[b * uniforms.m + j];
      }
      workgroupBarrier();
      if (live) {
        let cnt = min(WG, uniforms.m - t);
        for (var jj = 0; jj < cnt; jj++) {
          var r2 = 0.0;
          for (var k = 0; k < DIM; k++) {
            let diff = xi[k] - tileY[jj * DIM + k];
            r2 = r2 + diff * diff;
          }
          let v = tileH[jj] - softminCost(r2) * uniforms.invEps;
          ${UPDATE}
        }
      }
      workgroupBarrier();
    }
    ${EPILOGUE}
  }`;
  }
  return `${head}
  fn main(unusedIndex : i32) {
    ${PROLOGUE}
    if (live) {
      let d = uniforms.d;
      let xo = (b * uniforms.n + i) * d;
      for (var j = 0; j < uniforms.m; j++) {
        let yo = (b * uniforms.m + j) * d;
        var r2 = 0.0;
        for (var k = 0; k < d; k++) {
          let diff = px[xo + k] - py[yo + k];
          r2 = r2 + diff * diff;
        }
        let v = ph[b * uniforms.m + j] - softminCost(r2) * uniforms.invEps;
        ${UPDATE}
      }
    }
    ${EPILOGUE}
  }`;
}

/** A tfjs WebGPUProgram computing softmin for x [B,N,D], y [B,M,D], h [B,M] into [B,N]. */
export class SoftminProgram implements WebGPUProgramLike {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0, 1] };
  dispatch: Dispatch;
  variableNames = ['px', 'py', 'ph'];
  uniforms = 'eps : f32, invEps : f32, p : f32, batch : i32, n : i32, m : i32, d : i32, wgPerBatch : i32,';
  workgroupSize: [number, number, number];
  readonly variant: SoftminVariant;
  readonly workgroupsPerBatch: number;

  constructor(b: number, n: number, d: number, p: number, workgroupSize: number, maxWorkgroupsPerDimension: number) {
    this.variant = softminVariant(p, d, workgroupSize);
    this.outputShape = [b, n];
    this.workgroupSize = [workgroupSize, 1, 1];
    this.workgroupsPerBatch = Math.max(1, Math.ceil(n / workgroupSize));
    this.dispatch = foldDispatch(b * this.workgroupsPerBatch, maxWorkgroupsPerDimension);
    const v = this.variant;
    this.shaderKey = `fairclipSoftmin_${v.cost}_${v.tiledDim ?? 'gen'}_${workgroupSize}`;
  }

  getUserCode(): string {
    return softminUserCode(this.variant);
  }

  /** Values for `uniforms`, in declaration order. */
  uniformData(
    b: number,
    n: number,
    m: number,
    d: number,
    eps: number,
    p: number,
  ): Array<{ type: string; data: number[] }> {
    return [
      { type: 'float32', data: [eps] },
      { type: 'float32', data: [1 / eps] },
      { type: 'float32', data: [p] },
      { type: 'int32', data: [b] },
      { type: 'int32', data: [n] },
      { type: 'int32', data: [m] },
      { type: 'int32', data: [d] },
      { type: 'int32', data: [this.workgroupsPerBatch] },
    ];
  }
}
