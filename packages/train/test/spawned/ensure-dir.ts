// Creates the folder named on the command line as a run creates its output folder; prints the error it gets
// (name, code, message) as JSON, or "created". Run in a child process: Node's recursive mkdir used to spin forever
// under /proc, which a test in the same process could not time out.
import { ensureDir } from '../../src/checkpoint.ts';

try {
  ensureDir(process.argv[2]!);
  process.stdout.write('created\n');
} catch (e) {
  const err = e as Error & { code?: string };
  process.stdout.write(`${JSON.stringify({ name: err.name, code: err.code, message: err.message })}\n`);
}
