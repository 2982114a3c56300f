/**
 * float64 row kernels in WebAssembly SIMD (f64x2), assembled here from their instructions (no build step, no
 * binary blob): the dense products of the CPU solvers run at two lanes per instruction instead of JavaScript's one.
 *
 *  - `knoppPass`: POT sinkhorn_knopp's row pass fused with the next Kᵀu (u_i = a_i / (K v)_i, ktu += K_i·u_i), four
 *    rows at a time, row sweeps only (no strided column walk);
 *  - `matvec`:    out_i = Σ_j K_ij·v_j (rows four at a time, two lanes per row);
 *  - `matvecT`:   out_j += Σ_i w_i·K_ij as row sweeps;
 *  - `expDiv`:    out_k = exp(src_k / d), a vectorised exp (Cody–Waite reduction, degree-13 Taylor polynomial,
 *    2^k applied in two factors so subnormal results round once), within 2 ulp of Math.exp on [−746, 709].
 *
 * Matrices live in one WebAssembly.Memory per solve (`SimdArena`), rows padded to an even stride so every row is a
 * whole number of f64x2 lanes (the pad columns hold 0). Sums are split over two lanes, so they round differently from
 * a serial sum (relative 1e-16 per term, as BLAS does). `simdAvailable()` is false where WebAssembly SIMD is missing:
 * callers then use their JavaScript loops.
 */

// ---------------------------------------------------------------------------------------------------------------
// A tiny assembler: byte emitters for the instructions used below.

const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const simd = (op: number, ...imm: number[]) => [0xfd, ...uleb(op), ...imm];
const get = (l: number) => [0x20, ...uleb(l)];
const set = (l: number) => [0x21, ...uleb(l)];
const i32c = (v: number) => [0x41, ...sleb(v)];
const i32add = [0x6a];
const i32mul = [0x6c];
const i32geu = [0x4f];
const i32gtu = [0x4b];
const f64add = [0xa0];
const f64div = [0xa3];
const f64load = [0x2b, 3, 0];
const f64store = [0x39, 3, 0];
const v128load = simd(0x00, 4, 0);
const v128store = simd(0x0b, 4, 0);
const f64x2splat = simd(0x14);
const lane = (k: number) => simd(0x21, k);
const f64x2add = simd(0xf0);
const f64x2sub = simd(0xf1);
const f64x2mul = simd(0xf2);
const f64x2div = simd(0xf3);
const f64x2min = simd(0xf4);
const f64x2max = simd(0xf5);
const f64x2nearest = simd(0x94);
const i32x4truncSatF64x2Zero = simd(0xfc);
const i64x2extendLowI32x4 = simd(0xc7);
const i64x2shl = simd(0xcb);
const i64x2shrS = simd(0xcc);
const i64x2add = simd(0xce);
const i64x2sub = simd(0xd1);

function v128f64(v: number): number[] {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setFloat64(0, v, true);
  dv.setFloat64(8, v, true);
  return simd(0x0c, ...b);
}

function v128i64(v: number): number[] {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setBigInt64(0, BigInt(v), true);
  dv.setBigInt64(8, BigInt(v), true);
  return simd(0x0c, ...b);
}

/** `while (cond) body`: block { loop { br_if 1 (!cond) ... ; br 0 } } with cond given as its negation `exit`. */
function whileNot(exit: number[], body: number[]): number[] {
  return [0x02, 0x40, 0x03, 0x40, ...exit, 0x0d, 1, ...body, 0x0c, 0, 0x0b, 0x0b];
}

interface Fn {
  name: string;
  params: number[];
  results: number[];
  locals: number[];
  body: number[];
}

function assemble(fns: Fn[]): Uint8Array {
  const section = (id: number, payload: number[]) => [id, ...uleb(payload.length), ...payload];
  const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
  const types = vec(fns.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec(f.results.map((t) => [t]))]));
  const name = (s: string) => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
  const imports = vec([[...name('env'), ...name('mem'), 0x02, 0x00, 1]]);
  const funcs = vec(fns.map((_, k) => uleb(k)));
  const exports = vec(fns.map((f, k) => [...name(f.name), 0x00, ...uleb(k)]));
  const code = vec(
    fns.map((f) => {
      const body = [...vec(f.locals.map((t) => [1, t])), ...f.body, 0x0b];
      return [...uleb(body.length), ...body];
    }),
  );
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exports),
    ...section(10, code),
  ]);
}

