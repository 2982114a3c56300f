/**
 * `fairclip-reproduce --run-entry <plan.json> <index>`: runs exactly one entry of a run plan in this process, with the
 * guarantees of the sequential app (examples/common's runSeeds: a finished run of the same configuration and inputs
 * is reused, an interrupted one resumes from its last checkpoint, a folder made from other inputs is moved aside),
 * then the study's distances of its checkpoint. The entry's status file is written first (the marker that the output
 * folder is visible here) and again at the end (finished, failed with the exit code and last error line, or
 * interrupted by a signal). Exit code 0, 2 for a user error (bad input: not worth retrying unchanged), 1 otherwise.
 */
import { existsSync, writeSync } from 'node:fs';
import {
  CliError,
  clip,
  clipPath,
  computeFor,
  type Io,
  inputsStamp,
  parseIntegerFlag,
  type RunArgs,
  runMain,
  runSeeds,
} from '@fairclip/example-common';
import { configHash, ImageCache } from '@fairclip/train';
import { runDistances } from '../app.ts';
import {
  type EntryStatus,
  entryConfig,
  hostName,
  PROGRESS_FD_ENV,
  type RunPlan,
  readPlan,
  writeStatus,
} from './plan.ts';

/** The Io of a worker process: progress bars to the descriptor the local executor opened, if any. */
export function workerIo(base: Io): Io {
  const fd = Number(process.env[PROGRESS_FD_ENV]);
  if (!Number.isInteger(fd) || fd < 3) return base;
  return {
    ...base,
    progress: {
      isTTY: false,
      write: (s: string) => {
        try {
          writeSync(fd, s);
        } catch {
          // the parent stopped reading: progress is not worth failing a run for
        }
        return true;
      },
    },
  };
}

export async function runEntry(argv: readonly string[], io: Io): Promise<number> {
  let status: EntryStatus | null = null;
  let plan: RunPlan | null = null;
  let lastLine = '';
  const tee: Io = {
    ...io,
    stderr: (t) => {
      lastLine = t;
      io.stderr(t);
    },
  };
  const end = (state: EntryStatus['state'], code: number, extra: Partial<EntryStatus> = {}) => {
    if (status === null || plan === null) return;
    const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
    status = { ...status, state, code, endedAt: new Date().toISOString(), maxRssMb, ...extra };
    writeStatus(plan.out, status);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    const code = 128 + (signal === 'SIGINT' ? 2 : 15);
    end('interrupted', code, { message: `stopped by ${signal}` });
    process.exit(code);
  };
  let code: number;
  try {
    code = await runMain('fairclip-reproduce', tee, async () => {
      if (argv.length !== 2)
        throw new CliError(`--run-entry: expected <plan.json> <index>, got ${argv.length} argument(s)`);
      plan = readPlan(argv[0] as string);
      const index = parseIntegerFlag('--run-entry index', argv[1] as string);
      const entry = plan.entries[index];
      if (entry === undefined || entry.index !== index)
        throw new CliError(
          `--run-entry: the plan has ${plan.entries.length} entries (0 to ${plan.entries.length - 1}), got ${index}`,
        );
      status = {
        planId: plan.id,
        index,
        state: 'running',
        host: hostName(),
        pid: process.pid,
        slurmJob: process.env.SLURM_ARRAY_JOB_ID ?? process.env.SLURM_JOB_ID ?? null,
        startedAt: new Date().toISOString(),
        endedAt: null,
        code: null,
        message: null,
        reused: null,
        maxRssMb: null,
      };
      writeStatus(plan.out, status);
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      const config = entryConfig(entry);
      if (configHash(config) !== entry.configHash)
        throw new CliError(
          `--run-entry: entry ${index} of ${plan.out}/executor/plan.json resolves to another configuration here (another version of the app?); rerun the reproduce command to write the plan again`,
        );
      for (const [what, path] of [
        ['data folder', config.data.path],
        ['weights file', config.model.weights],
        ['vocabulary', config.model.vocab],
      ] as const)
        if (path !== null && !existsSync(path))
          throw new CliError(
            `the ${what} ${clipPath(path)} is not visible on ${hostName()}; on a cluster, put the inputs (and --out) on a filesystem the nodes share`,
            'CLI_PATH',
          );
      if (inputsStamp(config) !== entry.stamp)
        throw new CliError(
          `--run-entry: the inputs of entry ${index} (weights, vocabulary, model file or data folder) changed since the plan was written; rerun the reproduce command to write the plan again`,
        );
      const args: RunArgs = {
        preset: entry.preset,
        data: null,
        weights: [],
        vocab: null,
        backend: plan.backend as RunArgs['backend'],
        seeds: [entry.seed],
        out: plan.out,
        overrides: entry.userOverrides,
        allowSoftwareAdapter: plan.allowSoftwareAdapter,
        quiet: plan.quiet,
        help: false,
        rest: [],
      };
      const compute = await computeFor(args);
      const [run] = await runSeeds({
        preset: entry.preset,
        args,
        overrides: entry.overrides,
        compute,
        io: tee,
        folder: entry.folder,
      });
      if (run === undefined) throw new Error(`entry ${index}: runSeeds returned no run`);
      if (entry.distances) await runDistances(run, plan.dataRoot, new ImageCache(), tee);
      end('finished', 0, { reused: run.reused });
      return 0;
    });
  } catch (e) {
    end('failed', 1, { message: clip((e as Error)?.message ?? String(e), 300) });
    throw e;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  if (code !== 0) end('failed', code, { message: clip(lastLine, 300) });
  return code;
}
