// Command-line entry of the reproduce app (built by tsup to dist/main.js with a node shebang; scripts/main.sh runs
// it as the project's main job). Gradients come with @fairclip/compute (initCompute registers them).
// `--run-entry <plan.json> <index>` runs one entry of a run plan (a --jobs child process or a Slurm array task).
import { processIo } from '@fairclip/example-common';
import { runApp } from './app.ts';
import { runEntry, workerIo } from './executor/worker.ts';

const argv = process.argv.slice(2);
process.exitCode =
  argv[0] === '--run-entry' ? await runEntry(argv.slice(1), workerIo(processIo)) : await runApp(argv, processIo);
