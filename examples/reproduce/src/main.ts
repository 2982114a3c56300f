// Command-line entry of the reproduce app (built by tsup to dist/main.js with a node shebang; scripts/main.sh runs
// it as the project's main job). Training needs tfjs-core's gradients: bundled here, since plain Node cannot load
// that ES-module file.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { processIo } from '@fairclip/example-common';
import { runApp } from './app.ts';

process.exitCode = await runApp(process.argv.slice(2), processIo);
