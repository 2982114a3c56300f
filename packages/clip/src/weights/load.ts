/**
 * From weight files to a model and back: format detection (safetensors, PyTorch zip checkpoint), naming detection
 * (OpenAI or Hugging Face), configuration (given, stored in the file's metadata, or inferred from the shapes as
 * OpenAI's build_model does), and saving as safetensors. Nothing is downloaded: the caller passes bytes or a path.
 */
import { ClipModel, type CreateClipOptions, checkWeights } from '../model/clip.ts';
import { type ClipConfig, type ClipConfigName, clipConfig, inferClipConfig, parseClipConfig } from '../model/config.ts';
import { ClipModelError, WeightsMismatchError } from '../model/errors.ts';
import { stateDictSpec } from '../model/spec.ts';
import { cut, quoteName } from './describe.ts';
import { WeightsError } from './errors.ts';
import { huggingFaceToOpenAI, isHuggingFaceClip } from './huggingface.ts';
import type { WeightsLimits } from './limits.ts';
import { readSafetensors, writeSafetensors } from './safetensors.ts';
import { findNonFinite, type HostTensor, type StateDict, stateDictShapes } from './state-dict.ts';
import { isLegacyTorchFile, isZipFile, readTorchCheckpoint, type TorchCheckpoint } from './torch.ts';

export type WeightsFormat = 'safetensors' | 'pytorch';
export type WeightsNaming = 'openai' | 'huggingface';

/** 'safetensors', 'pytorch' (zip checkpoint), or undefined. */
export function detectWeightsFormat(bytes: Uint8Array): WeightsFormat | undefined {
  if (isZipFile(bytes) || isLegacyTorchFile(bytes)) return 'pytorch';
  if (bytes.length >= 9 && bytes[8] === 0x7b /* '{' */) {
    const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
    if (n >= 2n && n <= BigInt(bytes.length - 8)) return 'safetensors';
  }
  return undefined;
}

export interface ReadWeightsOptions extends WeightsLimits {
  /** Default: detected from the bytes. */
  format?: WeightsFormat;
  /** Default: 'huggingface' when keys start with text_model./vision_model., else 'openai'. */
  naming?: WeightsNaming | 'auto';
  /** safetensors: the largest header read (default 16 MiB). */
  maxHeaderBytes?: number;
  /** Accept NaN and ±Infinity in floating-point weights (default: refused with NON_FINITE). */
  allowNonFinite?: boolean;
}

export interface WeightsFile {
  /** OpenAI-named tensors (float32; int64 buffers as BigInt64Array). */
  stateDict: StateDict;
  format: WeightsFormat;
  naming: WeightsNaming;
  /** safetensors `__metadata__` (empty for PyTorch files). */
  metadata: Record<string, string>;
  /** For PyTorch checkpoints: where the state dict was found and the checkpoint's scalar entries. */
  checkpoint?: Omit<TorchCheckpoint, 'stateDict'>;
}

/** Reads weights from memory into an OpenAI-named state dict. */
export function readWeights(bytes: Uint8Array, file = 'weights', options: ReadWeightsOptions = {}): WeightsFile {
  return readWeightsFor(bytes, file, options, undefined);
}

function namingOf(names: Iterable<string>, naming: ReadWeightsOptions['naming']): WeightsNaming {
  return naming === undefined || naming === 'auto' ? (isHuggingFaceClip(names) ? 'huggingface' : 'openai') : naming;
}

/**
 * Reads weights; when the model's configuration is already known, OpenAI-named tensors are checked against its
 * shapes once the file's structure is read and before any tensor data is decoded (the same error as ClipModel.create).
 */
