// A minimal stand-in for vitest's test API, so the suite's own test files can run on a machine that has only a
// `node` binary (the GPU device machines: no npm registry, no node_modules). Used by device/build.mjs, never by
// vitest itself. Supports what this package's tests use: describe/test (+ .each), the four hooks, ctx.skip,
// ctx.task.{name,result}, and vitest's own `expect` (@vitest/expect on chai).

import { JestAsymmetricMatchers, JestChaiExpect, JestExtend } from '@vitest/expect';
import * as chai from 'chai';

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(JestAsymmetricMatchers);

type Fn = (ctx: TestContext) => unknown;
interface TestContext {
  skip(note?: string): never;
  task: { name: string; result?: { state: 'pass' | 'fail' | 'skip' } };
}
interface TestItem {
  kind: 'test';
  name: string;
  fn: Fn;
}
interface Suite {
  kind: 'suite';
  name: string;
  items: Array<TestItem | Suite>;
  beforeAll: Fn[];
  afterAll: Fn[];
  beforeEach: Fn[];
  afterEach: Fn[];
  parent: Suite | undefined;
}

class SkipSignal extends Error {}

const root: Suite = {
  kind: 'suite',
  name: '',
  items: [],
  beforeAll: [],
  afterAll: [],
  beforeEach: [],
  afterEach: [],
  parent: undefined,
};
let current = root;

export const expect = Object.assign((value: unknown, message?: string) => chai.expect(value, message), {
  fail: (message?: string) => chai.expect.fail(message),
  hasAssertions: () => {},
  assertions: () => {},
}) as unknown as typeof import('vitest').expect;

export function describe(name: string, fn: () => void): void {
  const suite: Suite = {
    kind: 'suite',
    name,
    items: [],
    beforeAll: [],
    afterAll: [],
    beforeEach: [],
    afterEach: [],
    parent: current,
  };
  current.items.push(suite);
  const saved = current;
  current = suite;
  try {
    fn();
  } finally {
    current = saved;
  }
}

function testImpl(name: string, fn: Fn): void {
  current.items.push({ kind: 'test', name, fn });
}
export const test = Object.assign(testImpl, {
  each:
    <T>(cases: readonly T[]) =>
    (name: string, fn: (...args: unknown[]) => unknown) => {
      for (const c of cases) {
        const args = Array.isArray(c) ? c : [c];
        testImpl(name.replace('%s', String(args[0])), () => fn(...args));
      }
    },
});
export const it = test;
export const beforeAll = (fn: Fn) => current.beforeAll.push(fn);
export const afterAll = (fn: Fn) => current.afterAll.push(fn);
export const beforeEach = (fn: Fn) => current.beforeEach.push(fn);
export const afterEach = (fn: Fn) => current.afterEach.push(fn);

export interface RunSummary {
  passed: number;
  failed: number;
  skipped: number;
}

function chain(s: Suite): Suite[] {
  const out: Suite[] = [];
  for (let x: Suite | undefined = s; x; x = x.parent) out.unshift(x);
  return out;
}

async function runSuite(suite: Suite, path: string, summary: RunSummary, file: string): Promise<void> {
  let setupError: unknown;
  for (const h of suite.beforeAll) {
    try {
      await h(undefined as unknown as TestContext);
    } catch (err) {
      setupError = err;
      break;
    }
  }
  for (const item of suite.items) {
    const name = `${path}${item.name}`;
    if (item.kind === 'suite') {
      if (setupError) continue;
      await runSuite(item, `${name} > `, summary, file);
      continue;
    }
    const ctx: TestContext = {
      skip: (note?: string) => {
        throw new SkipSignal(note ?? '');
      },
      task: { name: item.name },
    };
    const t0 = performance.now();
    let state: 'pass' | 'fail' | 'skip' = 'pass';
    let error: unknown = setupError;
    if (!error) {
      try {
        for (const s of chain(suite)) for (const h of s.beforeEach) await h(ctx);
        await item.fn(ctx);
      } catch (err) {
        error = err;
      }
      if (error instanceof SkipSignal) state = 'skip';
      else if (error) state = 'fail';
      ctx.task.result = { state };
      for (const s of chain(suite).reverse()) {
        for (const h of s.afterEach) {
          try {
            await h(ctx);
          } catch (err) {
            if (state === 'pass') {
              state = 'fail';
              error = err;
            }
          }
        }
      }
    } else {
      state = 'fail';
    }
    const ms = (performance.now() - t0).toFixed(0);
    if (state === 'pass') summary.passed++;
    else if (state === 'skip') summary.skipped++;
    else summary.failed++;
    const mark = state === 'pass' ? 'ok  ' : state === 'skip' ? 'skip' : 'FAIL';
    console.log(`${mark} ${file} > ${name} (${ms} ms)${state === 'skip' ? ` — ${(error as Error).message}` : ''}`);
    if (state === 'fail')
      console.log(
        `     ${String((error as Error)?.stack ?? error)
          .split('\n')
          .slice(0, 6)
          .join('\n     ')}`,
      );
  }
  for (const h of suite.afterAll) {
    try {
      await h(undefined as unknown as TestContext);
    } catch (err) {
      summary.failed++;
      console.log(`FAIL ${file} > ${path}(afterAll): ${(err as Error).message}`);
    }
  }
}

/** Runs everything declared since the last call (one test file), then forgets it. */
export async function runDeclared(file: string, summary: RunSummary): Promise<void> {
  const suite = { ...root, items: [...root.items], beforeAll: [...root.beforeAll], afterAll: [...root.afterAll] };
  root.items = [];
  root.beforeAll = [];
  root.afterAll = [];
  root.beforeEach = [];
  root.afterEach = [];
  await runSuite(suite, '', summary, file);
}
