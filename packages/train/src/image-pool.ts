// Decoding and preprocessing of the run's images off the main thread: a small pool of worker_threads that read a
// sample's file and run FairCLIP's exact preprocessing, while the main thread runs the model's kernels. The main
// thread takes part too, but only for an image someone is waiting for (a batch being assembled), so that it never
// delays its own work for read-ahead.
//
// Results are the same bytes as the in-thread path: a worker runs the same functions (@fairclip/io's npz reader,
// @fairclip/datasets' toFloatImage, @fairclip/clip's preprocessing). A job that fails in a worker is run again in
// the main thread by the caller's own loader, so every error keeps its type, code and message.
//
// The module is its own worker: `new Worker(<this module's URL>, { workerData: { fairclipImageWorker: true } })`
// (from source, through tsx; from dist, the bundle that holds it), so no separate build entry is needed.
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { type ImageU8, PreprocessError, preprocessGrayFloat, preprocessRgb } from '@fairclip/clip';
import { toFloatImage } from '@fairclip/datasets';
import { readNpzFileAsync } from '@fairclip/io';

/** What a worker needs to produce one preprocessed FairVLMed image (float32 [3, resolution, resolution], CHW). */
export interface FairVlmedImageJob {
  kind: 'fairvlmed';
  /** The sample's npz file. */
  path: string;
  /** The dataset's cap on the image entry (FairVlmedSplit.maxSampleBytes). */
  maxSampleBytes: number;
  resolution: number;
  resize: 'shorter-side' | 'square';
}

export type ImageJob = FairVlmedImageJob;

/**
 * PIL's conversion of a mode-"F" image to "L" (and so to "RGB", three equal channels): values at or below 0 become 0,
 * at or above 255 become 255, the rest are truncated toward zero. NaN is refused.
 */
export function grayFloatToU8(data: Float32Array, height: number, width: number): ImageU8 {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v <= 0) out[i] = 0;
    else if (v >= 255) out[i] = 255;
    else if (v > 0) out[i] = Math.trunc(v);
    else
      throw new PreprocessError(
        'NON_FINITE',
        `NaN at row ${Math.floor(i / width)}, column ${i % width} before the 8-bit conversion`,
      );
  }
  return { data: out, height, width, channels: 1 };
}

/**
 * The preprocessing of a FairVLMed float image as SplitData.image does it: FairCLIP's pipeline on the float image
 * ('shorter-side'), or the linear probe's evaluation transform on its 8-bit conversion ('square').
 */
export function preprocessFairVlmedImage(
  data: Float32Array,
  height: number,
  width: number,
  resolution: number,
  resize: 'shorter-side' | 'square',
): Float32Array {
  if (resize === 'square') return preprocessRgb(grayFloatToU8(data, height, width), { size: resolution, resize });
  return preprocessGrayFloat({ data, height, width }, { size: resolution, resize });
}

/** Runs one job in the calling thread (what a worker does with it). */
export async function runImageJob(job: ImageJob): Promise<Float32Array> {
  const arrays = await readNpzFileAsync(job.path, ['slo_fundus'], { maxEntryBytes: job.maxSampleBytes });
  const img = arrays.get('slo_fundus');
  if (!img) throw new Error(`${job.path}: no array 'slo_fundus'`);
  const f = toFloatImage(img, job.path);
  return preprocessFairVlmedImage(f.data, f.shape[0], f.shape[1], job.resolution, job.resize);
}

// ------------------------------------------------------------------------------------------------ the worker side

interface Request {
  id: number;
  job: ImageJob;
}
type Reply =
  | { id: number; ok: true; data: Float32Array }
  | { id: number; ok: false; message: string }
  | { id: 0; ready: true };

const WORKER_FLAG = 'fairclipImageWorker';

if (!isMainThread && parentPort && (workerData as Record<string, unknown> | null)?.[WORKER_FLAG] === true) {
  const port = parentPort;
  port.on('message', (req: Request) => {
    runImageJob(req.job).then(
      (data) => {
        // A fresh array owns its buffer: transfer it instead of copying.
        const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
        port.postMessage({ id: req.id, ok: true, data: own } satisfies Reply, [own.buffer as ArrayBuffer]);
      },
      (e: unknown) =>
        port.postMessage({
          id: req.id,
          ok: false,
          message: String((e as Error)?.message ?? e).slice(0, 300),
        } satisfies Reply),
    );
  });
  port.postMessage({ id: 0, ready: true });
}

