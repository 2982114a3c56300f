// The README's runnable example is examples/quickstart.ts verbatim, and it runs.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { expect, test } from 'vitest';

test('examples/quickstart.ts is the README example and trains, evaluates and writes the outputs', async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const example = readFileSync(new URL('../examples/quickstart.ts', import.meta.url), 'utf8');
  expect(readme).toContain(example.trim());
  const { run } = (await import('../examples/quickstart.ts')) as typeof import('../examples/quickstart.ts');
  expect(run.epochs).toHaveLength(2);
  expect(run.epochs[1]!.test).not.toBeNull();
  for (const f of Object.values(run.files)) expect(existsSync(f), f).toBe(true);
  rmSync(run.outDir, { recursive: true, force: true });
});
