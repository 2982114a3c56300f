// Ranges of the run-length and seed fields: a fine-tuning run of 0 epochs (which would finish "complete" having
// trained nothing), negative or fractional epochs, and seeds that are not exact integers in [0, 2^53 − 1] are
// refused by resolvePresetConfig with a ConfigError naming the key and the accepted range. Messages stay short
// whatever the value.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ConfigError, validateConfig } from '../src/config.ts';
import { presetObject, resolvePresetConfig } from '../src/presets.ts';

function refusal(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).code).toBe('CONFIG');
    expect((e as Error).message).not.toContain('\n');
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('training.epochs', () => {
  test.each([
    ['0', /mode 'finetune' trains at least 1 epoch, got 0 \(accepted: integers from 1 to 1000000\)/],
    ['-1', /must be >= 0, got -1 \(accepted: integers from 0 to 1000000\)/],
    ['1.5', /expected an integer, got 1\.5 \(accepted: integers from 0 to 1000000\)/],
    ['1e7', /must be <= 1000000, got 10000000/],
    ['"3"', /expected a finite number, got string "3"/],
    ['null', /expected a finite number, got null/],
  ])('training.epochs=%s is refused for fine-tuning', (value, message) => {
    for (const preset of ['clip-finetune', 'a-fairclip', 'fairclip-official-2024']) {
      const e = refusal(() => resolvePresetConfig(preset, [`training.epochs=${value}`]));
      expect(e.field).toBe('training.epochs');
      expect(e.message).toMatch(/^config: training\.epochs: /);
      expect(e.message).toMatch(message);
    }
  });

  test('zero-shot keeps its 0 epochs; fine-tuning accepts 1 and the cap', () => {
    expect(resolvePresetConfig('clip-zeroshot').training.epochs).toBe(0);
    expect(resolvePresetConfig('clip-finetune', ['training.epochs=1']).training.epochs).toBe(1);
    expect(resolvePresetConfig('clip-finetune', ['training.epochs=1000000']).training.epochs).toBe(1_000_000);
  });

  test('linearProbe.epochs: 0, negative and fractional are refused with the range', () => {
    for (const v of ['0', '-3', '2.5'])
      expect(refusal(() => resolvePresetConfig('linear-probe', [`linearProbe.epochs=${v}`])).message).toMatch(
        /linearProbe\.epochs: .*\(accepted: integers from 1 to 1000000\)/,
      );
  });
});

describe('training.seed', () => {
  const MAX = Number.MAX_SAFE_INTEGER; // 2^53 − 1

  test.each([
    ['9007199254740992', /must be <= 2\^53 − 1, got 9007199254740992 \(accepted: integers from 0 to 2\^53 − 1\)/],
    ['9007199254740993', /must be <= 2\^53 − 1/], // parses to 2^53: not exact
    ['1e300', /must be <= 2\^53 − 1/],
    ['-1', /must be >= 0, got -1 \(accepted: integers from 0 to 2\^53 − 1\)/],
    ['0.5', /expected an integer, got 0\.5/],
    ['"7"', /expected a finite number, got string "7"/],
  ])('training.seed=%s is refused', (value, message) => {
    const e = refusal(() => resolvePresetConfig('a-fairclip', [`training.seed=${value}`]));
    expect(e.field).toBe('training.seed');
    expect(e.message).toMatch(message);
  });

  test('0 and 2^53 − 1 are seeds', () => {
    expect(resolvePresetConfig('a-fairclip', ['training.seed=0']).training.seed).toBe(0);
    expect(resolvePresetConfig('a-fairclip', [`training.seed=${MAX}`]).training.seed).toBe(MAX);
  });

  test('property: a seed is accepted exactly when it is an integer in [0, 2^53 − 1]', () => {
    const base = presetObject('a-fairclip') as { training: Record<string, unknown> };
    fc.assert(
      fc.property(
        fc.oneof(
          fc.double({ noNaN: false }),
          fc.integer({ min: -1000, max: 1000 }),
          fc.constantFrom(MAX, MAX + 1, 2 ** 53 + 2, -MAX, 2 ** 64),
        ),
        (seed) => {
          const cfg = { ...base, training: { ...base.training, seed } };
          const ok = Number.isInteger(seed) && seed >= 0 && seed <= MAX;
          if (ok) expect(validateConfig(cfg).training.seed).toBe(seed);
          else expect(refusal(() => validateConfig(cfg)).field).toBe('training.seed');
        },
      ),
    );
  });
});

describe('bounded messages', () => {
  test('a huge value, key or attribute name is cut in the message', () => {
    const long = 'x'.repeat(100_000);
    const cases = [
      () => resolvePresetConfig('a-fairclip', [`training.seed="${long}"`]),
      () => resolvePresetConfig('a-fairclip', [`model.arch=${long}`]),
      () => resolvePresetConfig('a-fairclip', [`fairness.attributes.${long}=1`]),
      () => resolvePresetConfig('a-fairclip', [`${long}=1`]),
      () => resolvePresetConfig('clip-zeroshot', [`eval.attributes=["${long}"]`]),
    ];
    for (const c of cases) {
      const e = refusal(c);
      expect(e.message.length).toBeLessThan(600);
      expect(e.message).toContain('…');
    }
  });
});
