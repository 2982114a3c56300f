/**
 * Where the grid's runs execute: in this process one after the other (the sequential path of the app), in parallel
 * child processes (`--jobs N`, ./local.ts) or as a Slurm array job (`--executor slurm`, ./slurm.ts). Either way each
 * run is one entry of the run plan (./plan.ts) with the same guarantees, and the app builds the report afterwards from
 * the run folders (everything is finished by then, so its loop only reads).
 */
import { CliError, clip, type Io, parseIntegerFlag } from '@fairclip/example-common';
import type { TrainConfig } from '@fairclip/train';
import { defaultJobs, runLocal } from './local.ts';
import {
  buildPlan,
  entryName,
  fromSources,
  type PlanCell,
  type PlanInput,
  readStatus,
  unfinishedReason,
  writePlan,
} from './plan.ts';
import { runSlurm, type SlurmOptions } from './slurm.ts';

export interface ExecutorOptions {
  executor: 'local' | 'slurm';
  /** --jobs N; null = the default (local.ts defaultJobs). */
  jobs: number | null;
  /** --collect: build the report from finished runs, run nothing. */
  collect: boolean;
  slurm: SlurmOptions;
}

export const EXECUTOR_HELP = `Where the runs execute:
  --jobs N               runs in N parallel processes on this machine (default: min(cores, free memory / per-run
                         estimate); 1 on WebGPU); --jobs 1 runs them one after the other in this process
  --executor slurm       one Slurm array job, one task per run (see examples/reproduce/SLURM.md); rerun the same
                         command to wait again or build the report once every run is finished
  --collect              build the report from the finished runs only (run nothing); lists missing or failed runs
  --no-wait              (slurm) return once submitted
  --requeue              (slurm) resubmit the runs that are not finished, queued or running (they resume from their
                         checkpoints; runs that failed on bad input are not resubmitted)
  --partition P  --account A  --time T  --cpus-per-task N  --gpus-per-task [TYPE:]N  --mem SIZE
  --max-running N        (slurm) array tasks running at once (--array=...%N)
  --sbatch-arg ARG       (slurm) extra sbatch argument, repeatable (e.g. --sbatch-arg=--qos=high)
  --slurm-template FILE  (slurm) task script template (default <out>/executor/task-template.sh, written when absent)
  --poll-seconds N       (slurm) seconds between looks at the queue while waiting (default 10)`;

const SLURM_VALUES = [
  'partition',
  'account',
  'time',
  'cpus-per-task',
  'gpus-per-task',
  'mem',
  'max-running',
  'slurm-template',
  'poll-seconds',
] as const;
const CHECKS: Record<string, { re: RegExp; what: string }> = {
  partition: { re: /^[A-Za-z0-9_.+-]+(,[A-Za-z0-9_.+-]+)*$/, what: 'a partition name (or a comma-separated list)' },
  account: { re: /^[A-Za-z0-9_.+-]+$/, what: 'an account name' },
  time: {
    re: /^(\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d+|\d+-\d+:\d{1,2}|\d+-\d+:\d{1,2}:\d{1,2}|UNLIMITED|INFINITE)$/i,
    what: "Slurm's time formats: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS",
  },
  'gpus-per-task': { re: /^([A-Za-z0-9_.-]+:)?\d+$/, what: 'N or TYPE:N, e.g. 1 or a100:1' },
  mem: { re: /^\d+[KMGT]?$/i, what: 'a size such as 16G or 16000 (MB)' },
};

/**
 * Takes the executor flags out of argv (before the app's own parsing, which refuses unknown flags): returns the
 * options and the remaining arguments. Bad values and flags that belong to the other executor are CliErrors.
 */
export function takeExecutorOptions(argv: readonly string[]): { options: ExecutorOptions; rest: string[] } {
  const rest: string[] = [];
  const values = new Map<string, string>();
  const sbatchArgs: string[] = [];
  const flags = new Set<string>();
  const valued = new Set<string>(['executor', 'jobs', ...SLURM_VALUES]);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(a);
    const name = m?.[1] ?? '';
    if (m && (valued.has(name) || name === 'sbatch-arg')) {
      let v = m[2];
      if (v === undefined) {
        v = argv[i + 1];
        // a separate value; --sbatch-arg takes one that starts with "-" (it is an sbatch option)
        if (v === undefined || (name !== 'sbatch-arg' && v.startsWith('--')))
          throw new CliError(`--${name} needs a value`);
        i++;
      }
      if (/[\n\r]/.test(v)) throw new CliError(`--${name}: the value must be one line`);
      if (name === 'sbatch-arg') {
        if (!v.startsWith('-'))
          throw new CliError(`--sbatch-arg: expected an sbatch option such as --qos=high, got "${clip(v)}"`);
        sbatchArgs.push(v);
      } else values.set(name, v);
    } else if (m && m[2] === undefined && ['collect', 'no-wait', 'requeue'].includes(name)) flags.add(name);
    else rest.push(a);
  }
  const executor = values.get('executor') ?? 'local';
  if (executor !== 'local' && executor !== 'slurm')
    throw new CliError(`--executor: expected local or slurm, got "${clip(executor)}"`);
  for (const [k, { re, what }] of Object.entries(CHECKS)) {
    const v = values.get(k);
    if (v !== undefined && !re.test(v)) throw new CliError(`--${k}: expected ${what}, got "${clip(v)}"`);
  }
  const int = (k: string, min: number) => {
    const v = values.get(k);
    return v === undefined ? null : parseIntegerFlag(`--${k}`, v, min);
  };
  if (executor === 'local') {
    const slurmOnly = [
      ...SLURM_VALUES.filter((k) => values.has(k)),
      ...(sbatchArgs.length ? ['sbatch-arg'] : []),
      ...['no-wait', 'requeue'].filter((k) => flags.has(k)),
    ];
    if (slurmOnly.length > 0) throw new CliError(`--${slurmOnly[0]} needs --executor slurm`);
  } else if (values.has('jobs'))
    throw new CliError('--jobs is for the local executor; with --executor slurm use --max-running N');
  const slurm: SlurmOptions = {
    partition: values.get('partition') ?? null,
    account: values.get('account') ?? null,
    time: values.get('time') ?? null,
    cpusPerTask: int('cpus-per-task', 1),
    gpusPerTask: values.get('gpus-per-task') ?? null,
    mem: values.get('mem') ?? null,
    sbatchArgs,
    maxRunning: int('max-running', 1),
    template: values.get('slurm-template') ?? null,
    noWait: flags.has('no-wait'),
    requeue: flags.has('requeue'),
    pollSeconds: int('poll-seconds', 1) ?? 10,
  };
  return { options: { executor, jobs: int('jobs', 1), collect: flags.has('collect'), slurm }, rest };
}

