/**
 * The Slurm executor (`--executor slurm`): the plan's unfinished runs as one sbatch array job, one task per run
 * (`--array=<indices>%<max running>`), each task running `fairclip-reproduce --run-entry <plan> $SLURM_ARRAY_TASK_ID`
 * (./worker.ts) from a task script made of an editable template. The submitter then waits, printing progress from
 * squeue and the tasks' status files, or returns at once (--no-wait); rerunning the same command (or --collect)
 * builds the report once every run is finished, and otherwise says which runs are missing or failed. --requeue
 * resubmits the runs that are neither finished, queued nor running, except those that failed on bad input (exit
 * code 2: rerunning them unchanged would fail again). No Slurm accounting is needed (sacct is only consulted, where it
 * works, to name why a task ended).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { CliError, clip, clipPath, type Io } from '@fairclip/example-common';
import type { TrainConfig } from '@fairclip/train';
import {
  type EntryStatus,
  entryName,
  executorDir,
  type PlanEntry,
  planFile,
  type RunPlan,
  readStatus,
  statusFile,
  unfinishedReason,
  workerCommand,
  writeAtomic,
  writePlan,
} from './plan.ts';

export interface SlurmOptions {
  partition: string | null;
  /** --time, Slurm's formats (minutes, MM:SS, HH:MM:SS, D-HH[:MM[:SS]]). */
  time: string | null;
  /** --gpus-per-task: N or TYPE:N. */
  gpusPerTask: string | null;
  cpusPerTask: number | null;
  /** --mem (per node, i.e. per task here): e.g. 16G. */
  mem: string | null;
  account: string | null;
  /** Extra sbatch arguments, in order (e.g. --qos=high, --constraint=a100). */
  sbatchArgs: string[];
  /** The most array tasks running at once (the array's %N); null = no limit. */
  maxRunning: number | null;
  /** The task script template; null = <out>/executor/task-template.sh (written with the default when absent). */
  template: string | null;
  noWait: boolean;
  requeue: boolean;
  /** Seconds between two looks at the queue while waiting. */
  pollSeconds: number;
}

/**
 * The default task script template. {{SBATCH}} becomes the #SBATCH lines of the resource options (they are passed on
 * the sbatch command line too), {{TASK}} the check that the plan is visible and the command that runs the task's
 * entry. Lines in between run on the node before the task: load modules, activate environments, set variables.
 */
export const DEFAULT_TEMPLATE = `#!/bin/bash
# Task script of fairclip-reproduce --executor slurm: one array task = one run of the plan.
# Edit the environment section, then rerun the reproduce command (later submissions use this file).
{{SBATCH}}
set -euo pipefail

# ---- environment of every task (edit): modules, a Node.js 20 (FAIRCLIP_NODE overrides the submitter's node),
# ---- the GPU driver's variables, ...
# module load nodejs/20
# export FAIRCLIP_NODE="$(command -v node)"
# export VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/nvidia_icd.json
# ---- end of the environment section

{{TASK}}
`;

const quote = (s: string) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The sbatch options of the resource flags, as `--name=value` arguments. */
export function sbatchOptions(o: SlurmOptions): string[] {
  return [
    '--job-name=fairclip-reproduce',
    ...(o.partition !== null ? [`--partition=${o.partition}`] : []),
    ...(o.account !== null ? [`--account=${o.account}`] : []),
    ...(o.time !== null ? [`--time=${o.time}`] : []),
    ...(o.cpusPerTask !== null ? [`--cpus-per-task=${o.cpusPerTask}`] : []),
    ...(o.gpusPerTask !== null ? [`--gpus-per-task=${o.gpusPerTask}`] : []),
    ...(o.mem !== null ? [`--mem=${o.mem}`] : []),
    '--ntasks=1',
  ];
}

