// Variant presets are data files (presets/*.json, each citing its source in the reference brief). A preset may
// extend another; objects merge field by field, arrays and scalars replace.
import aFairclip from '../presets/a-fairclip.json';
import clipFinetune from '../presets/clip-finetune.json';
import clipZeroshot from '../presets/clip-zeroshot.json';
import fairclipDebugged from '../presets/fairclip-debugged.json';
import fairclipOfficial2024 from '../presets/fairclip-official-2024.json';
import fairclipOfficial2025 from '../presets/fairclip-official-2025.json';
import fairclipPlus from '../presets/fairclip-plus.json';
import fairclipPlusMmdGaussian from '../presets/fairclip-plus-mmd-gaussian.json';
import fairclipPlusMmdLaplacian from '../presets/fairclip-plus-mmd-laplacian.json';
import fairfaceClipFinetune from '../presets/fairface-clip-finetune.json';
import fairfaceClipZeroshot from '../presets/fairface-clip-zeroshot.json';
import fairfaceFairclipPlus from '../presets/fairface-fairclip-plus.json';
import linearProbe from '../presets/linear-probe.json';
import { applyOverrides, ConfigError, type TrainConfig, validateConfig } from './config.ts';

const RAW: Record<string, Record<string, unknown>> = {
  'clip-zeroshot': clipZeroshot,
  'clip-finetune': clipFinetune,
  'fairclip-official-2024': fairclipOfficial2024,
  'fairclip-official-2025': fairclipOfficial2025,
  'fairclip-debugged': fairclipDebugged,
  'a-fairclip': aFairclip,
  'fairclip-plus': fairclipPlus,
  'fairclip-plus-mmd-gaussian': fairclipPlusMmdGaussian,
  'fairclip-plus-mmd-laplacian': fairclipPlusMmdLaplacian,
  'linear-probe': linearProbe,
  'fairface-clip-zeroshot': fairfaceClipZeroshot,
  'fairface-clip-finetune': fairfaceClipFinetune,
  'fairface-fairclip-plus': fairfaceFairclipPlus,
};

/** Names of the shipped presets. */
export const PRESET_NAMES: readonly string[] = Object.keys(RAW);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge: objects merge key by key (a null base takes the override whole), everything else is replaced. */
export function mergeDeep(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return structuredClone(over);
  const out: Record<string, unknown> = structuredClone(base);
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? mergeDeep(out[k], v) : structuredClone(v);
  return out;
}

function resolveRaw(name: string, seen: string[] = []): Record<string, unknown> {
  const raw = RAW[name];
  if (!raw) throw new ConfigError('preset', `unknown preset '${name}' (known: ${PRESET_NAMES.join(', ')})`);
  if (seen.includes(name)) throw new ConfigError('preset', `preset inheritance cycle: ${[...seen, name].join(' -> ')}`);
  const { extends: parent, $comment: _comment, ...own } = raw;
  const base = typeof parent === 'string' ? resolveRaw(parent, [...seen, name]) : {};
  return mergeDeep(base, own) as Record<string, unknown>;
}

/** The raw (unvalidated) merged preset, with `preset` set to its name. */
export function presetObject(name: string): Record<string, unknown> {
  return { ...resolveRaw(name), preset: name };
}

/**
 * Resolves a preset with field overrides ("fairness.lambda=1e-6", "training.epochs=3") and validates the result.
 * Throws a ConfigError naming the field before any training starts.
 */
export function resolvePresetConfig(name: string, overrides: readonly string[] = []): TrainConfig {
  return validateConfig(applyOverrides(presetObject(name), overrides));
}