// ---------------------------------------------------------------------------------------------------------------
// The row kernels. Pointers are byte offsets into the memory; `mp` is the (even) row stride in elements.

type RowMode = 'knopp' | 'dot' | 'axpy';

/**
 * Rows i … i+R−1 while i + R <= n. Locals (shared layout, see `rowFn`): 0 K, 1 v (or w), 2 a, 3 u (or out),
 * 4 ktu, 5 n, 6 mp, 7 i, 8 j, 9 rowBytes, 10..13 row pointers, 14..17 acc/U (v128), 18 x (v128).
 */
function rowBlock(R: number, mode: RowMode): number[] {
  const [K, V, A, U, KTU, N, , I, J, RB] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const row = (r: number) => 10 + r;
  const acc = (r: number) => 14 + r;
  const X = 18;
  const body: number[] = [];
  // Row pointers: K + i·rowBytes + r·rowBytes.
  body.push(...get(K), ...get(I), ...get(RB), ...i32mul, ...i32add, ...set(row(0)));
  for (let r = 1; r < R; r++) body.push(...get(row(r - 1)), ...get(RB), ...i32add, ...set(row(r)));
  const jLoop = (inner: number[]) => [
    ...i32c(0),
    ...set(J),
    ...whileNot([...get(J), ...get(RB), ...i32geu], [...inner, ...get(J), ...i32c(16), ...i32add, ...set(J)]),
  ];
  if (mode !== 'axpy') {
    for (let r = 0; r < R; r++) body.push(...v128f64(0), ...set(acc(r)));
    const inner: number[] = [...get(V), ...get(J), ...i32add, ...v128load, ...set(X)];
    for (let r = 0; r < R; r++) {
      inner.push(...get(acc(r)), ...get(row(r)), ...get(J), ...i32add, ...v128load, ...get(X), ...f64x2mul);
      inner.push(...f64x2add, ...set(acc(r)));
    }
    body.push(...jLoop(inner));
    // s_r = lane 0 + lane 1; knopp: u_{i+r} = a_{i+r} / s_r; dot: out_{i+r} = s_r.
    for (let r = 0; r < R; r++) {
      const addr = [...get(U), ...get(I), ...i32c(r), ...i32add, ...i32c(8), ...i32mul, ...i32add];
      body.push(...addr);
      if (mode === 'knopp') {
        body.push(...get(A), ...get(I), ...i32c(r), ...i32add, ...i32c(8), ...i32mul, ...i32add, ...f64load);
      }
      body.push(...get(acc(r)), ...lane(0), ...get(acc(r)), ...lane(1), ...f64add);
      if (mode === 'knopp') body.push(...f64div);
      body.push(...f64store);
    }
  }
  if (mode !== 'dot') {
    // U_r = splat(u_{i+r}) (knopp: the values just stored; axpy: the weights w at V).
    const W = mode === 'knopp' ? U : V;
    for (let r = 0; r < R; r++) {
      body.push(...get(W), ...get(I), ...i32c(r), ...i32add, ...i32c(8), ...i32mul, ...i32add, ...f64load);
      body.push(...f64x2splat, ...set(acc(r)));
    }
    // ktu[j] = ((ktu[j] + K0 u0) + K1 u1) + … (the order of a row-by-row pass).
    const OUT = mode === 'knopp' ? KTU : U;
    const inner: number[] = [...get(OUT), ...get(J), ...i32add, ...get(OUT), ...get(J), ...i32add, ...v128load];
    for (let r = 0; r < R; r++) {
      inner.push(...get(row(r)), ...get(J), ...i32add, ...v128load, ...get(acc(r)), ...f64x2mul, ...f64x2add);
    }
    inner.push(...v128store);
    body.push(...jLoop(inner));
  }
  body.push(...get(I), ...i32c(R), ...i32add, ...set(I));
  // while !(i + R > n)
  return whileNot([...get(I), ...i32c(R), ...i32add, ...get(N), ...i32gtu], body);
}