/** The task script: the template with its {{SBATCH}} and {{TASK}} parts filled in. */
export function renderScript(
  plan: RunPlan,
  o: SlurmOptions,
  template: string,
  templatePath: string,
  command: readonly string[] = workerCommand(),
): string {
  if (!template.includes('{{TASK}}'))
    throw new CliError(
      `${clipPath(templatePath)} has no {{TASK}} line (where the task's command goes); add it, or delete the file to get the default template back`,
      'CLI_PATH',
    );
  const sbatch = [...sbatchOptions(o), ...o.sbatchArgs].map((a) => `#SBATCH ${quote(a)}`).join('\n');
  const [node, ...args] = command;
  const plan_ = planFile(plan.out);
  const task = [
    `plan=${quote(plan_)}`,
    'if [ ! -r "$plan" ]; then',
    `  echo "fairclip-reproduce: the run plan $plan is not visible on $(hostname): put --out on a filesystem shared by the submitting host and the compute nodes" >&2`,
    '  exit 2',
    'fi',
    `node_bin="\${FAIRCLIP_NODE:-${node}}"`,
    'command -v "$node_bin" >/dev/null 2>&1 || node_bin=node',
    `exec "$node_bin" ${args.map(quote).join(' ')} --run-entry "$plan" "$SLURM_ARRAY_TASK_ID"`,
  ].join('\n');
  return template.replace('{{SBATCH}}', sbatch).replace('{{TASK}}', task);
}

interface Command {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: readonly string[]): Command {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000 });
  if (r.error) {
    if ((r.error as { code?: string }).code === 'ENOENT')
      throw new CliError(
        `${cmd} not found: --executor slurm needs Slurm's commands (sbatch, squeue, scancel) on PATH; run it on the cluster's login node`,
      );
    throw new CliError(`${cmd} failed: ${clip(r.error.message, 200)}`);
  }
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

const firstLine = (s: string) => clip(s.trim().split('\n')[0] ?? '', 300);

/** One array task in the queue. */
export interface QueuedTask {
  job: string;
  index: number;
  /** squeue's compact state: PD, R, CG, CF, S, ... */
  state: string;
  node: string;
  /** Seconds it has run. */
  seconds: number;
  reason: string;
}

/** "1-02:03:04", "02:03", "3:04" (squeue %M) in seconds. */
export function parseElapsed(s: string): number {
  const m = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+)$/.exec(s.trim());
  if (!m) return 0;
  return Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

/** The array tasks of the given jobs in the queue (pending ones listed one by one). */
export function queuedTasks(jobs: ReadonlySet<string>): Map<number, QueuedTask> {
  const out = new Map<number, QueuedTask>();
  if (jobs.size === 0) return out;
  let r: Command | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    r = run('squeue', ['-h', '-r', '-u', userInfo().username, '-o', '%i|%t|%N|%M|%r']);
    if (r.code === 0) break;
    spawnSync('sleep', ['2']);
  }
  if (r === null || r.code !== 0)
    throw new CliError(`squeue failed: ${firstLine(r?.stderr ?? '')}; is the Slurm controller reachable from here?`);
  for (const line of r.stdout.split('\n')) {
    const [id, state, node, time, reason] = line.split('|');
    const m = /^(\d+)_(\d+)$/.exec(id?.trim() ?? '');
    if (!m || !jobs.has(m[1] as string)) continue;
    out.set(Number(m[2]), {
      job: m[1] as string,
      index: Number(m[2]),
      state: state?.trim() ?? '',
      node: node?.trim() ?? '',
      seconds: parseElapsed(time ?? ''),
      reason: reason?.trim() ?? '',
    });
  }
  return out;
}

/** Why array tasks ended, where Slurm accounting works ("123_4" → "TIMEOUT"); empty without accounting. */
function accountedStates(jobs: readonly string[]): Map<string, string> {
  const states = new Map<string, string>();
  if (jobs.length === 0) return states;
  let r: Command;
  try {
    r = run('sacct', ['-n', '-P', '-X', '-j', jobs.join(','), '-o', 'JobID,State']);
  } catch {
    return states;
  }
  if (r.code !== 0) return states;
  for (const line of r.stdout.split('\n')) {
    const [id, state] = line.split('|');
    if (id && state) states.set(id.trim(), state.trim().split(' ')[0] ?? '');
  }
  return states;
}

/** A submission recorded in <out>/executor/jobs.json. */
interface Submission {
  job: string;
  planId: string;
  indices: number[];
  submittedAt: string;
}

const jobsFile = (plan: RunPlan) => join(executorDir(plan.out), 'jobs.json');

function readSubmissions(plan: RunPlan): Submission[] {
  try {
    return JSON.parse(readFileSync(jobsFile(plan), 'utf8')) as Submission[];
  } catch {
    return [];
  }
}

