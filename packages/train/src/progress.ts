// A progress bar for long runs: step / total, named values (loss terms), throughput and ETA.
// On a TTY it redraws one line; elsewhere (CI, files) it prints a line at most every `minIntervalMs`.

export interface ProgressOptions {
  label: string;
  total: number;
  /** Unit of throughput, e.g. 'samples' (default 'steps'). */
  unit?: string;
  stream?: { write(s: string): unknown; isTTY?: boolean };
  minIntervalMs?: number;
  now?: () => number;
  /** Disable all output (tests, library use). */
  silent?: boolean;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(sec).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

function formatValue(v: number): string {
  if (!Number.isFinite(v) || Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toFixed(4);
}

export class Progress {
  private readonly opts: Required<Omit<ProgressOptions, 'stream'>> & { stream: NonNullable<ProgressOptions['stream']> };
  private readonly start: number;
  private done = 0;
  private units = 0;
  private lastPrint = -Infinity;
  /** Steps done when the last line was printed (finish() does not repeat an up-to-date line off a TTY). */
  private printedDone = -1;
  private values: Record<string, number> = {};

  constructor(opts: ProgressOptions) {
    this.opts = {
      unit: 'steps',
      stream: process.stderr,
      minIntervalMs: 2000,
      now: () => performance.now(),
      silent: false,
      ...opts,
    };
    this.start = this.opts.now();
  }

  /** Records `steps` finished steps (and `units` of throughput, default = steps) with the latest values. */
  tick(steps = 1, values: Record<string, number> = {}, units = steps): void {
    this.done += steps;
    this.units += units;
    this.values = { ...this.values, ...values };
    const t = this.opts.now();
    const tty = Boolean(this.opts.stream.isTTY);
    if (this.done >= this.opts.total || t - this.lastPrint >= (tty ? 100 : this.opts.minIntervalMs)) {
      this.lastPrint = t;
      this.print(false);
    }
  }

  /** The current line (also what is printed). */
  line(): string {
    const { total, label, unit } = this.opts;
    const elapsed = (this.opts.now() - this.start) / 1000;
    const frac = total > 0 ? Math.min(1, this.done / total) : 1;
    const width = 20;
    const filled = Math.round(frac * width);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
    const rate = elapsed > 0 ? this.units / elapsed : 0;
    const eta = this.done > 0 ? (elapsed / this.done) * (total - this.done) : Number.NaN;
    const vals = Object.entries(this.values)
      .map(([k, v]) => `${k} ${formatValue(v)}`)
      .join(' ');
    return `${label} [${bar}] ${this.done}/${total} ${vals ? `${vals} ` : ''}${rate.toFixed(2)} ${unit}/s elapsed ${formatDuration(elapsed)} eta ${formatDuration(eta)}`;
  }

  private print(final: boolean): void {
    if (this.opts.silent) return;
    this.printedDone = this.done;
    const tty = Boolean(this.opts.stream.isTTY);
    this.opts.stream.write(tty ? `\r${this.line()}\x1b[K${final ? '\n' : ''}` : `${this.line()}\n`);
  }

  /** Prints the final line (on a TTY: ends the redrawn line; elsewhere only if the last printed line is stale). */
  finish(): void {
    if (!this.opts.stream.isTTY && this.printedDone === this.done) return;
    this.print(true);
  }
}
