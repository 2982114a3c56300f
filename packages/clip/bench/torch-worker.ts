// A long-lived PyTorch process (bench/torch_worker.py) answering one command per line, so that interpreter and model
// start-up are outside the timings and both sides are measured in the same run.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import type { ClipConfig } from '../src/index.ts';

export class TorchWorker {
  private readonly proc: ChildProcessWithoutNullStreams;
  private buffer = '';
  private readonly waiting: ((line: string) => void)[] = [];
  /** Resolves with the worker's first line: 'ready <torch version> <device> <threads>'. */
  readonly ready: Promise<string>;

  /** `threads`: torch.set_num_threads (CPU), or torch's own default when undefined. */
  constructor(python: string, script: string, config: ClipConfig, device = 'cpu', threads?: number) {
    this.proc = spawn(python, [script, JSON.stringify(config), device, ...(threads ? [String(threads)] : [])]);
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (chunk: string) => {
      this.buffer += chunk;
      let i = this.buffer.indexOf('\n');
      while (i >= 0) {
        const line = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 1);
        this.waiting.shift()?.(line);
        i = this.buffer.indexOf('\n');
      }
    });
    this.ready = new Promise((resolve, reject) => {
      this.waiting.push(resolve);
      this.proc.on('error', reject);
      this.proc.on('exit', (code) => reject(new Error(`torch worker exited with code ${code}`)));
    });
  }

  /** 'infer B' or 'train B'; resolves when the step is done. */
  run(command: string): Promise<string> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.proc.stdin.write(`${command}\n`);
    });
  }

  stop(): void {
    this.proc.stdin.end('quit\n');
  }
}

/** Starts a worker, or returns undefined (with the reason logged) when Python/torch is unavailable. */
export async function startTorchWorker(
  python: string,
  script: string,
  config: ClipConfig,
  device = 'cpu',
  threads?: number,
): Promise<{ worker: TorchWorker; info: string } | undefined> {
  try {
    const worker = new TorchWorker(python, script, config, device, threads);
    const info = await worker.ready;
    return { worker, info };
  } catch (e) {
    console.warn(`[bench] no PyTorch ${device} baseline: ${(e as Error).message}`);
    return undefined;
  }
}
