/**
 * The local executor's parallel mode (--jobs N) on the built app: a tiny grid run with --jobs 2 writes the same
 * report (markdown, JSON, every figure) and the same runs as --jobs 1 (the sequential in-process path); runs
 * interrupted mid-way resume from their checkpoints in the child processes; a run that fails on bad input stops the
 * grid with its message and exit code 2; --collect builds the report from finished runs and lists missing ones.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCaptured } from '@fairclip/example-common';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runApp } from '../src/app.ts';
import type { EntryStatus, RunPlan } from '../src/executor/plan.ts';
import { buildApp, reportOf, runBuilt, TINY_GRID } from './built-app.ts';

const root = mkdtempSync(join(tmpdir(), 'fc-jobs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let main = '';
beforeAll(() => {
  main = buildApp('local');
}, 180_000);

const RUNS = ['clip-finetune/seed-1', 'clip-finetune/seed-2', 'a-fairclip/race/seed-1', 'a-fairclip/race/seed-2'];
const result = (out: string, run: string) =>
  JSON.parse(readFileSync(join(out, 'runs', run, 'result.json'), 'utf8')) as {
    status: string;
    steps: number;
    resumedFromStep: number | null;
    configHash: string;
    selected: { test: { auc: number; attributes: { esAuc: number }[] } };
  };

describe('--jobs N', () => {
  const seq = join(root, 'jobs-1');
  const par = join(root, 'jobs-2');

  test('--jobs 2 writes the report of --jobs 1; interrupted runs resume in the children', async () => {
    const one = await runBuilt(main, ['--out', seq, ...TINY_GRID, '--jobs', '1']);
    expect(one.stderr).not.toMatch(/Error/);
    expect(one.code, one.stderr.slice(-4000)).toBe(0);
    expect(one.stderr).not.toContain('parallel processes');
    const two = await runBuilt(main, ['--out', par, ...TINY_GRID, '--jobs', '2']);
    expect(two.stderr).not.toMatch(/Error/);
    expect(two.code, two.stderr.slice(-4000)).toBe(0);
    console.log(`tiny grid (4 runs): --jobs 1 ${one.seconds.toFixed(1)} s, --jobs 2 ${two.seconds.toFixed(1)} s`);
    expect(two.stderr).toContain('4 of 4 runs to do in 2 parallel processes (--jobs 2)');
    // one line per run when it starts and when it ends
    expect(two.stderr.match(/: started \(run \d of the plan\)/g)).toHaveLength(4);
    expect(two.stderr.match(/seed \d: finished in \d+ s/g)).toHaveLength(4);
    // the plan and what each child wrote about its entry
    const plan = JSON.parse(readFileSync(join(par, 'executor', 'plan.json'), 'utf8')) as RunPlan;
    expect(plan.entries.map((e) => `${e.folder.slice('runs/'.length)}/seed-${e.seed}`)).toEqual(RUNS);
    for (const e of plan.entries) {
      const s = JSON.parse(readFileSync(join(par, 'executor', 'status', `${e.index}.json`), 'utf8')) as EntryStatus;
      expect([s.planId, s.state, s.code, s.reused]).toEqual([plan.id, 'finished', 0, false]);
      expect(s.maxRssMb).toBeGreaterThan(50);
      console.log(`run ${e.index} (${e.label} seed ${e.seed}): peak RSS ${s.maxRssMb} MB`);
      // the plan's hash is the one the run recorded (the worker resolved the same configuration as runSeeds)
      expect(result(par, `${e.folder.slice('runs/'.length)}/seed-${e.seed}`).configHash).toBe(e.configHash);
    }
    // the same runs and the same report, figures included
    for (const r of RUNS) expect(result(par, r).selected).toEqual(result(seq, r).selected);
    const a = reportOf(seq);
    const b = reportOf(par);
    expect(b.markdown).toBe(a.markdown);
    expect(b.json).toBe(a.json);
    expect([...b.figures.keys()].sort()).toEqual([...a.figures.keys()].sort());
    for (const [k, v] of a.figures) expect(b.figures.get(k), k).toBe(v);
    expect(b.markdown.match(/\| no \| runs\//g)).toHaveLength(4); // done in this invocation: not "reused"

    // two runs interrupted after their first epoch (result.json "running", checkpoints on disk) resume in children
    const victims = ['clip-finetune/seed-2', 'a-fairclip/race/seed-1'];
    const before = victims.map((v) => result(par, v));
    for (const [i, v] of victims.entries())
      writeFileSync(join(par, 'runs', v, 'result.json'), JSON.stringify({ ...before[i], status: 'running' }));
    const resumed = await runBuilt(main, ['--out', par, ...TINY_GRID, '--jobs', '2']);
    expect(resumed.code, resumed.stderr.slice(-4000)).toBe(0);
    expect(resumed.stderr).toContain('2 of 4 runs to do in 2 parallel processes');
    for (const [i, v] of victims.entries()) {
      const after = result(par, v);
      expect(after.status).toBe('complete');
      expect(after.resumedFromStep).toBe(before[i]!.steps); // resumed at its last checkpoint, not from scratch
      expect(after.selected).toEqual(before[i]!.selected);
    }
    // the same report, except that the two runs found finished are "reused", as in a sequential rerun
    const unreused = (md: string) => md.replace(/\| (yes|no) \| runs\//g, '| runs/');
    const rerun = reportOf(par).markdown;
    expect(unreused(rerun)).toBe(unreused(a.markdown));
    expect(rerun.match(/\| (yes|no) \| runs\/\S+/g)).toEqual([
      '| yes | runs/clip-finetune/seed-1',
      '| no | runs/clip-finetune/seed-2',
      '| no | runs/a-fairclip/race/seed-1',
      '| yes | runs/a-fairclip/race/seed-2',
    ]);

    // --collect (in-process): builds the same report from the finished runs, running nothing
    const collected = await runCaptured(runApp, ['--out', par, ...TINY_GRID, '--collect']);
    expect(collected.code, collected.stderr.slice(-4000)).toBe(0);
    expect(collected.stderr).not.toContain('running into');
    expect(unreused(reportOf(par).markdown)).toBe(unreused(a.markdown));
  }, 900_000);

  test('--collect lists the runs that are not finished (exit code 1)', async () => {
    const empty = join(root, 'empty');
    const r = await runCaptured(runApp, ['--out', empty, ...TINY_GRID, '--collect']);
    expect(r.code, r.stderr.slice(-4000)).toBe(1);
    expect(r.stderr).toContain('4 of 4 runs are not finished:');
    expect(r.stderr).toMatch(/CLIP fine-tuned seed 1 \(.*clip-finetune\/seed-1\): not started/);
  });

  test('a run that fails on bad input stops the grid: its message, exit code 2', async () => {
    // a folder holding a finished run of another configuration: runTraining refuses it (a user error)
    const out = join(root, 'bad');
    cpSync(join(par, 'runs', 'clip-finetune', 'seed-1'), join(out, 'runs', 'clip-finetune', 'seed-1'), {
      recursive: true,
    });
    const grid = ['--preset', 'clip-finetune', ...TINY_GRID.slice(2), '--batch-size', '2', '--jobs', '2'];
    const r = await runBuilt(main, ['--out', out, ...grid]);
    expect(r.code, r.stderr.slice(-4000)).toBe(2);
    expect(r.stderr).toContain('CLIP fine-tuned seed 1: failed (exit code 2)');
    expect(r.stderr).toMatch(
      /run\(s\) failed[^\n]*\n {2}CLIP fine-tuned seed 1 \(exit code 2\): [^\n]*holds a run of another configuration/,
    );
    const s = JSON.parse(readFileSync(join(out, 'executor', 'status', '0.json'), 'utf8')) as EntryStatus;
    expect([s.state, s.code]).toEqual(['failed', 2]);
    expect(s.message).toContain('holds a run of another configuration');
  }, 300_000);
});