/** "0-4,7,9-10" */
export function arrayRanges(indices: readonly number[]): string {
  const sorted = [...indices].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] as number) + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** Where each entry stands. */
export type EntryState =
  | { kind: 'finished' }
  | { kind: 'queued' | 'running'; task: QueuedTask }
  | { kind: 'not-submitted'; reason: string }
  | { kind: 'no-start'; job: string }
  | { kind: 'failed'; status: EntryStatus; userError: boolean }
  | { kind: 'interrupted'; status: EntryStatus; reason: string };

export function classify(
  plan: RunPlan,
  e: PlanEntry,
  queue: ReadonlyMap<number, QueuedTask>,
  lastJob: ReadonlyMap<number, string>,
  distancesFresh: (outDir: string, config: TrainConfig) => boolean,
): EntryState {
  const task = queue.get(e.index);
  if (task !== undefined) return { kind: task.state === 'PD' ? 'queued' : 'running', task };
  const reason = unfinishedReason(e, distancesFresh);
  if (reason === null) return { kind: 'finished' };
  const job = lastJob.get(e.index);
  if (job === undefined) return { kind: 'not-submitted', reason };
  const status = readStatus(plan.out, e.index);
  if (status === null || status.planId !== plan.id || status.slurmJob !== job) return { kind: 'no-start', job };
  if (status.state === 'failed') return { kind: 'failed', status, userError: status.code === 2 };
  return { kind: 'interrupted', status, reason };
}

const describe = (s: EntryState, plan: RunPlan, index: number, sacct: ReadonlyMap<string, string>): string => {
  switch (s.kind) {
    case 'finished':
      return 'finished';
    case 'queued':
      return `queued (${s.task.reason || 'pending'})`;
    case 'running':
      return `running on ${s.task.node}`;
    case 'not-submitted':
      return `not submitted (${s.reason})`;
    case 'no-start': {
      const why = sacct.get(`${s.job}_${index}`);
      return `task ${s.job}_${index} ended without starting the run${why ? ` (${why})` : ''}; see ${clipPath(join(executorDir(plan.out), 'logs', `${s.job}_${index}.log`))}`;
    }
    case 'failed':
      return s.userError
        ? `failed on bad input (exit code 2): ${s.status.message ?? ''}; fix it, delete ${clipPath(statusFile(plan.out, index))} and rerun with --requeue`
        : `failed (exit code ${s.status.code}) on ${s.status.host}: ${s.status.message ?? ''}`;
    case 'interrupted': {
      const why = s.status.slurmJob ? sacct.get(`${s.status.slurmJob}_${index}`) : undefined;
      const cause =
        s.status.state === 'interrupted'
          ? (s.status.message ?? 'stopped by a signal')
          : (why ?? 'its task ended while running: cancelled, preempted, out of time or killed');
      return s.reason.startsWith('interrupted')
        ? `interrupted (${cause}) on ${s.status.host}; it resumes from its last checkpoint`
        : `interrupted (${cause}) on ${s.status.host}: ${s.reason}`;
    }
  }
};

/** Seconds a running task may go without its status file before the output folder is taken to be invisible. */
export function markerGraceSeconds(): number {
  const v = Number(process.env.FAIRCLIP_SLURM_MARKER_GRACE_S);
  return Number.isFinite(v) && v > 0 ? v : 120;
}

export interface SlurmContext {
  io: Io;
  distancesFresh: (outDir: string, config: TrainConfig) => boolean;
  /** Build the report only, never submit (--collect). */
  collect: boolean;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Submits, waits for and collects the plan's runs. Returns null when every run is finished (the app then builds the
 * report from the run folders), else the exit code (0: submitted or still running with --no-wait; 1: runs missing or
 * failed, listed; 2: the output folder is not visible on the nodes).
 */
