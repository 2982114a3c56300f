// Command-line entry of the finetune app (built by tsup to dist/cli.js with a node shebang).
import { processIo } from '@fairclip/example-common';
import { runApp } from './app.ts';

process.exitCode = await runApp(process.argv.slice(2), processIo);
