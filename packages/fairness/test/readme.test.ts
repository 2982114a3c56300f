/** Keeps the README true: runs its example block and checks every `// → expected` line against what it logs. */
import { readFileSync } from 'node:fs';
import * as io from '@fairclip/io';
import { expect, test } from 'vitest';
import * as fairness from '../src/index.ts';

const modules: Record<string, Record<string, unknown>> = { '@fairclip/fairness': fairness, '@fairclip/io': io };

test('the README example is examples/readme-example.ts verbatim, runs, and prints what its comments say', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block, 'README has a ```ts block').toBeDefined();
  // The block is the typechecked file examples/readme-example.ts, verbatim.
  expect(block).toBe(readFileSync(new URL('../examples/readme-example.ts', import.meta.url), 'utf8'));
  // It opens with imports from @fairclip/fairness (and @fairclip/io for the FairVLMed group names).
  const imports = /^(?:import \{[^}]*\} from '@fairclip\/[a-z]+';\n)+/.exec(block as string);
  expect(imports, 'the block starts with its imports').not.toBeNull();
  const bindings = [
    ...(imports as RegExpExecArray)[0].matchAll(/import \{([^}]*)\} from '(@fairclip\/[a-z]+)';/g),
  ].flatMap(([, list, from]) => {
    expect(Object.keys(modules), `import from ${from}`).toContain(from);
    return list!
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map((name) => [name, modules[from!]![name]] as const);
  });
  expect(bindings.map(([name]) => name)).toContain('fairnessReport');
  for (const [name, value] of bindings) expect(value, `${name} is exported`).toBeDefined();
  const expected = (block as string)
    .split('\n')
    .filter((l) => l.includes('// →'))
    .map((l) => l.split('// → ')[1]!.trim());
  expect(expected.length).toBeGreaterThanOrEqual(5);
  // Apart from the imports the block is plain JavaScript; run it with a console that records what is printed.
  const body = (block as string).slice((imports as RegExpExecArray)[0].length);
  const printed: string[] = [];
  const log = (...args: unknown[]) => printed.push(args.map(String).join(' '));
  const run = new Function(...bindings.map(([name]) => name), 'console', body);
  run(...bindings.map(([, value]) => value), { log });
  expect(printed).toEqual(expected);
});
