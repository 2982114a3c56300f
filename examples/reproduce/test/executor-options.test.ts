/**
 * The executors' pieces that need no run: the flags (values checked, each executor's flags refused with the other),
 * the default --jobs, the run plan, Slurm's array and time formats, and the task script, run by bash: it refuses a
 * plan it cannot see (exit code 2, the shared-filesystem message) and passes the worker its entry with every path
 * quoted.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MODEL, EMBEDDED_FAIRVLMED } from '@fairclip/example-common';
import { afterAll, describe, expect, test } from 'vitest';
import { takeExecutorOptions } from '../src/executor/index.ts';
import { defaultJobs } from '../src/executor/local.ts';
import { buildPlan, type PlanCell, planFile } from '../src/executor/plan.ts';
import { arrayRanges, DEFAULT_TEMPLATE, parseElapsed, renderScript } from '../src/executor/slurm.ts';

const root = mkdtempSync(join(tmpdir(), 'fc-executor options-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('executor flags', () => {
  test('defaults: the local executor, --jobs from the machine, nothing else', () => {
    const { options, rest } = takeExecutorOptions(['--seeds', '1', '--out', 'x']);
    expect(rest).toEqual(['--seeds', '1', '--out', 'x']);
    expect(options.executor).toBe('local');
    expect(options.jobs).toBeNull();
    expect(options.collect).toBe(false);
    expect(options.slurm.sbatchArgs).toEqual([]);
    expect(options.slurm.pollSeconds).toBe(10);
  });

  test('Slurm options, in both spellings; --sbatch-arg takes a value that starts with a dash', () => {
    const { options, rest } = takeExecutorOptions([
      '--executor=slurm',
      '--partition',
      'gpu,gpu-long',
      '--time=1-12:00:00',
      '--gpus-per-task',
      'a100:1',
      '--cpus-per-task=8',
      '--mem',
      '64G',
      '--account',
      'proj-42',
      '--sbatch-arg',
      '--qos=high',
      '--sbatch-arg=--constraint=a100',
      '--max-running',
      '16',
      '--no-wait',
      '--requeue',
      '--preset',
      'a-fairclip',
    ]);
    expect(rest).toEqual(['--preset', 'a-fairclip']);
    expect(options.executor).toBe('slurm');
    expect(options.slurm).toMatchObject({
      partition: 'gpu,gpu-long',
      time: '1-12:00:00',
      gpusPerTask: 'a100:1',
      cpusPerTask: 8,
      mem: '64G',
      account: 'proj-42',
      sbatchArgs: ['--qos=high', '--constraint=a100'],
      maxRunning: 16,
      noWait: true,
      requeue: true,
    });
  });

  test.each([
    [['--executor', 'pbs'], /--executor: expected local or slurm, got "pbs"/],
    [['--partition', 'gpu'], /--partition needs --executor slurm/],
    [['--requeue'], /--requeue needs --executor slurm/],
    [['--sbatch-arg=--qos=x'], /--sbatch-arg needs --executor slurm/],
    [
      ['--executor', 'slurm', '--jobs', '4'],
      /--jobs is for the local executor; with --executor slurm use --max-running N/,
    ],
    [['--jobs', '0'], /--jobs: expected a decimal integer from 1/],
    [['--jobs', '2x'], /--jobs: expected a decimal integer/],
    [['--jobs'], /--jobs needs a value/],
    [['--executor', 'slurm', '--time', '1h'], /--time: expected Slurm's time formats/],
    [['--executor', 'slurm', '--mem', '4 GB'], /--mem: expected a size such as 16G/],
    [['--executor', 'slurm', '--gpus-per-task', 'a100'], /--gpus-per-task: expected N or TYPE:N/],
    [['--executor', 'slurm', '--partition', 'gpu;rm -rf /'], /--partition: expected a partition name/],
    [['--executor', 'slurm', '--sbatch-arg', 'qos=high'], /--sbatch-arg: expected an sbatch option such as --qos=high/],
    [['--executor', 'slurm', '--sbatch-arg', '--qos=a\nb'], /--sbatch-arg: the value must be one line/],
    [['--executor', 'slurm', '--max-running', '0'], /--max-running: expected a decimal integer from 1/],
  ])('%j is refused', (argv, message) => {
    expect(() => takeExecutorOptions(argv)).toThrow(message);
  });

  test('a long bad value is cut in the message', () => {
    expect(() => takeExecutorOptions(['--executor', 'x'.repeat(500)])).toThrow(/"x{80}…"$/);
  });
});

describe('the default --jobs', () => {
  const GB = 1024 ** 3;
  test.each([
    ['wasm', true, 2, 21 * GB, 2],
    ['wasm', true, 16, 3.5 * GB, 3], // bounded by memory (1 GB per run of the embedded default)
    ['cpu', true, 2, 0.5 * GB, 1], // at least 1
    ['wasm', false, 16, 20 * GB, 2], // real data: 8 GB per run
    ['webgpu', true, 16, 64 * GB, 1], // one device shared by every run
  ])('%s, embedded %s, %d cores, %d bytes free: %d', (backend, embedded, cores, memory, jobs) => {
    expect(defaultJobs(backend, embedded, { cores, memory }).jobs).toBe(jobs);
  });
});

describe('Slurm formats', () => {
  test('array index lists', () => {
    expect(arrayRanges([0, 1, 2, 3])).toBe('0-3');
    expect(arrayRanges([7, 0, 2, 1, 9, 10])).toBe('0-2,7,9-10');
    expect(arrayRanges([5])).toBe('5');
  });
  test("squeue's elapsed times", () => {
    expect(parseElapsed('0:05')).toBe(5);
    expect(parseElapsed('12:34')).toBe(754);
    expect(parseElapsed('1:02:03')).toBe(3723);
    expect(parseElapsed('2-01:00:00')).toBe(2 * 86400 + 3600);
    expect(parseElapsed('INVALID')).toBe(0);
  });
});

const cell = (over: Partial<PlanCell> = {}): PlanCell => ({
  key: 'clip-finetune',
  label: 'CLIP fine-tuned',
  preset: 'clip-finetune',
  mode: 'finetune',
  overrides: [
    `data.path=${JSON.stringify(EMBEDDED_FAIRVLMED)}`,
    `model.arch=${JSON.stringify(DEFAULT_MODEL)}`,
    'training.epochs=1',
  ],
  userOverrides: [],
  seeds: [1, 2],
  distances: true,
  ...over,
});
const planOf = (out: string, cells: PlanCell[]) =>
  buildPlan({ out, dataRoot: EMBEDDED_FAIRVLMED, backend: 'wasm', allowSoftwareAdapter: false, quiet: true, cells });

describe('the run plan', () => {
  test('one entry per cell and seed, in order; its id follows what the runs depend on', () => {
    const out = join(root, 'plan');
    const plan = planOf(out, [cell(), cell({ key: 'a-fairclip/race', preset: 'a-fairclip', seeds: [1] })]);
    expect(plan.entries.map((e) => [e.index, e.folder, e.seed, e.outDir])).toEqual([
      [0, 'runs/clip-finetune', 1, join(out, 'runs', 'clip-finetune', 'seed-1')],
      [1, 'runs/clip-finetune', 2, join(out, 'runs', 'clip-finetune', 'seed-2')],
      [2, 'runs/a-fairclip/race', 1, join(out, 'runs', 'a-fairclip', 'race', 'seed-1')],
    ]);
    expect(new Set(plan.entries.map((e) => e.configHash)).size).toBe(3);
    expect(plan.entries[0]?.stamp).toContain(EMBEDDED_FAIRVLMED);
    expect(planOf(out, [cell(), cell({ key: 'a-fairclip/race', preset: 'a-fairclip', seeds: [1] })]).id).toBe(plan.id);
    expect(planOf(out, [cell({ seeds: [1, 3] })]).id).not.toBe(planOf(out, [cell()]).id);
    expect(planOf(out, [cell({ userOverrides: ['optim.lr=2e-5'] })]).id).not.toBe(planOf(out, [cell()]).id);
  });
});

describe('the task script', () => {
  const options = takeExecutorOptions([
    '--executor',
    'slurm',
    '--partition',
    'gpu',
    '--gpus-per-task',
    '1',
    '--sbatch-arg',
    '--comment=a b',
  ]).options.slurm;

  test('holds the resource lines; refuses a template without {{TASK}}', () => {
    const plan = planOf(join(root, 'script'), [cell()]);
    const text = renderScript(plan, options, DEFAULT_TEMPLATE, 'template.sh', ['/usr/bin/node', '/opt/app/main.js']);
    expect(text).toContain('#SBATCH --partition=gpu\n#SBATCH --gpus-per-task=1');
    expect(text).toContain("#SBATCH '--comment=a b'");
    expect(spawnSync('bash', ['-n'], { input: text }).status).toBe(0);
    expect(() => renderScript(plan, options, '#!/bin/bash\n', '/x/template.sh', ['node'])).toThrow(
      /\/x\/template.sh has no \{\{TASK\}\} line/,
    );
  });

  test('run by bash: refuses a plan it cannot see (exit 2); passes the entry with quoted paths', () => {
    const out = join(root, "out with 'quotes' and spaces");
    const plan = planOf(out, [cell()]);
    const script = join(root, 'task.sh');
    // the "worker" echoes its arguments: what the node would run
    writeFileSync(script, renderScript(plan, options, DEFAULT_TEMPLATE, 'template.sh', ['/bin/echo', 'a b']));
    const env = { ...process.env, SLURM_ARRAY_TASK_ID: '1', FAIRCLIP_NODE: '' };
    const hidden = spawnSync('bash', [script], { env, encoding: 'utf8' });
    expect(hidden.status).toBe(2);
    expect(hidden.stderr).toMatch(/the run plan .*plan\.json is not visible on \S+: put --out on a filesystem shared/);
    mkdirSync(join(out, 'executor'), { recursive: true });
    writeFileSync(planFile(out), '{}');
    const seen = spawnSync('bash', [script], { env, encoding: 'utf8' });
    expect(seen.status).toBe(0);
    expect(seen.stdout).toBe(`a b --run-entry ${planFile(out)} 1\n`);
  });
});
