// Benchmarks of @fairclip/ot. Every comparison is a ratio of two timings taken in this same run.
//
//  1. pot:       matrix Sinkhorn, N = M = 500 (FULL: 1000), a fixed number of iterations, against POT's ot.sinkhorn
//                (numpy), both 'standard' (sinkhorn_knopp) and 'log' (sinkhorn_log); samplesLoss against POT's
//                ot.bregman.empirical_sinkhorn_divergence on the same clouds. POT runs in /usr/bin/python3 (spawned),
//                skipped with a message when `import ot` fails there. samplesLoss (geomlossCompatible, value and
//                gradients) against geomloss's tensorized backend: geomloss itself when importable, else the torch
//                transcription of its tensorized path in pot_baseline.py (the output says which ran).
//  2. crossover: FairCLIP's per-step work (1 batch cloud of N scores against 3 group clouds of N scores, 1-D, blur 1e-4,
//                value and gradient) on every backend: read back + float64 on the CPU (the exact 1-D path that
//                solveDivergence routes to, and geomloss's Sinkhorn schedule) against the float32 tensor engine on the
//                backend, for growing N. The first N where the device beats the CPU path is the crossover: feed
//                K·N² there to configureRouting({ gpuMinEntries }).
//  3. online:    on WebGPU, the fused online soft-min and a full divergence (value + gradient) at N = M = 10⁴…10⁶ in
//                3-D, with the largest GPU buffer against N·M·4 bytes (memory linear in N + M). On a software adapter
//                (lavapipe) the sizes are cut to 10³ and labelled: those are not GPU figures.
//
// Run: pnpm bench (from packages/ot). Env: BENCH_SECTIONS=pot,crossover,online  BENCH_BACKENDS=webgpu (default; wasm if none)
//      BENCH_QUICK=1 (small sizes, a smoke run)  BENCH_OUT=results.json  BENCH_PYTHON=/usr/bin/python3
//      FAIRCLIP_BENCH_FULL=1: the longer variant. The default (under a minute on a 2-core machine with lavapipe, part
//      of the root `pnpm bench`) runs the POT section at N = M = 500 (FULL: 1000, the size of bench/RESULTS.md; POT's
//      sinkhorn_log alone takes 7 s a call there) and, on a software WebGPU adapter, the crossover up to N = 128
//      (FULL: 512, 15 s a repetition on lavapipe). Hardware GPUs get the full crossover sizes either way.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type BackendName,
  type ComputeHandle,
  describeAdapter,
  initCompute,
  softmin,
  softminBatched,
} from '@fairclip/compute';
import * as tf from '@tensorflow/tfjs-core';
import {
  type DivergenceProblem,
  divergenceFromSolution,
  samplesLoss,
  sinkhorn,
  sinkhornDivergenceMany,
  solveDivergence,
} from '../src/index.ts';

interface Row {
  section: string;
  backend: string;
  case: string;
  ms: number;
  note?: string;
}

const rows: Row[] = [];
const extra: Record<string, unknown> = {};
const quick = process.env.BENCH_QUICK === '1';
const full = process.env.FAIRCLIP_BENCH_FULL === '1';
const sections = new Set((process.env.BENCH_SECTIONS ?? 'pot,crossover,online').split(','));
const here = dirname(fileURLToPath(import.meta.url));

function lcg(n: number, seed: number, lo = 0, hi = 1): Float64Array {
  let s = seed >>> 0 || 1;
  return Float64Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}

