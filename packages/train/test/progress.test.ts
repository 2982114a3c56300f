import { describe, expect, test } from 'vitest';
import { Progress } from '../src/progress.ts';

describe('Progress', () => {
  test('reports step, values, throughput and ETA', () => {
    let t = 0;
    const out: string[] = [];
    const p = new Progress({
      label: 'epoch 1',
      total: 10,
      unit: 'samples',
      now: () => t,
      stream: { write: (s) => out.push(s) },
      minIntervalMs: 0,
    });
    t = 2000;
    p.tick(2, { loss: 0.5, sinkhorn: 1.5e-7 }, 64);
    const line = p.line();
    expect(line).toContain('2/10');
    expect(line).toContain('loss 0.5000');
    expect(line).toContain('sinkhorn 1.500e-7');
    expect(line).toContain('32.00 samples/s');
    expect(line).toContain('eta 00:08');
    expect(out.length).toBe(1);
  });
  test('throttles output when not a TTY and always prints the last step', () => {
    let t = 0;
    const out: string[] = [];
    const p = new Progress({
      label: 'x',
      total: 5,
      now: () => t,
      stream: { write: (s) => out.push(s) },
      minIntervalMs: 1000,
    });
    for (let i = 0; i < 5; i++) {
      t += 10;
      p.tick();
    }
    expect(out.length).toBe(2); // first tick, then the final step
    expect(out[1]).toContain('5/5');
    p.finish(); // the last line is up to date: not repeated off a TTY
    expect(out.length).toBe(2);
  });
  test('silent mode prints nothing', () => {
    const out: string[] = [];
    const p = new Progress({ label: 'x', total: 1, silent: true, stream: { write: (s) => out.push(s) } });
    p.tick();
    p.finish();
    expect(out).toEqual([]);
  });
});
