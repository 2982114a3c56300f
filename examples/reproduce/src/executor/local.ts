/**
 * The local executor's parallel mode (`--jobs N`): the unfinished entries of the plan run in up to N child processes
 * (`fairclip-reproduce --run-entry <plan> <index>`, ./worker.ts), each with the sequential app's guarantees. The
 * children's messages are forwarded line by line to the app's stderr, their progress bars (on a descriptor of their
 * own, see workerIo) to the app's progress stream, and one line per run says when it starts and ends. After a failure
 * no new run starts; the running ones finish (their work is kept), then the failures are listed.
 */
import { spawn } from 'node:child_process';
import { availableParallelism, freemem } from 'node:os';
import type { Io } from '@fairclip/example-common';
import { clip } from '@fairclip/example-common';
import {
  entryName,
  type PlanEntry,
  PROGRESS_FD_ENV,
  planFile,
  type RunPlan,
  readStatus,
  workerCommand,
} from './plan.ts';

/** Peak resident memory of one run of the embedded default (tiny CLIP, wasm), rounded up: 0.3 to 0.75 GB measured. */
export const EMBEDDED_RUN_BYTES = 1024 ** 3;
/** A conservative per-run estimate for real data and weights (ViT-B/16 fine-tuning on the CPU backends). */
export const LARGE_RUN_BYTES = 8 * 1024 ** 3;

/** Memory that can still be used: free memory, bounded by the cgroup limit where there is one. */
function availableMemory(): number {
  const p = process as { availableMemory?: () => number };
  const limit = typeof p.availableMemory === 'function' ? p.availableMemory() : Number.POSITIVE_INFINITY;
  return Math.min(freemem(), limit > 0 ? limit : Number.POSITIVE_INFINITY);
}

/**
 * The default number of parallel runs: 1 on WebGPU (one device shared by every run), otherwise
 * min(cores, floor(available memory / per-run estimate)), at least 1.
 */
export function defaultJobs(
  backend: string,
  embedded: boolean,
  system = { cores: availableParallelism(), memory: availableMemory() },
): { jobs: number; why: string } {
  if (backend === 'webgpu') return { jobs: 1, why: 'WebGPU: the runs share one device' };
  const per = embedded ? EMBEDDED_RUN_BYTES : LARGE_RUN_BYTES;
  const byMemory = Math.floor(system.memory / per);
  const jobs = Math.max(1, Math.min(system.cores, byMemory));
  const gb = (b: number) => (b / 1024 ** 3).toFixed(1);
  return {
    jobs,
    why: `${system.cores} cores, ${gb(system.memory)} GB free at ${gb(per)} GB per run`,
  };
}

export interface LocalOutcome {
  /** The entries whose run ended in a child, with its exit code (0 = finished). */
  codes: Map<number, number>;
  /** The last error line of each failed entry. */
  messages: Map<number, string>;
}

/** Splits a stream into lines (the last partial line is kept until the next chunk or the end). */
function lines(onLine: (line: string) => void): { push(chunk: string): void; end(): void } {
  let rest = '';
  return {
    push(chunk) {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const l of parts) onLine(l);
    },
    end() {
      if (rest !== '') onLine(rest);
      rest = '';
    },
  };
}

/** Runs the given entries of a written plan in up to `jobs` child processes. */
export async function runLocal(
  plan: RunPlan,
  entries: readonly PlanEntry[],
  jobs: number,
  io: Io,
  opts: { quiet: boolean; total: number; done: number },
): Promise<LocalOutcome> {
  const cmd = workerCommand();
  const file = planFile(plan.out);
  const codes = new Map<number, number>();
  const messages = new Map<number, string>();
  const queue = [...entries];
  const started = Date.now();
  let done = opts.done;
  let finishedHere = 0;
  let failed = false;
  const progress = opts.quiet ? null : (io.progress ?? process.stderr);

  const runOne = (e: PlanEntry): Promise<void> =>
    new Promise((resolvePromise, reject) => {
      const t0 = Date.now();
      io.stderr(`[${done}/${opts.total} runs] ${entryName(e)}: started (run ${e.index} of the plan)`);
      const child = spawn(cmd[0] as string, [...cmd.slice(1), '--run-entry', file, String(e.index)], {
        stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
        env: { ...process.env, [PROGRESS_FD_ENV]: '3' },
      });
      // the line that says what went wrong when the child dies before its status file can: the last error line
      let last = '';
      const err = lines((l) => {
        if (/\b\w*Error\b|^fairclip-reproduce: /.test(l) || last === '') last = l.trim();
        io.stderr(l);
      });
      const out = lines((l) => io.stderr(l));
      const bar = lines((l) => progress?.write(`${l}\n`));
      child.stdout?.setEncoding('utf8').on('data', (c: string) => out.push(c));
      child.stderr?.setEncoding('utf8').on('data', (c: string) => err.push(c));
      const fd3 = child.stdio[3] as NodeJS.ReadableStream | null;
      fd3?.setEncoding('utf8');
      fd3?.on('data', (c: string) => bar.push(c));
      child.on('error', reject);
      child.on('close', (code, signal) => {
        err.end();
        out.end();
        bar.end();
        const c = code ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
        codes.set(e.index, c);
        done++;
        const secs = Math.round((Date.now() - t0) / 1000);
        if (c === 0) {
          finishedHere++;
          const elapsed = (Date.now() - started) / 1000;
          const left = opts.total - done;
          const eta = left > 0 ? ` · eta ${Math.round((elapsed / finishedHere) * Math.ceil(left / jobs))} s` : '';
          io.stderr(`[${done}/${opts.total} runs${eta}] ${entryName(e)}: finished in ${secs} s`);
        } else {
          failed = true;
          const message = readStatus(plan.out, e.index)?.message ?? last;
          messages.set(e.index, clip(message, 300));
          io.stderr(`[${done}/${opts.total} runs] ${entryName(e)}: failed (exit code ${c}) after ${secs} s`);
        }
        resolvePromise();
      });
    });

  const lane = async () => {
    for (;;) {
      if (failed) return;
      const e = queue.shift();
      if (e === undefined) return;
      await runOne(e);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, entries.length) }, lane));
  return { codes, messages };
}
