// The README's runnable example runs and checks itself (it throws if a value or gradient disagrees with its
// float64 references).
import { expect, test } from 'vitest';

test('examples/fairclip-loss.ts runs', async () => {
  await expect(import('../examples/fairclip-loss.ts')).resolves.toBeDefined();
});
