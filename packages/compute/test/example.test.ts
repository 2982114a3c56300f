// The README's runnable example runs and checks itself (it throws if the soft-min disagrees with the reference).
import { expect, test } from 'vitest';

test('examples/basic.ts runs', async () => {
  await expect(import('../examples/basic.ts')).resolves.toBeDefined();
});