/** What the app resolved of its grid (the plan's input) and whether it runs the embedded default. */
export interface GridSpec extends PlanInput {
  embedded: boolean;
}

export interface Executed {
  /** null: go on and build the report; a number: the exit code (runs missing, failed or still running). */
  code: number | null;
  /** The run folders whose run a worker did (not found finished): the report says "reused: no" for them. */
  ran: Set<string>;
}

/** Builds a plan cell (the app's resolved cell) for buildPlan. */
export function planCell(
  c: { key: string; label: string; preset: string; config: TrainConfig },
  overrides: string[],
  userOverrides: string[],
  seeds: readonly number[],
  distances: boolean,
): PlanCell {
  return {
    key: c.key,
    label: c.label,
    preset: c.preset,
    mode: c.config.mode,
    overrides,
    userOverrides,
    seeds: c.config.mode === 'zeroshot' ? seeds.slice(0, 1) : seeds,
    distances: distances && c.config.mode !== 'linear-probe',
  };
}

/**
 * Runs what the executor options ask for. The local executor with one job (or at most one unfinished run) does
 * nothing here: the app's own loop runs the grid in-process, as it always has.
 */
export async function executeGrid(
  o: ExecutorOptions,
  spec: GridSpec,
  ctx: { io: Io; backend: string; distancesFresh: (outDir: string, config: TrainConfig) => boolean },
): Promise<Executed> {
  const { io } = ctx;
  const plan = buildPlan(spec);
  const ranBy = (indices: Iterable<number>) =>
    new Set(
      [...indices].flatMap((i) => {
        const s = readStatus(plan.out, i);
        return s !== null && s.planId === plan.id && s.state === 'finished' && s.reused === false
          ? [plan.entries[i]?.outDir as string]
          : [];
      }),
    );
  if (o.executor === 'slurm') {
    const code = await runSlurm(plan, o.slurm, { io, distancesFresh: ctx.distancesFresh, collect: o.collect });
    return { code, ran: code === null ? ranBy(plan.entries.map((e) => e.index)) : new Set() };
  }
  const pending = plan.entries.filter((e) => unfinishedReason(e, ctx.distancesFresh) !== null);
  if (o.collect) {
    if (pending.length === 0) return { code: null, ran: new Set() };
    io.stderr(`fairclip-reproduce: ${pending.length} of ${plan.entries.length} runs are not finished:`);
    for (const e of pending) io.stderr(`  ${entryName(e)} (${e.outDir}): ${unfinishedReason(e, ctx.distancesFresh)}`);
    return { code: 1, ran: new Set() };
  }
  const auto = fromSources()
    ? { jobs: 1, why: 'running from the sources: worker processes need the built app' }
    : defaultJobs(ctx.backend, spec.embedded);
  const jobs = Math.min(o.jobs ?? auto.jobs, pending.length);
  if (jobs <= 1) return { code: null, ran: new Set() };
  const file = writePlan(plan);
  io.stderr(
    `fairclip-reproduce: ${pending.length} of ${plan.entries.length} runs to do in ${jobs} parallel processes (${o.jobs === null ? `default --jobs: ${auto.why}` : `--jobs ${o.jobs}`}); plan ${file}`,
  );
  const outcome = await runLocal(plan, pending, jobs, io, {
    quiet: spec.quiet,
    total: plan.entries.length,
    done: plan.entries.length - pending.length,
  });
  const failed = [...outcome.codes].filter(([, c]) => c !== 0);
  if (failed.length > 0 || outcome.codes.size < pending.length) {
    io.stderr(
      `fairclip-reproduce: ${failed.length} run(s) failed${outcome.codes.size < pending.length ? `, ${pending.length - outcome.codes.size} not started` : ''}; rerun the same command to resume (finished runs are reused):`,
    );
    for (const [i, c] of failed)
      io.stderr(`  ${entryName(plan.entries[i]!)} (exit code ${c}): ${outcome.messages.get(i) ?? ''}`);
    return { code: failed.every(([, c]) => c === 2) ? 2 : 1, ran: new Set() };
  }
  return { code: null, ran: ranBy(outcome.codes.keys()) };
}
