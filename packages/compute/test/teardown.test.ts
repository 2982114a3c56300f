// Regression test for the process abort at teardown (glibc "tpp.c: __pthread_tpp_change_priority: Assertion …",
// std::system_error "Invalid argument", SIGSEGV): Dawn's Node binding polls its instance through a raw pointer held
// by objects that outlive it, so the instance (the create() object) must never be collected while a device, buffer
// or pending promise of it exists. The spawned script disposes WebGPU handles while keeping their devices and a
// buffer with a pending mapping, forces garbage collection between Dawn's polls, and re-initialises, three times.
import { expect, test } from 'vitest';
import { probeWebGPU } from '../src/index.ts';
import { webgpuRequired } from '../src/testing.ts';
import { runScript } from './spawn-script.ts';

test('dispose, garbage collection and re-initialisation with Dawn objects still referenced: the process exits 0', async (ctx) => {
  const probe = await probeWebGPU();
  if (!probe.adapterInfo) {
    if (webgpuRequired()) throw new Error(`REQUIRE_WEBGPU=1 but no adapter: ${probe.reason}`);
    ctx.skip(`no WebGPU adapter: ${probe.reason}`);
    return;
  }
  const r = await runScript('teardown-gc.ts', [], { nodeArgs: ['--expose-gc'] });
  expect(r.signal, `stderr:\n${r.stderr}`).toBeNull();
  expect(r.code, `stderr:\n${r.stderr}`).toBe(0);
  expect(r.stdout).toContain('teardown ok (6 objects kept)');
});