// ------------------------------------------------------------------------------------------------ the main side

/** A job handed to the pool: what a worker runs, and how the main thread produces the same result itself. */
interface Task {
  job: ImageJob;
  local: () => Promise<Float32Array>;
  resolve: (v: Float32Array) => void;
  reject: (e: unknown) => void;
  /** Someone awaits it (a batch being assembled): it goes first, and the main thread may run it itself. */
  demanded: boolean;
  started: boolean;
}

interface Slot {
  worker: Worker;
  task: Task | null;
  ready: boolean;
}

/** Worker count from the environment (FAIRCLIP_IMAGE_WORKERS) or the machine: one core is the main thread's. */
export function defaultImageWorkers(): number {
  const env = process.env.FAIRCLIP_IMAGE_WORKERS;
  if (env !== undefined && env.trim() !== '') {
    const n = Number(env);
    if (Number.isInteger(n) && n >= 0 && n <= 64) return n;
  }
  return Math.max(0, Math.min(4, availableParallelism() - 1));
}

function workerUrl(): URL {
  return new URL(import.meta.url);
}

/**
 * Worker threads for image jobs. Workers start on the first job, are unref'd (they never keep the process alive)
 * and stop after `idleMs` without work; a worker that fails to start or dies turns the pool into the in-thread path
 * (every task runs in the main thread). Tasks queue without bound but hold only their descriptions; at most one task
 * runs per worker, plus one in the main thread when a task is awaited.
 */
export class ImagePool {
  readonly size: number;
  private readonly idleMs: number;
  private slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private localBusy = false;
  private broken = false;
  private idleTimer: NodeJS.Timeout | null = null;
  private nextId = 1;
  private readonly byId = new Map<number, { slot: Slot; task: Task }>();
  /** Tasks run by workers and by the main thread (for tests and benchmarks). */
  readonly counts = { worker: 0, local: 0, retried: 0 };

  constructor(size = defaultImageWorkers(), options: { idleMs?: number } = {}) {
    this.size = size;
    this.idleMs = options.idleMs ?? 10_000;
  }

  /** Queues a task; the promise settles with the worker's result, or the local one if the worker's failed. */
  submit(job: ImageJob, local: () => Promise<Float32Array>, demanded: boolean): PoolTicket {
    let resolve!: (v: Float32Array) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<Float32Array>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const task: Task = { job, local, resolve, reject, demanded, started: false };
    if (this.size === 0 || this.broken) {
      this.runLocal(task);
    } else {
      if (demanded) this.queue.splice(this.firstUndemanded(), 0, task);
      else this.queue.push(task);
      this.pump();
    }
    return {
      promise,
      demand: () => {
        if (task.demanded || task.started) return;
        task.demanded = true;
        const at = this.queue.indexOf(task);
        if (at >= 0) {
          this.queue.splice(at, 1);
          this.queue.splice(this.firstUndemanded(), 0, task);
        }
        this.pump();
      },
    };
  }