/** Median wall time (ms) of `fn` (which must finish its work, reads included). */
async function time(fn: () => unknown | Promise<unknown>, reps: number, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

function log(row: Row): void {
  rows.push(row);
  console.log(
    `[${row.section}] ${row.backend.padEnd(6)} ${row.case.padEnd(58)} ${row.ms.toFixed(2).padStart(10)} ms${row.note ? `  ${row.note}` : ''}`,
  );
}

// ------------------------------------------------------------------------------------------------------------------
// 1. POT

function python(): string | undefined {
  const py = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
  try {
    execFileSync(py, ['-c', 'import ot, numpy'], { stdio: 'ignore' });
    return py;
  } catch {
    return undefined;
  }
}

async function benchPot(): Promise<void> {
  const py = python();
  const dir = mkdtempSync(join(tmpdir(), 'ot-bench-'));
  try {
    const save = (name: string, a: Float64Array) => {
      const p = join(dir, name);
      writeFileSync(p, Buffer.from(a.buffer, a.byteOffset, a.byteLength));
      return p;
    };
    // Matrix Sinkhorn: N = M = 500 (FULL: 1000) points in the unit square, C = |x − y|² (POT's ot.dist), fixed
    // iterations.
    const n = quick ? 200 : full ? 1000 : 500;
    const iters = quick ? 20 : 100;
    const reg = 0.05;
    const px = lcg(2 * n, 11);
    const py2 = lcg(2 * n, 12);
    const M = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++)
        M[i * n + j] = (px[2 * i]! - py2[2 * j]!) ** 2 + (px[2 * i + 1]! - py2[2 * j + 1]!) ** 2;
    }
    const u = new Float64Array(n).fill(1 / n);
    // Clouds for the divergence: two 2-D Gaussians-ish (sums of uniforms), N = M = 500.
    const nd = quick ? 100 : 500;
    const gx = Float64Array.from(lcg(2 * nd, 21), (v, k) => v + lcg(1, 31 + k)[0]! - 1);
    const gy = Float64Array.from(lcg(2 * nd, 22), (v, k) => 0.5 + v + lcg(1, 41 + k)[0]! - 1);
    const eps = 0.05; // ours: C = ½|x − y|², ε = blur² = 0.05  ≡  POT: |x − y|², reg = 2ε = 0.1
    const tasks = [
      ...(['sinkhorn', 'sinkhorn_log'] as const).map((method) => ({
        kind: 'sinkhorn',
        name: `ot.sinkhorn(method='${method}') N=M=${n}, ${iters} its`,
        method,
        a: save('a', u),
        b: save('b', u),
        M: save('M', M),
        n,
        m: n,
        reg,
        iters,
        reps: 3,
      })),
      {
        kind: 'empirical_divergence',
        name: `ot.bregman.empirical_sinkhorn_divergence N=M=${nd}, 2-D`,
        x: save('x', gx),
        y: save('y', gy),
        n: nd,
        m: nd,
        d: 2,
        reg: 2 * eps,
        stopThr: 1e-9,
        numIterMax: 10000,
        reps: 3,
      },
      {
        kind: 'geomloss_tensorized',
        name: `geomloss tensorized N=M=${nd}, 2-D`,
        x: save('x', gx),
        y: save('y', gy),
        n: nd,
        m: nd,
        d: 2,
        blur: Math.sqrt(eps),
        scaling: 0.5,
        reps: 3,
      },
    ];
    let pot:
      | {
          versions: Record<string, string>;
          results: { name: string; median_ms: number; value: number; impl?: string; n_eps?: number }[];
        }
      | undefined;
    if (py) {
      writeFileSync(join(dir, 'tasks.json'), JSON.stringify({ tasks }));
      const r = spawnSync(py, [join(here, 'pot_baseline.py'), join(dir, 'tasks.json')], { encoding: 'utf8' });
      if (r.status === 0) pot = JSON.parse(r.stdout);
      else console.log(`POT baseline failed: ${r.stderr}`);
    } else {
      console.log('POT is not importable by /usr/bin/python3 (set BENCH_PYTHON): POT ratios skipped');
    }
    if (pot) extra.pot = pot.versions;
    for (const [k, method] of (['standard', 'log'] as const).entries()) {
      let value = 0;
      const ms = await time(() => {
        const r = sinkhorn(u, u, { data: M, rows: n, cols: n }, reg, { method, maxIter: iters, tol: 0 });
        value = r.transportCost;
      }, 3);
      const ref = pot?.results[k];
      log({
        section: 'pot',
        backend: 'cpu',
        case: `sinkhorn(method '${method}') N=M=${n}, ${iters} its`,
        ms,
        note: ref
          ? `POT ${ref.median_ms.toFixed(2)} ms, ratio ours/POT = ${(ms / ref.median_ms).toFixed(2)} (<1: faster); ⟨P,C⟩ ${value.toPrecision(10)} vs POT ${ref.value.toPrecision(10)}`
          : 'POT unavailable',
      });
    }
    let div = samplesLoss({ data: gx, n: nd, d: 2 }, { data: gy, n: nd, d: 2 }, { blur: Math.sqrt(eps), tol: 1e-9 });
    const ms = await time(() => {
      div = samplesLoss({ data: gx, n: nd, d: 2 }, { data: gy, n: nd, d: 2 }, { blur: Math.sqrt(eps), tol: 1e-9 });
    }, 3);
    const ref = pot?.results.find((r) => r.name.startsWith('ot.bregman'));
    log({
      section: 'pot',
      backend: 'cpu',
      case: `samplesLoss (sinkhorn, ε-scaling + stop at 1e-9) N=M=${nd}, 2-D`,
      ms,
      note: ref
        ? `POT ${ref.median_ms.toFixed(2)} ms, ratio ours/POT = ${(ms / ref.median_ms).toFixed(2)}; S_ε ${div.value.toPrecision(8)} (KL, ½|x−y|²; ${div.iterations} its, converged ${div.converged}) vs POT ${ref.value.toPrecision(8)} (linear part, |x−y|², clamped at 0): different quantities, see README`
        : 'POT unavailable',
    });
    // geomloss's own computation (tensorized backend, float64, same ε schedule, no stopping rule): value and gradients.
    const gl = { blur: Math.sqrt(eps), scaling: 0.5, geomlossCompatible: true } as const;
    let same = samplesLoss({ data: gx, n: nd, d: 2 }, { data: gy, n: nd, d: 2 }, gl);
    const msGl = await time(() => {
      same = samplesLoss({ data: gx, n: nd, d: 2 }, { data: gy, n: nd, d: 2 }, gl);
    }, 3);
    const refGl = pot?.results.find((r) => r.name.startsWith('geomloss'));
    log({
      section: 'pot',
      backend: 'cpu',
      case: `samplesLoss (geomlossCompatible, value + gradients) N=M=${nd}, 2-D`,
      ms: msGl,
      note: refGl
        ? `${refGl.impl} ${refGl.median_ms.toFixed(2)} ms, ratio ours/geomloss = ${(msGl / refGl.median_ms).toFixed(2)} (<1: faster); S_ε ${same.value.toPrecision(12)} (${same.epsList.length} ε) vs ${refGl.value.toPrecision(12)} (${refGl.n_eps} ε)`
        : 'geomloss baseline unavailable (needs torch in BENCH_PYTHON)',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------------------------------------------------------
// 2. CPU/GPU crossover for FairCLIP's small 1-D problems

/**
 * Value and gradient w.r.t. the shared batch cloud x of Σ_k f_k, read back. The upstream gradient is passed as `dy`
 * (ones) instead of differentiating tf.sum: in plain Node tfjs-core's gradient registry is not loaded (see
 * @fairclip/compute's README), and the ops' own custom gradients need nothing else.
 */
async function gradStep(problems: DivergenceProblem[], f: (pb: DivergenceProblem[]) => tf.Tensor1D): Promise<void> {
  const xs = problems[0]!.x;
  const dy = tf.ones([problems.length]);
  const g = tf.grad((x: tf.Tensor) => f(problems.map((p) => ({ ...p, x }))))(xs, dy);
  await g.data();
  tf.dispose([g, dy]);
}

async function benchCrossover(name: BackendName, handle: ComputeHandle): Promise<void> {
  const software = handle.adapterInfo?.software ?? false;
  // tfjs' cpu/wasm kernels are far slower than the float64 core: two sizes show it.
  const sizes = process.env.BENCH_SIZES
    ? process.env.BENCH_SIZES.split(',').map(Number)
    : name !== 'webgpu'
      ? [32, 128]
      : quick || software
        ? full
          ? [32, 128, 512]
          : [32, 128]
        : [32, 128, 512, 2048, 8192];
  const K = 3;
  const blur = 1e-4;
  const crossover: { n: number; exactCpuMs: number; geomlossCpuMs: number | undefined; deviceMs: number }[] = [];
  for (const n of sizes) {
    const x = tf.tensor1d(Float32Array.from(lcg(n, 100 + n, 20, 30)));
    const ys = Array.from({ length: K }, (_, k) => tf.tensor1d(Float32Array.from(lcg(n, 200 + 7 * k + n, 18, 31))));
    const problems = ys.map((y) => ({ x, y }));
    const reps = n >= 2048 ? 3 : 5;
    const routed = await time(async () => {
      const sol = await solveDivergence(problems, { blur, engine: 'cpu-f64' });
      await gradStep(problems, (pb) => divergenceFromSolution(pb, sol));
    }, reps);
    // geomloss's schedule in float64 costs K·N²·(4·iterations) exponentials: only up to N = 2048.
    const geomloss =
      n <= 2048
        ? await time(
            async () => {
              const sol = await solveDivergence(problems, { blur, engine: 'cpu-f64', geomlossCompatible: true });
              await gradStep(problems, (pb) => divergenceFromSolution(pb, sol));
            },
            n >= 512 ? 1 : reps,
            n >= 2048 ? 0 : 1,
          )
        : undefined;
    const device = await time(
      () =>
        gradStep(problems, (pb) =>
          sinkhornDivergenceMany(pb, { blur, engine: 'tensor', diameter: 13, geomlossCompatible: true }),
        ),
      n >= 2048 ? 3 : reps,
    );
    const label = `${K}×(1-D, N=M=${n}) value+grad`;
    log({ section: 'crossover', backend: name, case: `${label}: read back + exact 1-D (float64)`, ms: routed });
    if (geomloss !== undefined) {
      log({
        section: 'crossover',
        backend: name,
        case: `${label}: read back + geomloss schedule (float64)`,
        ms: geomloss,
      });
    }
    log({
      section: 'crossover',
      backend: name,
      case: `${label}: tensor engine on ${name} (float32, geomloss schedule)`,
      ms: device,
      note: `ratio device/exact-CPU = ${(device / routed).toFixed(2)}${geomloss === undefined ? '' : `, device/geomloss-CPU = ${(device / geomloss).toFixed(2)}`}${software ? ' (software adapter: not GPU figures)' : ''}`,
    });
    crossover.push({ n, exactCpuMs: routed, geomlossCpuMs: geomloss, deviceMs: device });
    if (n === sizes[0]) {
      // Per-dispatch overhead: one fused soft-min on [K, N, 1] (read back), and 100 of them before one read.
      const x3 = tf.reshape(tf.stack(ys), [K, n, 1]) as tf.Tensor3D;
      const h = tf.zeros([K, n]) as tf.Tensor2D;
      const one = await time(async () => {
        const f = softminBatched(x3, x3, h, 0.01);
        await f.data();
        f.dispose();
      }, 10);
      const hundred = await time(async () => {
        let f = softminBatched(x3, x3, h, 0.01);
        for (let i = 0; i < 99; i++) {
          const g = softminBatched(x3, x3, h, 0.01);
          f.dispose();
          f = g;
        }
        await f.data();
        f.dispose();
      }, 3);
      log({
        section: 'crossover',
        backend: name,
        case: `dispatch overhead: 1 fused soft-min [${K},${n},1] + read / 100 + read`,
        ms: one,
        note: `100 soft-mins: ${hundred.toFixed(2)} ms (${(hundred / 100).toFixed(3)} ms each)`,
      });
      tf.dispose([x3, h]);
      if (process.env.BENCH_PROFILE === '1') {
        for (const tensorCost of ['dense', 'online'] as const) {
          const o = { blur, engine: 'tensor' as const, diameter: 13, geomlossCompatible: true, tensorCost };
          const fwd = await time(async () => {
            const v = sinkhornDivergenceMany(problems, o);
            await v.data();
            v.dispose();
          }, 3);
          const info = await tf.profile(async () => {
            const v = sinkhornDivergenceMany(problems, o);
            await v.data();
            v.dispose();
          });
          const counts = new Map<string, number>();
          for (const k of info.kernels) counts.set(k.name, (counts.get(k.name) ?? 0) + 1);
          const top = [...counts.entries()].sort((p1, p2) => p2[1] - p1[1]).slice(0, 8);
          log({
            section: 'crossover',
            backend: name,
            case: `profile: forward only (${tensorCost}), ${info.kernels.length} kernels`,
            ms: fwd,
            note: top.map(([k, c]) => `${k}×${c}`).join(' '),
          });
        }
      }
    }
    tf.dispose([x, ...ys]);
  }
  const vsExact = crossover.find((c) => c.deviceMs < c.exactCpuMs);
  const vsGeomloss = crossover.find((c) => c.geomlossCpuMs !== undefined && c.deviceMs < c.geomlossCpuMs);
  const last = sizes.at(-1)!;
  const summary = [
    vsExact
      ? `${name}: the device first beats read-back + exact 1-D at N = ${vsExact.n}: configureRouting({ gpuMinEntries: ${K * vsExact.n ** 2} })`
      : `${name}: the device never beats read-back + exact 1-D up to N = ${last}: keep 1-D problems on the CPU (gpuMinEntries >= ${K * last ** 2})`,
    vsGeomloss
      ? `${name}: against geomloss's schedule in float64 (2-D+ or geomlossCompatible problems) the device wins from N = ${vsGeomloss.n} (K·N² = ${K * vsGeomloss.n ** 2})`
      : `${name}: against geomloss's schedule in float64 the device never wins in the sizes measured`,
  ];
  for (const line of summary) console.log(`  crossover: ${line}`);
  const all = (extra.crossover as Record<string, unknown> | undefined) ?? {};
  all[name] = { software, points: crossover, summary };
  extra.crossover = all;
}

// ------------------------------------------------------------------------------------------------------------------
// 3. Online kernel at large N (WebGPU)

async function benchOnline(handle: ComputeHandle): Promise<void> {
  const software = handle.adapterInfo?.software ?? false;
  const sizes = software || quick ? [1000] : [10_000, 100_000, 1_000_000];
  const d = 3;
  for (const n of sizes) {
    const x = tf.tensor2d(Float32Array.from(lcg(n * d, 7 + n)), [n, d]);
    const y = tf.tensor2d(Float32Array.from(lcg(n * d, 8 + n, 0.2, 1.2)), [n, d]);
    const h = tf.fill([n], -Math.log(n)) as tf.Tensor1D;
    const up = [tf.sum(x), tf.sum(y)];
    await Promise.all(up.map((t) => t.data()));
    tf.dispose(up);
    handle.resetBufferStats();
    const read = async (t: tf.Tensor) => {
      await t.data();
      t.dispose();
    };
    const reps = n >= 1_000_000 ? 1 : 3;
    const one = await time(() => read(softmin(x, y, h, 0.0025)), reps);
    const label = `N=M=${n}, D=3${software ? ' (software adapter: reduced N, not GPU figures)' : ''}`;
    log({
      section: 'online',
      backend: 'webgpu',
      case: `fused online soft-min, one pass, ${label}`,
      ms: one,
      note: `${((n * n) / one / 1e6).toFixed(2)} Gpairs/s (published OTT reference, RTX 2080 Ti, not this run: 36 Gpairs/s)`,
    });
    if (n <= 100_000) {
      let info: unknown;
      const ones = tf.ones([1]);
      const full = await time(
        async () => {
          const g = tf.grad((xx: tf.Tensor) =>
            sinkhornDivergenceMany([{ x: xx, y }], {
              blur: 0.05,
              scaling: 0.5,
              engine: 'tensor',
              tensorCost: 'online',
              diameter: Math.sqrt(3) * 1.2,
              onInfo: (i) => (info = i[0]),
            }),
          )(x, ones);
          await g.data();
          g.dispose();
        },
        1,
        n >= 100_000 ? 0 : 1,
      );
      ones.dispose();
      const its = (info as { iterations: number } | undefined)?.iterations ?? 0;
      log({
        section: 'online',
        backend: 'webgpu',
        case: `divergence value + gradient (online, ${its} its), ${label}`,
        ms: full,
      });
    }
    const stats = handle.bufferStats();
    const nm = n * n * 4;
    extra[`online_${n}`] = { largestBytes: stats.largestBytes, nTimesMBytes: nm, linear: stats.largestBytes < nm };
    console.log(
      `  largest GPU buffer ${stats.largestBytes} B vs N·M·4 = ${nm} B: ${stats.largestBytes < nm ? 'linear memory' : 'N×M BUFFER'}`,
    );
    tf.dispose([x, y, h]);
  }
}

async function main(): Promise<void> {
  if (sections.has('pot')) await benchPot();
  // Crossover and online: WebGPU by default (the CPU paths are timed there too, reading back from the GPU); wasm when
  // there is no adapter at all.
  const wanted = (process.env.BENCH_BACKENDS ?? 'webgpu').split(',') as BackendName[];
  if (sections.has('crossover') || sections.has('online')) {
    const queue = [...wanted];
    for (let i = 0; i < queue.length; i++) {
      const name = queue[i]!;
      let handle: ComputeHandle;
      try {
        handle = await initCompute({ backend: name, allowSoftwareAdapter: true });
      } catch (err) {
        console.log(`${name}: unavailable (${(err as Error).message.split('. ')[0]})`);
        if (name === 'webgpu' && process.env.REQUIRE_WEBGPU === '1') throw err;
        if (name === 'webgpu' && !queue.includes('wasm')) queue.push('wasm');
        continue;
      }
      if (name === 'webgpu' && process.env.BENCH_CPU_FORWARD === '0') tf.env().set('WEBGPU_CPU_FORWARD', false);
      if (handle.adapterInfo) {
        console.log(`webgpu adapter: ${describeAdapter(handle.adapterInfo)}`);
        extra.adapter = handle.adapterInfo;
      }
      if (sections.has('crossover')) await benchCrossover(name, handle);
      if (sections.has('online') && name === 'webgpu') await benchOnline(handle);
      await handle.dispose();
    }
  }
  if (process.env.BENCH_OUT) {
    writeFileSync(process.env.BENCH_OUT, `${JSON.stringify({ rows, ...extra, node: process.version }, null, 2)}\n`);
  }
}

await main();