export async function runSlurm(plan: RunPlan, o: SlurmOptions, ctx: SlurmContext): Promise<number | null> {
  const { io } = ctx;
  const sleep = ctx.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const dir = executorDir(plan.out);
  const all = readSubmissions(plan);
  const mine = all.filter((s) => s.planId === plan.id);
  const lastJob = new Map<number, string>();
  for (const s of mine) for (const i of s.indices) lastJob.set(i, s.job);
  const jobsOf = () => new Set([...lastJob.values()]);

  // an earlier plan's tasks still in the queue would read the new plan: refuse to replace it under them
  const others = all.filter((s) => s.planId !== plan.id);
  if (others.length > 0 && !ctx.collect) {
    const q = queuedTasks(new Set(others.map((s) => s.job)));
    if (q.size > 0) {
      const ids = [...new Set([...q.values()].map((t) => t.job))].join(',');
      throw new CliError(
        `Slurm job(s) ${ids} of an earlier plan for ${clipPath(plan.out)} (another grid or other inputs) are still queued or running; wait for them or scancel ${ids}, then rerun`,
      );
    }
  }
  if (!ctx.collect) writePlan(plan);
  const fresh = (queue: ReadonlyMap<number, QueuedTask>) =>
    plan.entries.map((e) => classify(plan, e, queue, lastJob, ctx.distancesFresh));
  const summary = (states: readonly EntryState[]) => {
    const n = (k: EntryState['kind']) => states.filter((s) => s.kind === k).length;
    const failed = n('failed') + n('no-start') + n('interrupted');
    return `${n('finished')}/${states.length} finished · ${n('running')} running · ${n('queued')} queued${failed ? ` · ${failed} failed or interrupted` : ''}${n('not-submitted') ? ` · ${n('not-submitted')} not submitted` : ''}`;
  };
  const unfinishedList = (states: readonly EntryState[]) => {
    const sacct = accountedStates([...jobsOf()]);
    return states.flatMap((s, i) =>
      s.kind === 'finished'
        ? []
        : [`  ${entryName(plan.entries[i] as PlanEntry)} (run ${i}): ${describe(s, plan, i, sacct)}`],
    );
  };

  let states = fresh(queuedTasks(jobsOf()));
  if (states.every((s) => s.kind === 'finished')) return null;
  if (ctx.collect) {
    io.stderr(`fairclip-reproduce: not every run is finished (${summary(states)}):`);
    for (const l of unfinishedList(states)) io.stderr(l);
    return 1;
  }

  const idle = (s: EntryState) => s.kind !== 'finished' && s.kind !== 'queued' && s.kind !== 'running';
  const submitNow = states.flatMap((s, i) => {
    if (!idle(s)) return [];
    if (s.kind === 'not-submitted') return [i];
    if (!o.requeue) return [];
    return s.kind === 'failed' && s.userError ? [] : [i];
  });
  const waiting = states.some((s) => s.kind === 'queued' || s.kind === 'running');
  if (submitNow.length === 0 && !waiting) {
    io.stderr(`fairclip-reproduce: the Slurm tasks ended, not every run is finished (${summary(states)}):`);
    for (const l of unfinishedList(states)) io.stderr(l);
    const retry = states.filter((s) => idle(s) && !(s.kind === 'failed' && s.userError)).length;
    if (retry > 0)
      io.stderr(
        `Rerun with --requeue to resubmit the ${retry} unfinished run(s) (they resume from their last checkpoint).`,
      );
    return 1;
  }
  if (submitNow.length > 0) {
    const job = submit(plan, o, submitNow, io);
    all.push({ job, planId: plan.id, indices: submitNow, submittedAt: new Date().toISOString() });
    writeAtomic(jobsFile(plan), `${JSON.stringify(all, null, 2)}\n`);
    // (a status file written by an earlier task of an entry names that task's job: classify ignores it)
    for (const i of submitNow) lastJob.set(i, job);
  }
  if (o.noWait) {
    states = fresh(queuedTasks(jobsOf()));
    io.stderr(`fairclip-reproduce: ${summary(states)}; Slurm job(s) ${[...jobsOf()].join(', ')}`);
    io.stderr('Rerun the same command (or add --collect) to build the report once every run is finished.');
    return 0;
  }

  // ---- wait, printing what changes
  io.stderr(
    `fairclip-reproduce: waiting for Slurm job(s) ${[...jobsOf()].join(', ')} (Ctrl-C stops waiting, not the job)`,
  );
  const grace = markerGraceSeconds();
  let lastSummary = '';
  const lastKind = new Map<number, string>();
  for (;;) {
    const queue = queuedTasks(jobsOf());
    states = fresh(queue);
    for (const [i, s] of states.entries()) {
      const key = s.kind === 'running' ? `running ${s.task.node}` : s.kind;
      if (lastKind.get(i) === key) continue;
      const before = lastKind.get(i);
      lastKind.set(i, key);
      if (before === undefined && (s.kind === 'queued' || s.kind === 'finished')) continue;
      io.stderr(`  ${entryName(plan.entries[i] as PlanEntry)}: ${describe(s, plan, i, new Map())}`);
    }
    const line = summary(states);
    if (line !== lastSummary) {
      io.stderr(`[slurm ${[...jobsOf()].join(',')}] ${line}`);
      lastSummary = line;
    }
    // the marker: a task that has run for a while must have written its status file in --out
    const anyStatus = states.some((_s, i) => {
      const st = readStatus(plan.out, i);
      return st !== null && st.planId === plan.id && st.slurmJob !== null && jobsOf().has(st.slurmJob);
    });
    const blind = [...queue.values()].find(
      (t) => t.state === 'R' && t.seconds > grace && readStatus(plan.out, t.index)?.slurmJob !== t.job,
    );
    const noStart = states.filter((s) => s.kind === 'no-start').length;
    if (!anyStatus && (blind !== undefined || (noStart > 0 && queue.size === 0)))
      throw new CliError(
        `the Slurm tasks cannot see the output folder ${clipPath(plan.out)}: ${blind ? `task ${blind.job}_${blind.index} has run on ${blind.node} for ${blind.seconds} s` : `${noStart} task(s) ended`} without writing their status file in ${clipPath(join(dir, 'status'))}; put --out on a filesystem shared by this host and the compute nodes (scancel ${[...jobsOf()].join(',')} stops what is left)`,
        'CLI_PATH',
      );
    if (queue.size === 0) break;
    await sleep(o.pollSeconds * 1000);
  }
  if (states.every((s) => s.kind === 'finished')) return null;
  io.stderr(`fairclip-reproduce: the Slurm tasks ended, not every run is finished (${summary(states)}):`);
  for (const l of unfinishedList(states)) io.stderr(l);
  const retry = states.filter((s) => idle(s) && !(s.kind === 'failed' && s.userError)).length;
  if (retry > 0)
    io.stderr(
      `Rerun with --requeue to resubmit the ${retry} unfinished run(s) (they resume from their last checkpoint).`,
    );
  return 1;
}

