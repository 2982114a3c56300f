// Checkpoints that survive a kill at any moment. A checkpoint is a folder (state.json, model.safetensors,
// optimizer.safetensors) written under a temporary name, flushed, and renamed into place; then `latest.json` is
// replaced atomically to point at it; only then are older checkpoint folders removed. Whatever instant a run dies,
// `latest.json` names a complete checkpoint. Every output file of a run is written the same way (temp + rename).

import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { type HostTensor, readSafetensors, writeSafetensors } from '@fairclip/clip';
import { FairclipError } from '@fairclip/io';
import type { OptimizerState } from './optim.ts';

/** Thrown for unreadable or inconsistent checkpoints and for resuming a different configuration. */
export class CheckpointError extends FairclipError {
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super('CHECKPOINT', `checkpoint ${file}: ${message}`, options);
    this.name = 'CheckpointError';
    this.file = file;
  }
}

function fsyncPath(path: string, flags = 'r'): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, flags);
    fsyncSync(fd);
  } catch {
    // Directories cannot be fsynced on every platform; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes a file atomically: temp file in the same folder, fsync, rename over the target. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export interface CheckpointFiles<S> {
  state: S;
  /** Float32 tensors saved as model.safetensors (a CLIP state dict, or a probe head). */
  model: ReadonlyMap<string, HostTensor>;
  /** Optimiser state (buffers as optimizer.safetensors, the step count in state.json), or null. */
  optimizer: OptimizerState | null;
  /** String metadata stored in model.safetensors (e.g. the CLIP configuration). */
  modelMetadata?: Record<string, string>;
}

interface StoredState<S> {
  version: 1;
  name: string;
  optimizer: { kind: OptimizerState['kind']; step: number } | null;
  state: S;
}

const LATEST = 'latest.json';

/** Writes checkpoint `name` into `dir` (created if needed) and makes it the latest; removes the older ones. */
export function writeCheckpoint<S>(dir: string, name: string, files: CheckpointFiles<S>): string {
  mkdirSync(dir, { recursive: true });
  const final = join(dir, name);
  const tmp = join(dir, `${name}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  writeFileAtomic(
    join(tmp, 'model.safetensors'),
    writeSafetensors(files.model, files.modelMetadata ? { metadata: files.modelMetadata } : {}),
  );
  if (files.optimizer) {
    const buffers = new Map<string, HostTensor>(
      Object.entries(files.optimizer.buffers).map(([k, b]) => [k, { shape: [...b.shape], data: b.data }]),
    );
    writeFileAtomic(join(tmp, 'optimizer.safetensors'), writeSafetensors(buffers));
  }
  const stored: StoredState<S> = {
    version: 1,
    name,
    optimizer: files.optimizer ? { kind: files.optimizer.kind, step: files.optimizer.step } : null,
    state: files.state,
  };
  writeFileAtomic(join(tmp, 'state.json'), `${JSON.stringify(stored)}\n`);
  fsyncPath(tmp);
  if (existsSync(final)) rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  fsyncPath(dir);
  writeFileAtomic(join(dir, LATEST), `${JSON.stringify({ name })}\n`);
  for (const entry of readdirSync(dir)) {
    if (entry === name || entry === LATEST || entry.startsWith(`${LATEST}.tmp-`)) continue;
    rmSync(join(dir, entry), { recursive: true, force: true });
  }
  return final;
}

export interface LoadedCheckpoint<S> {
  name: string;
  path: string;
  state: S;
  model: Map<string, HostTensor>;
  modelMetadata: Record<string, string>;
  optimizer: OptimizerState | null;
}

/** Reads the latest checkpoint of `dir`, or null when there is none. Throws CheckpointError when it is unreadable. */
export function readLatestCheckpoint<S>(dir: string): LoadedCheckpoint<S> | null {
  const latest = join(dir, LATEST);
  if (!existsSync(latest)) return null;
  let name: string;
  try {
    name = (JSON.parse(readFileSync(latest, 'utf8')) as { name: string }).name;
  } catch (e) {
    throw new CheckpointError(latest, `unreadable (${(e as Error).message})`, { cause: e });
  }
  const path = join(dir, name);
  const statePath = join(path, 'state.json');
  if (!existsSync(statePath)) throw new CheckpointError(path, 'latest.json names a checkpoint without state.json');
  let stored: StoredState<S>;
  try {
    stored = JSON.parse(readFileSync(statePath, 'utf8')) as StoredState<S>;
  } catch (e) {
    throw new CheckpointError(statePath, `unreadable (${(e as Error).message})`, { cause: e });
  }
  if (stored.version !== 1) throw new CheckpointError(statePath, `unknown checkpoint version ${stored.version}`);
  const modelFile = join(path, 'model.safetensors');
  const weights = readSafetensors(readFileSync(modelFile), modelFile);
  let optimizer: OptimizerState | null = null;
  if (stored.optimizer) {
    const optFile = join(path, 'optimizer.safetensors');
    const contents = readSafetensors(readFileSync(optFile), optFile);
    const buffers: OptimizerState['buffers'] = {};
    for (const [k, t] of contents.tensors) {
      if (!(t.data instanceof Float32Array)) throw new CheckpointError(optFile, `buffer ${k} is not float32`);
      buffers[k] = { shape: [...t.shape], data: t.data };
    }
    optimizer = { kind: stored.optimizer.kind, step: stored.optimizer.step, buffers };
  }
  return { name, path, state: stored.state, model: weights.tensors, modelMetadata: weights.metadata, optimizer };
}
