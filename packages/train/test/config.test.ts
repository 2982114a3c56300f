import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { applyOverrides, ConfigError, canonicalJson, validateConfig } from '../src/config.ts';
import { mergeDeep, PRESET_NAMES, presetObject, resolvePresetConfig } from '../src/presets.ts';

const brief = (() => {
  try {
    return readFileSync(new URL('../../../../shared/reference/fairclip.md', import.meta.url), 'utf8');
  } catch {
    return undefined;
  }
})();

describe('presets', () => {
  test.each(PRESET_NAMES)('%s validates and cites its source', (name) => {
    const cfg = resolvePresetConfig(name);
    expect(cfg.preset).toBe(name);
    expect(cfg.source).toMatch(/fairclip\.md §\d/);
    const file = JSON.parse(readFileSync(new URL(`../presets/${name}.json`, import.meta.url), 'utf8'));
    expect(file.$comment).toMatch(/Source: fairclip\.md §\d/);
  });

  test('the issue-named hyperparameters are what the reference brief says', () => {
    const o24 = resolvePresetConfig('fairclip-official-2024');
    expect(o24.fairness).toMatchObject({
      lambda: 1e-7,
      similarity: 'official',
      normalisation: 'group-sum',
      groupSource: 'loaders',
    });
    expect(o24.fairness?.distance).toMatchObject({ blur: 1e-4, scaling: 0.5, p: 2, debias: true });
    expect(o24.optim).toMatchObject({
      lr: 1e-5,
      betas: [0.1, 0.1],
      eps: 1e-6,
      weightDecay: 6e-5,
      trainable: 'official',
    });
    expect(o24.eval.selection).toBe('test-auc');
    const o25 = resolvePresetConfig('fairclip-official-2025');
    expect(o25.fairness).toMatchObject({ lambda: 1e-6 });
    expect(o25.fairness?.distance.blur).toBe(1e-6);
    const dbg = resolvePresetConfig('fairclip-debugged');
    expect(dbg.fairness?.normalisation).toBe('both');
    expect(dbg.eval.selection).toBe('val-auc');
    const a = resolvePresetConfig('a-fairclip');
    expect(a.optim).toMatchObject({ lr: 1.49e-5, trainable: 'all' });
    expect(a.fairness).toMatchObject({ lambda: 0.07, similarity: 'pair', normalisation: 'none' });
    expect(a.fairness?.distance).toMatchObject({ blur: 1e-4, scaling: 0.95 });
    const plus = resolvePresetConfig('fairclip-plus');
    expect(plus.fairness?.attributes).toEqual({ race: 0.5, gender: 0.5 });
    expect(resolvePresetConfig('clip-zeroshot').eval.prompts).toEqual([
      'A photo of non-glaucoma',
      'A photo of glaucoma',
    ]);
    expect(resolvePresetConfig('linear-probe').linearProbe).toMatchObject({
      blr: 0.1,
      batchSize: 512,
      warmupEpochs: 10,
      weightDecay: 0,
    });
    const ff = resolvePresetConfig('fairface-fairclip-plus');
    expect(ff.fairness).toMatchObject({ lambda: 1e-5, attributes: { age: 0.5, race: 0.5 }, groupBatchSize: 128 });
    expect(ff.fairness?.distance).toMatchObject({ diameter: 2, scaling: 0.9, blur: 1e-4 });
    expect(ff.eval.prompts).toEqual(['A picture of a female person', 'A picture of a male person']);
  });

  test.skipIf(!brief)('the brief contains the numbers the presets cite', () => {
    expect(brief).toContain('lr 1.49e-5, λ 0.07');
    expect(brief).toMatch(/betas = \(0\.1, 0\.1\)\*\*, eps = 1e-6, weight_decay = 6e-5/);
  });
});

describe('overrides', () => {
  test('field by field', () => {
    const cfg = resolvePresetConfig('fairclip-official-2024', [
      'fairness.lambda=1e-6',
      'training.epochs=3',
      'fairness.attributes.gender=1',
      'fairness.attributes.race=0',
      'model.arch=models/tiny.json',
      'data.limits.train=8',
      'eval.every=2',
    ]);
    expect(cfg.fairness?.lambda).toBe(1e-6);
    expect(cfg.training.epochs).toBe(3);
    expect(cfg.fairness?.attributes).toEqual({ race: 0, gender: 1 });
    expect(cfg.model.arch).toBe('models/tiny.json');
    expect(cfg.data.limits).toEqual({ train: 8, val: null, test: null });
    expect(cfg.eval.every).toBe(2);
  });
  test('unknown field, wrong type and bad values name the field', () => {
    expect(() => resolvePresetConfig('a-fairclip', ['fairness.lamda=1'])).toThrow(/fairness\.lamda: unknown field/);
    expect(() => resolvePresetConfig('a-fairclip', ['training.epochs="ten"'])).toThrow(
      /training\.epochs: expected a finite number/,
    );
    expect(() => resolvePresetConfig('a-fairclip', ['fairness.lambda=-1'])).toThrow(/fairness\.lambda: must be >= 0/);
    expect(() => resolvePresetConfig('a-fairclip', ['fairness.attributes.religion=1'])).toThrow(
      /fairness\.attributes\.religion: dataset fairvlmed has no attribute 'religion'/,
    );
    expect(() => resolvePresetConfig('fairface-fairclip-plus', ['fairness.attributes.language=1'])).toThrow(
      /fairness\.attributes\.language/,
    );
    expect(() => resolvePresetConfig('clip-zeroshot', ['eval.attributes=["race","income"]'])).toThrow(
      /eval\.attributes\[1\]/,
    );
    expect(() => resolvePresetConfig('a-fairclip', ['fairness.distance.solver=fast'])).toThrow(
      /fairness\.distance\.solver: expected one of/,
    );
    expect(() => resolvePresetConfig('clip-zeroshot', ['fairness.lambda=1'])).toThrow(/fairness: is null/);
    expect(() => resolvePresetConfig('nope')).toThrow(/unknown preset 'nope'/);
    expect(() => resolvePresetConfig('a-fairclip', ['model.arch=tiny'])).toThrow(
      /model\.arch: unknown architecture 'tiny'/,
    );
    expect(() => resolvePresetConfig('a-fairclip', ['data.limits.val=0'])).toThrow(/data\.limits\.val: must be >= 1/);
    expect(() => resolvePresetConfig('a-fairclip', ['eval.rateMode="lenient"'])).toThrow(
      /eval\.rateMode: expected one of/,
    );
    expect(() => resolvePresetConfig('a-fairclip', ['eval.attributes=["race","race"]'])).toThrow(
      /eval\.attributes\[1\]: attribute 'race' is listed twice/,
    );
    expect(() => applyOverrides({}, ['novalue'])).toThrow(ConfigError);
  });
  test('a preset field of the wrong type is rejected', () => {
    const bad = {
      ...presetObject('a-fairclip'),
      optim: { ...(presetObject('a-fairclip').optim as object), betas: [0.1] },
    };
    expect(() => validateConfig(bad)).toThrow(/optim\.betas: expected a pair/);
  });
});

describe('helpers', () => {
  test('mergeDeep merges objects and replaces arrays', () => {
    expect(mergeDeep({ a: { b: 1, c: [1, 2] }, d: null }, { a: { c: [3] }, d: { e: 1 } })).toEqual({
      a: { b: 1, c: [3] },
      d: { e: 1 },
    });
  });
  test('canonicalJson is key-order independent', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe(canonicalJson({ a: { c: 3, d: 2 }, b: 1 }));
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });
});
