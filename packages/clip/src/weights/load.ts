/**
 * From weight files to a model and back: format detection (safetensors, PyTorch zip checkpoint), naming detection
 * (OpenAI or Hugging Face), configuration (given, stored in the file's metadata, or inferred from the shapes as
 * OpenAI's build_model does), and saving as safetensors. Nothing is downloaded: the caller passes bytes or a path.
 */
import { ClipModel, type CreateClipOptions } from '../model/clip.ts';
import { type ClipConfig, type ClipConfigName, clipConfig, inferClipConfig, parseClipConfig } from '../model/config.ts';
import { WeightsError } from './errors.ts';
import { huggingFaceToOpenAI, isHuggingFaceClip } from './huggingface.ts';
import { readSafetensors, writeSafetensors } from './safetensors.ts';
import { type StateDict, stateDictShapes } from './state-dict.ts';
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

export interface ReadWeightsOptions {
  /** Default: detected from the bytes. */
  format?: WeightsFormat;
  /** Default: 'huggingface' when keys start with text_model./vision_model., else 'openai'. */
  naming?: WeightsNaming | 'auto';
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
    const contents = readSafetensors(bytes, file);
    raw = contents.tensors;
    metadata = contents.metadata;
  } else {
    const ck = readTorchCheckpoint(bytes, file);
    raw = ck.stateDict;
    const { stateDict: _ignored, ...rest } = ck;
    checkpoint = rest;
  }
  const naming =
    options.naming === undefined || options.naming === 'auto'
      ? isHuggingFaceClip(raw.keys())
        ? 'huggingface'
        : 'openai'
      : options.naming;
  const stateDict = naming === 'huggingface' ? huggingFaceToOpenAI(raw, file) : raw;
  const out: WeightsFile = { stateDict, format, naming, metadata };
  if (checkpoint !== undefined) out.checkpoint = checkpoint;
  return out;
}

/** Reads a weights file from disk (Node). */
export async function readWeightsFile(path: string, options: ReadWeightsOptions = {}): Promise<WeightsFile> {
  const { readFile } = await import('node:fs/promises');
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new WeightsError('IO', `cannot read the weights file: ${(e as Error).message}`, { file: path, cause: e });
  }
  return readWeights(bytes, path, options);
}

export interface LoadClipOptions extends Omit<CreateClipOptions, 'weights' | 'source'>, ReadWeightsOptions {
  /**
   * The architecture: a shipped name ('ViT-B/16', …), constructor arguments, or an object holding them under
   * `constructor_args`. Default: the `config` entry of the file's safetensors metadata when present, else inferred
   * from the shapes (OpenAI's build_model rules).
   */
  config?: ClipConfigName | ClipConfig | unknown;
}

/** Resolves the configuration of weights (see LoadClipOptions.config). */
export function resolveClipConfig(weights: WeightsFile, config: LoadClipOptions['config'], file: string): ClipConfig {
  if (typeof config === 'string') return clipConfig(config as ClipConfigName);
  if (config !== undefined) return parseClipConfig(config, `config for ${file}`);
  const stored = weights.metadata.config;
  if (stored !== undefined) {
    try {
      return parseClipConfig(JSON.parse(stored), `${file} metadata "config"`);
    } catch {
      // fall through to inference
    }
  }
  return inferClipConfig(stateDictShapes(weights.stateDict));
}

/** Builds a model from weights in memory. */
export function clipFromWeights(bytes: Uint8Array, file = 'weights', options: LoadClipOptions = {}): ClipModel {
  const weights = readWeights(bytes, file, options);
  return ClipModel.create(resolveClipConfig(weights, options.config, file), {
    ...options,
    weights: weights.stateDict,
    source: file,
  });
}

/** Builds a model from a weights file on disk (Node): safetensors (OpenAI or HF names) or a PyTorch checkpoint. */
export async function loadClip(path: string, options: LoadClipOptions = {}): Promise<ClipModel> {
  const weights = await readWeightsFile(path, options);
  return ClipModel.create(resolveClipConfig(weights, options.config, path), {
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