function rowFn(name: string, mode: RowMode): Fn {
  return {
    name,
    params: [I32, I32, I32, I32, I32, I32, I32],
    results: [],
    locals: [I32, I32, I32, I32, I32, I32, I32, V128, V128, V128, V128, V128],
    body: [
      ...get(6),
      ...i32c(8),
      ...i32mul,
      ...set(9),
      ...i32c(0),
      ...set(7),
      ...rowBlock(4, mode),
      ...rowBlock(1, mode),
    ],
  };
}

const LOG2E = Math.LOG2E;
const LN2_HI = 0.6931471803691238;
const LN2_LO = 1.9082149292705877e-10;

/** expDiv(src, dst, bytes, d): dst = exp(src / d), two lanes at a time over `bytes` (a multiple of 16). */
function expFn(): Fn {
  // params 0 src, 1 dst, 2 bytes, 3 d (f64); locals 4 j, 5 D (v128), 6 x, 7 kf, 8 r, 9 p, 10 ki
  const [SRC, DST, BYTES, Dp, J, D, X, KF, R, P, KI] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const poly: number[] = [...v128f64(1 / 6227020800), ...set(P)]; // 1/13!
  let fact = 6227020800;
  for (let k = 12; k >= 0; k--) {
    fact /= k + 1;
    poly.push(...get(P), ...get(R), ...f64x2mul, ...v128f64(1 / fact), ...f64x2add, ...set(P));
  }
  const inner = [
    ...get(SRC),
    ...get(J),
    ...i32add,
    ...v128load,
    ...get(D),
    ...f64x2div,
    ...v128f64(-746),
    ...f64x2max,
    ...v128f64(709.78),
    ...f64x2min,
    ...set(X),
    ...get(X),
    ...v128f64(LOG2E),
    ...f64x2mul,
    ...f64x2nearest,
    ...set(KF),
    ...get(X),
    ...get(KF),
    ...v128f64(LN2_HI),
    ...f64x2mul,
    ...f64x2sub,
    ...get(KF),
    ...v128f64(LN2_LO),
    ...f64x2mul,
    ...f64x2sub,
    ...set(R),
    ...poly,
    ...get(KF),
    ...i32x4truncSatF64x2Zero,
    ...i64x2extendLowI32x4,
    ...set(KI),
    // dst = p · 2^(k >> 1) · 2^(k − (k >> 1))
    ...get(DST),
    ...get(J),
    ...i32add,
    ...get(P),
    ...get(KI),
    ...i32c(1),
    ...i64x2shrS,
    ...v128i64(1023),
    ...i64x2add,
    ...i32c(52),
    ...i64x2shl,
    ...f64x2mul,
    ...get(KI),
    ...get(KI),
    ...i32c(1),
    ...i64x2shrS,
    ...i64x2sub,
    ...v128i64(1023),
    ...i64x2add,
    ...i32c(52),
    ...i64x2shl,
    ...f64x2mul,
    ...v128store,
    ...get(J),
    ...i32c(16),
    ...i32add,
    ...set(J),
  ];
  return {
    name: 'expDiv',
    params: [I32, I32, I32, F64],
    results: [],
    locals: [I32, V128, V128, V128, V128, V128, V128],
    body: [
      ...get(Dp),
      ...f64x2splat,
      ...set(D),
      ...i32c(0),
      ...set(J),
      ...whileNot([...get(J), ...get(BYTES), ...i32geu], inner),
    ],
  };
}

interface SimdExports {
  knoppPass(K: number, v: number, a: number, u: number, ktu: number, n: number, mp: number): void;
  matvec(K: number, v: number, unused: number, out: number, unused2: number, n: number, mp: number): void;
  matvecT(K: number, w: number, unused: number, out: number, unused2: number, n: number, mp: number): void;
  expDiv(src: number, dst: number, bytes: number, d: number): void;
}