/** Writes the task script and submits the given entries as one array job; returns the job id. */
function submit(plan: RunPlan, o: SlurmOptions, indices: readonly number[], io: Io): string {
  const dir = executorDir(plan.out);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const templatePath = resolve(o.template ?? join(dir, 'task-template.sh'));
  if (o.template === null && !existsSync(templatePath)) {
    writeFileSync(templatePath, DEFAULT_TEMPLATE);
    io.stderr(`fairclip-reproduce: task script template written to ${templatePath} (edit its environment section)`);
  }
  if (!existsSync(templatePath))
    throw new CliError(
      `--slurm-template: ${clipPath(templatePath)} not found (expected a bash script with a {{TASK}} line)`,
      'CLI_PATH',
    );
  const script = join(dir, 'task.sbatch');
  writeFileSync(script, renderScript(plan, o, readFileSync(templatePath, 'utf8'), templatePath), { mode: 0o755 });
  const array = `${arrayRanges(indices)}${o.maxRunning !== null ? `%${o.maxRunning}` : ''}`;
  const args = [
    '--parsable',
    ...sbatchOptions(o),
    ...o.sbatchArgs,
    `--array=${array}`,
    `--output=${join(dir, 'logs', '%A_%a.log')}`,
    script,
  ];
  const r = run('sbatch', args);
  const id = /^(\d+)/.exec(r.stdout.trim())?.[1];
  if (r.code !== 0 || id === undefined)
    throw new CliError(
      `sbatch refused the job: ${firstLine(r.stderr || r.stdout)} (check --partition, --account, --time, --gpus-per-task, --mem and --sbatch-arg)`,
    );
  io.stderr(`fairclip-reproduce: submitted Slurm job ${id}: ${indices.length} task(s), --array=${array} (${script})`);
  return id;
}
