import fc from 'fast-check';
import { expect, test } from 'vitest';
import { placeholder } from '@fairclip/fairness';
test('smoke', () => {
  fc.assert(fc.property(fc.integer(), (n) => { expect(n + placeholder).toBe(placeholder + n); }));
});