/** The part of the WebAssembly JS API used here (the package's TypeScript libs do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmModule {
  readonly kind?: 'module';
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (mod: WasmModule, imports: { env: { mem: WasmMemory } }) => { exports: unknown };
  Memory: new (desc: { initial: number }) => WasmMemory;
}
const WebAssembly = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

let compiled: WasmModule | null | undefined;

function moduleOrNull(): WasmModule | null {
  if (compiled !== undefined) return compiled;
  try {
    const bytes = assemble([rowFn('knoppPass', 'knopp'), rowFn('matvec', 'dot'), rowFn('matvecT', 'axpy'), expFn()]);
    compiled = WebAssembly?.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    compiled = null;
  }
  return compiled ?? null;
}

/** Whether the WebAssembly SIMD kernels can run here (false: use the JavaScript loops). */
export function simdAvailable(): boolean {
  return moduleOrNull() !== null;
}

/** Largest memory one arena takes (wasm32 addresses 4 GiB; stay below it). */
const MAX_ARENA_BYTES = 2 ** 31;
/**
 * Memory up to this size is kept between solves and reused (fresh pages cost a page fault each on first touch: ~20 ms
 * per 8 MB on a loaded VM, as much as the whole product loop). Larger arenas are private to their solve.
 */
const RETAIN_BYTES = 64 * 2 ** 20;
let retained: WasmMemory | undefined;
let retainedInstance: SimdExports | undefined;

/** A float64 buffer inside an arena: `view` is its Float64Array (length = padded length), `ptr` its byte offset. */
export interface SimdBuf {
  readonly ptr: number;
  readonly view: Float64Array;
}

/**
 * The WebAssembly memory holding the buffers of one solve, with the kernels bound to it. Buffers are 16-byte aligned
 * and zero-filled. Views are valid until the next `create` (which may reuse or grow the same memory): never hand
 * them to callers. Returns undefined from `create` when SIMD is unavailable or the buffers exceed MAX_ARENA_BYTES.
 */
export class SimdArena {
  private constructor(
    readonly fns: SimdExports,
    private readonly memory: WasmMemory,
    private readonly layout: readonly number[],
    private readonly lengths: readonly number[],
  ) {}

  /** An arena for buffers of the given float64 lengths (each rounded up to an even length). */
  static create(lengths: readonly number[]): SimdArena | undefined {
    const mod = moduleOrNull();
    if (mod === null || WebAssembly === undefined) return undefined;
    const layout: number[] = [];
    const padded = lengths.map((l) => l + (l & 1));
    let bytes = 0;
    for (const len of padded) {
      layout.push(bytes);
      bytes += len * 8;
    }
    if (bytes > MAX_ARENA_BYTES) return undefined;
    const pages = Math.max(1, Math.ceil(bytes / 65536));
    let memory: WasmMemory;
    let fns: SimdExports;
    try {
      if (bytes <= RETAIN_BYTES) {
        if (retained === undefined) {
          retained = new WebAssembly.Memory({ initial: pages });
          retainedInstance = new WebAssembly.Instance(mod, { env: { mem: retained } })
            .exports as unknown as SimdExports;
        }
        const have = retained.buffer.byteLength / 65536;
        if (have < pages) retained.grow(pages - have);
        memory = retained;
        fns = retainedInstance!;
        new Float64Array(memory.buffer, 0, bytes / 8).fill(0);
      } else {
        memory = new WebAssembly.Memory({ initial: pages });
        fns = new WebAssembly.Instance(mod, { env: { mem: memory } }).exports as unknown as SimdExports;
      }
    } catch {
      return undefined;
    }
    return new SimdArena(fns, memory, layout, padded);
  }

  /** Buffer k of the lengths given to `create`. */
  buf(k: number): SimdBuf {
    const ptr = this.layout[k]!;
    return { ptr, view: new Float64Array(this.memory.buffer, ptr, this.lengths[k]!) };
  }
}

/** The even row stride used for a matrix of m columns. */
export function paddedCols(m: number): number {
  return m + (m & 1);
}