function readWeightsFor(
  bytes: Uint8Array,
  file: string,
  options: ReadWeightsOptions,
  config: ClipConfig | undefined,
): WeightsFile {
  const checkShapes =
    config === undefined
      ? undefined
      : (shapes: ReadonlyMap<string, readonly number[]>): void => {
          if (namingOf(shapes.keys(), options.naming) !== 'openai') return;
          const empty = new Float32Array(0);
          const headers = new Map<string, HostTensor>([...shapes].map(([k, shape]) => [k, { shape, data: empty }]));
          const mismatch = checkWeights(stateDictSpec(config), headers);
          if (mismatch.missing.length + mismatch.unexpected.length + mismatch.wrongShape.length > 0) {
            throw new WeightsMismatchError(mismatch, file);
          }
        };
  const limits: { maxDecodedBytes?: number; maxHeaderBytes?: number } = {};
  if (options.maxDecodedBytes !== undefined) limits.maxDecodedBytes = options.maxDecodedBytes;
  if (options.maxHeaderBytes !== undefined) limits.maxHeaderBytes = options.maxHeaderBytes;
  const format = options.format ?? detectWeightsFormat(bytes);
  if (format === undefined) {
    throw new WeightsError(
      'UNKNOWN_FORMAT',
      'neither safetensors (8-byte header length, then JSON) nor a PyTorch zip checkpoint (PK signature)',
      { file },
    );
  }
  let raw: StateDict;
  let metadata: Record<string, string> = {};
  let checkpoint: WeightsFile['checkpoint'];
  if (format === 'safetensors') {
    const contents = readSafetensors(bytes, file, checkShapes === undefined ? limits : { ...limits, checkShapes });
    raw = contents.tensors;
    metadata = contents.metadata;
  } else {
    const ck = readTorchCheckpoint(bytes, file, checkShapes === undefined ? limits : { ...limits, checkShapes });
    raw = ck.stateDict;
    const { stateDict: _ignored, ...rest } = ck;
    checkpoint = rest;
  }
  if (options.allowNonFinite !== true) {
    const bad = findNonFinite(raw);
    if (bad !== undefined) {
      const what = Number.isNaN(bad.value) ? 'NaN' : bad.value > 0 ? 'Infinity' : '-Infinity';
      const others = bad.tensors > 1 ? `; ${bad.tensors - 1} more tensors hold non-finite values too` : '';
      throw new WeightsError(
        'NON_FINITE',
        `tensor ${quoteName(bad.name)} holds ${what} at index ${bad.index} (${bad.count} non-finite values)${others}: the weights are damaged (a training run that diverged, or a corrupt file); use an earlier checkpoint, or pass { allowNonFinite: true } to read them anyway`,
        { file },
      );
    }
  }
  const naming = namingOf(raw.keys(), options.naming);
  const stateDict = naming === 'huggingface' ? huggingFaceToOpenAI(raw, file) : raw;
  const out: WeightsFile = { stateDict, format, naming, metadata };
  if (checkpoint !== undefined) out.checkpoint = checkpoint;
  return out;
}

/** Reads a weights file from disk (Node). */
export async function readWeightsFile(path: string, options: ReadWeightsOptions = {}): Promise<WeightsFile> {
  return readWeights(await readWeightsBytes(path), path, options);
}

async function readWeightsBytes(path: string): Promise<Uint8Array> {
  const { readFile } = await import('node:fs/promises');
  try {
    return await readFile(path);
  } catch (e) {
    throw new WeightsError('IO', `cannot read the weights file: ${(e as Error).message}`, { file: path, cause: e });
  }
}

export interface LoadClipOptions extends Omit<CreateClipOptions, 'weights' | 'source'>, ReadWeightsOptions {
  /**
   * The architecture: a shipped name ('ViT-B/16', …), constructor arguments, or an object holding them under
   * `constructor_args`. Default: the `config` entry of the file's safetensors metadata when present, else inferred
   * from the shapes (OpenAI's build_model rules).
   */
  config?: ClipConfigName | ClipConfig | unknown;
}

/** A configuration the caller gave (a shipped name or the constructor arguments). */
function givenConfig(config: unknown, file: string): ClipConfig {
  return typeof config === 'string'
    ? clipConfig(config as ClipConfigName)
    : parseClipConfig(config, `config for ${file}`);
}

