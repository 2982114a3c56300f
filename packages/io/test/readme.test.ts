/** Keeps the README true: runs its example block and checks every `// → expected` line against what it logs. */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import * as io from '../src/index.ts';

test('the README example is examples/readme-example.ts verbatim, runs, and prints what its comments say', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block, 'README has a ```ts block').toBeDefined();
  // The block is the typechecked file examples/readme-example.ts, verbatim.
  expect(block).toBe(readFileSync(new URL('../examples/readme-example.ts', import.meta.url), 'utf8'));
  const imported = /^import \{([^}]*)\} from '@fairclip\/io';\n/.exec(block as string);
  expect(imported, 'the block starts with one import from @fairclip/io').not.toBeNull();
  const names = (imported as RegExpExecArray)[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const n of names) expect((io as Record<string, unknown>)[n], `${n} is exported`).toBeDefined();
  const expected = (block as string)
    .split('\n')
    .filter((l) => l.includes('// →'))
    .map((l) => l.split('// → ')[1]!.trim());
  expect(expected.length).toBeGreaterThanOrEqual(8);
  // Apart from the import the block is plain JavaScript; run it with a console that records what is printed.
  const body = (block as string).slice((imported as RegExpExecArray)[0].length);
  const printed: string[] = [];
  const log = (...args: unknown[]) => printed.push(args.map(String).join(' '));
  const run = new Function(...names, 'console', body);
  run(...names.map((n) => (io as Record<string, unknown>)[n]), { log });
  expect(printed).toEqual(expected);
});
