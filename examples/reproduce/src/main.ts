// Command-line entry of the reproduce app (built by tsup to dist/main.js with a node shebang; scripts/main.sh runs
// it as the project's main job). Gradients come with @fairclip/compute (initCompute registers them).
import { processIo } from '@fairclip/example-common';
import { runApp } from './app.ts';

process.exitCode = await runApp(process.argv.slice(2), processIo);