  /** Terminates the workers (queued tasks then run in the main thread when awaited). */
  async close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const slots = this.slots;
    this.slots = [];
    for (const s of slots) this.requeue(s);
    await Promise.all(slots.map((s) => s.worker.terminate()));
    this.pump();
  }

  /** Live worker threads (0 once idle or closed). */
  get workers(): number {
    return this.slots.length;
  }

  private firstUndemanded(): number {
    const i = this.queue.findIndex((t) => !t.demanded);
    return i < 0 ? this.queue.length : i;
  }

  private runLocal(task: Task): void {
    task.started = true;
    this.counts.local++;
    task.local().then(task.resolve, task.reject);
  }

  private pump(): void {
    if (this.broken) {
      // Everything left runs in the main thread, awaited or not (the workers are gone).
      for (const t of this.queue.splice(0)) this.runLocal(t);
      return;
    }
    if (this.queue.length > 0 && this.slots.length < this.size) this.spawn();
    for (const slot of this.slots) {
      if (!slot.ready || slot.task || this.queue.length === 0) continue;
      this.dispatch(slot, this.queue.shift()!);
    }
    // The main thread helps with one awaited task at a time (it would otherwise wait).
    if (!this.localBusy && this.queue[0]?.demanded) {
      const task = this.queue.shift()!;
      this.localBusy = true;
      task.started = true;
      this.counts.local++;
      task
        .local()
        .then(task.resolve, task.reject)
        .finally(() => {
          this.localBusy = false;
          this.pump();
        });
    }
    this.armIdle();
  }

  private spawn(): void {
    const flags = import.meta.url.endsWith('.ts')
      ? // From source (vitest, tsx): the worker loads this TypeScript module through tsx, with the workspace's
        // source export condition.
        {
          eval: true as const,
          execArgv: ['--conditions=@fairclip/source'],
          code: `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(workerUrl().href)}); })`,
        }
      : { eval: false as const, execArgv: [] as string[], code: workerUrl() };
    let worker: Worker;
    try {
      worker = new Worker(flags.code, {
        eval: flags.eval,
        execArgv: flags.execArgv,
        workerData: { [WORKER_FLAG]: true },
        stdout: false,
        stderr: false,
      });
    } catch {
      this.fail();
      return;
    }
    worker.unref();
    const slot: Slot = { worker, task: null, ready: false };
    this.slots.push(slot);
    worker.on('message', (reply: Reply) => {
      if ('ready' in reply) {
        // The module is loaded and listening (from source, tsx has compiled it): tasks may go to this worker.
        slot.ready = true;
        this.pump();
        return;
      }
      const entry = this.byId.get(reply.id);
      if (!entry) return;
      this.byId.delete(reply.id);
      slot.task = null;
      if (reply.ok) {
        this.counts.worker++;
        entry.task.resolve(reply.data);
      } else {
        // The main thread runs it again with the caller's own loader: its error is the one to report.
        this.counts.retried++;
        entry.task.local().then(entry.task.resolve, entry.task.reject);
      }
      this.pump();
    });
    worker.on('error', () => this.lose(slot));
    worker.on('exit', () => this.lose(slot));
  }

  private dispatch(slot: Slot, task: Task): void {
    const id = this.nextId++;
    task.started = true;
    slot.task = task;
    this.byId.set(id, { slot, task });
    slot.worker.postMessage({ id, job: task.job } satisfies Request);
  }

  /** Puts a lost worker's task back (unstarted) at the front of the queue. */
  private requeue(slot: Slot): void {
    for (const [id, e] of this.byId)
      if (e.slot === slot) {
        this.byId.delete(id);
        e.task.started = false;
        this.queue.unshift(e.task);
      }
    slot.task = null;
  }

  private lose(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.slots.splice(i, 1);
    // The task it ran (if any) runs in the main thread: a task that kills its worker must not kill the next one.
    for (const [id, e] of this.byId)
      if (e.slot === slot) {
        this.byId.delete(id);
        this.counts.retried++;
        e.task.local().then(e.task.resolve, e.task.reject);
      }
    slot.task = null;
    // A worker that never got ready cannot start here (no tsx, a bundler without this module): stay in-thread.
    if (!slot.ready) this.fail();
    else this.pump();
  }

  private fail(): void {
    this.broken = true;
    this.pump();
  }

  private armIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (this.slots.length === 0 || this.queue.length > 0 || this.byId.size > 0) return;
    this.idleTimer = setTimeout(() => {
      if (this.queue.length === 0 && this.byId.size === 0) void this.close();
    }, this.idleMs);
    this.idleTimer.unref();
  }
}

export interface PoolTicket {
  promise: Promise<Float32Array>;
  /** Marks the task awaited: it jumps the queue, and the main thread may run it. */
  demand(): void;
}

let shared: ImagePool | undefined;

/** The process's pool (FAIRCLIP_IMAGE_WORKERS or the core count), created on first use. */
export function sharedImagePool(): ImagePool {
  shared ??= new ImagePool();
  return shared;
}