/** The configuration stored in a file's metadata; BAD_METADATA when it is not valid JSON or not a valid config. */
function storedConfig(stored: string, file: string): ClipConfig {
  const fix = 'fix or remove the "config" entry of the file\'s metadata, or pass the configuration ({ config: ... })';
  let json: unknown;
  try {
    json = JSON.parse(stored);
  } catch (e) {
    throw new WeightsError(
      'BAD_METADATA',
      `the file's config metadata is invalid: not JSON (${cut((e as Error).message, 100)}); ${fix}`,
      { file, cause: e },
    );
  }
  try {
    return parseClipConfig(json, 'config');
  } catch (e) {
    if (!(e instanceof ClipModelError)) throw e;
    const why = e.message.replace(/^BAD_CONFIG: config: /, '');
    throw new WeightsError('BAD_METADATA', `the file's config metadata is invalid: ${cut(why, 200)}; ${fix}`, {
      file,
      cause: e,
    });
  }
}

/** Resolves the configuration of weights (see LoadClipOptions.config). */
export function resolveClipConfig(weights: WeightsFile, config: LoadClipOptions['config'], file: string): ClipConfig {
  if (config !== undefined) return givenConfig(config, file);
  const stored = weights.metadata.config;
  if (stored !== undefined) return storedConfig(stored, file);
  return inferClipConfig(stateDictShapes(weights.stateDict));
}

/** Reads weights and resolves their configuration, checking shapes before decoding when the config is given. */
function weightsAndConfig(
  bytes: Uint8Array,
  file: string,
  options: LoadClipOptions,
): { weights: WeightsFile; config: ClipConfig } {
  const given = options.config === undefined ? undefined : givenConfig(options.config, file);
  const weights = readWeightsFor(bytes, file, options, given);
  return { weights, config: given ?? resolveClipConfig(weights, undefined, file) };
}

/** Builds a model from weights in memory. */
export function clipFromWeights(bytes: Uint8Array, file = 'weights', options: LoadClipOptions = {}): ClipModel {
  const { weights, config } = weightsAndConfig(bytes, file, options);
  return ClipModel.create(config, {
    ...options,
    weights: weights.stateDict,
    source: file,
  });
}

/** Builds a model from a weights file on disk (Node): safetensors (OpenAI or HF names) or a PyTorch checkpoint. */
export async function loadClip(path: string, options: LoadClipOptions = {}): Promise<ClipModel> {
  const { weights, config } = weightsAndConfig(await readWeightsBytes(path), path, options);
  return ClipModel.create(config, {
    ...options,
    weights: weights.stateDict,
    source: path,
  });
}

export interface SaveClipOptions {
  /** Stored precision of float tensors (default F32). */
  dtype?: 'F32' | 'F16' | 'BF16';
  /** Extra string metadata. The configuration is always stored under `config` (JSON). */
  metadata?: Record<string, string>;
}

/** The model's state dict as safetensors bytes (OpenAI names, config in the metadata). */
export async function clipToSafetensors(model: ClipModel, options: SaveClipOptions = {}): Promise<Uint8Array> {
  const sd = await model.stateDict();
  const metadata: Record<string, string> = { format: 'pt', ...options.metadata, config: JSON.stringify(model.config) };
  const writeOptions: { dtype?: 'F32' | 'F16' | 'BF16'; metadata: Record<string, string> } = { metadata };
  if (options.dtype !== undefined) writeOptions.dtype = options.dtype;
  return writeSafetensors(sd, writeOptions);
}

/** Saves the model as safetensors (Node). */
export async function saveClip(model: ClipModel, path: string, options: SaveClipOptions = {}): Promise<void> {
  const bytes = await clipToSafetensors(model, options);
  const { writeFile } = await import('node:fs/promises');
  try {
    await writeFile(path, bytes);
  } catch (e) {
    throw new WeightsError('IO', `cannot write the weights file: ${(e as Error).message}`, { file: path, cause: e });
  }
}
