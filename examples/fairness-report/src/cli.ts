// Command-line entry of the fairness-report app (built by tsup to dist/cli.js with a node shebang).
import { runCli } from './app.ts';

process.exitCode = runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
});
