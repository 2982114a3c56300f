// Checkpoints that survive a kill at any moment and that are verified before a run resumes from them.
//
// A checkpoint is a folder (state.json, model.safetensors, optimizer.safetensors, then manifest.json: the size and
// sha256 of each of the others) written under a temporary name, flushed, and renamed into place; then `latest.json`
// is replaced atomically to name it (and the previous checkpoint); only then are the other folders removed. So the
// latest checkpoint and the one before it are kept: whatever instant a run dies, `latest.json` names a complete
// checkpoint, and when that one turns out to be unusable (a flipped byte, a deleted file, a hand-edited state) a run
// resumes from the previous one with a warning instead of starting over. Every output file of a run is written the
// same way (temp + rename); operating-system errors while writing become one-line TrainErrors with code 'IO'.

import { createHash } from 'node:crypto';
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
  statSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { type HostTensor, readSafetensors, writeSafetensors } from '@fairclip/clip';
import { FairclipError } from '@fairclip/io';
import { bounded, writeError } from './errors.ts';
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

/**
 * Creates folder `path` and its missing parents one level at a time (Node's recursive mkdir spins forever under
 * /proc), after checking that the nearest existing ancestor is a folder. Throws TrainError 'IO' naming the path.
 */
export function ensureDir(path: string): void {
  const missing: string[] = [];
  let p = path;
  for (;;) {
    let st: ReturnType<typeof statSync> | undefined;
    try {
      st = statSync(p, { throwIfNoEntry: false });
    } catch (e) {
      throw writeError(p, e, 'cannot create the folder');
    }
    if (st) {
      if (!st.isDirectory())
        throw writeError(
          p,
          Object.assign(new Error(`${p} is not a folder`), { code: missing.length ? 'ENOTDIR' : 'EEXIST' }),
          'cannot create the folder',
        );
      break;
    }
    missing.push(p);
    const parent = dirname(p);
    if (parent === p) break;
    p = parent;
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && statSync(dir, { throwIfNoEntry: false })?.isDirectory())
        continue;
      throw writeError(dir, e, 'cannot create the folder');
    }
  }
}

/** Writes a file atomically: temp file in the same folder, fsync, rename over the target. OS errors: TrainError 'IO'. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
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
  } catch (e) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing was created (the folder is missing or not a folder)
    }
    throw writeError(path, e);
  }
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

/** The version of state.json that comes with a manifest.json (version 1 had no checksums). */
const VERSION = 2;

interface StoredState<S> {
  version: typeof VERSION;
  name: string;
  optimizer: { kind: OptimizerState['kind']; step: number } | null;
  state: S;
}

/** Written last into a checkpoint folder: the size and sha256 of every other file, and when it was written. */
interface Manifest {
  version: typeof VERSION;
  written: number;
  files: Record<string, { bytes: number; sha256: string }>;
}

const LATEST = 'latest.json';
const MANIFEST = 'manifest.json';
const STATE = 'state.json';
const MODEL = 'model.safetensors';
const OPTIMIZER = 'optimizer.safetensors';
/** Checkpoint names (also what latest.json may name: no path separators, no '..'). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The checkpoint names latest.json holds (null when it is missing, a string saying why when it is unusable). */
function readPointer(dir: string): { name: string; previous: string | null } | string | null {
  const file = join(dir, LATEST);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return `${LATEST} is unreadable (${(e as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return `${LATEST} is not valid JSON`;
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  if (typeof o.name !== 'string' || !NAME.test(o.name)) return `${LATEST} names no checkpoint`;
  const previous = typeof o.previous === 'string' && NAME.test(o.previous) ? o.previous : null;
  return { name: o.name, previous };
}

/**
 * Writes checkpoint `name` into `dir` (created if needed) and makes it the latest. Keeps `keep` (default: the
 * checkpoint latest.json named so far) as the previous one and removes every other folder of `dir`.
 */
export function writeCheckpoint<S>(
  dir: string,
  name: string,
  files: CheckpointFiles<S>,
  options: { keep?: string | null } = {},
): string {
  if (!NAME.test(name)) throw new RangeError(`checkpoint name must match ${NAME}, got ${bounded(name)}`);
  ensureDir(dir);
  const before = readPointer(dir);
  const fromPointer =
    before && typeof before === 'object' ? (before.name === name ? before.previous : before.name) : null;
  const keep = options.keep === undefined ? fromPointer : options.keep === name ? null : options.keep;
  const final = join(dir, name);
  const tmp = join(dir, `${name}.tmp-${process.pid}`);
  const manifest: Manifest = { version: VERSION, written: Date.now(), files: {} };
  const put = (file: string, bytes: Uint8Array) => {
    writeFileAtomic(join(tmp, file), bytes);
    manifest.files[file] = { bytes: bytes.length, sha256: sha256(bytes) };
  };
  try {
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
  } catch (e) {
    throw writeError(tmp, e, 'cannot create the checkpoint folder');
  }
  put(MODEL, writeSafetensors(files.model, files.modelMetadata ? { metadata: files.modelMetadata } : {}));
  if (files.optimizer) {
    const buffers = new Map<string, HostTensor>(
      Object.entries(files.optimizer.buffers).map(([k, b]) => [k, { shape: [...b.shape], data: b.data }]),
    );
    put(OPTIMIZER, writeSafetensors(buffers));
  }
  const stored: StoredState<S> = {
    version: VERSION,
    name,
    optimizer: files.optimizer ? { kind: files.optimizer.kind, step: files.optimizer.step } : null,
    state: files.state,
  };
  put(STATE, Buffer.from(`${JSON.stringify(stored)}\n`, 'utf8'));
  writeFileAtomic(join(tmp, MANIFEST), `${JSON.stringify(manifest)}\n`);
  fsyncPath(tmp);
  try {
    // A checkpoint of the same name (a run resumed from the previous one): moved aside first, removed below.
    if (existsSync(final)) renameSync(final, join(dir, `${name}.old-${process.pid}`));
    renameSync(tmp, final);
  } catch (e) {
    throw writeError(final, e);
  }
  fsyncPath(dir);
  writeFileAtomic(join(dir, LATEST), `${JSON.stringify(keep ? { name, previous: keep } : { name })}\n`);
  try {
    for (const entry of readdirSync(dir)) {
      if (entry === name || entry === keep || entry === LATEST) continue;
      rmSync(join(dir, entry), { recursive: true, force: true });
    }
  } catch (e) {
    throw writeError(dir, e, 'cannot remove old checkpoints in');
  }
  return final;
}

/** A checkpoint whose state.json matched its manifest (the tensor files are verified when it is loaded). */
export interface CheckpointCandidate<S> {
  name: string;
  path: string;
  state: S;
  optimizer: StoredState<S>['optimizer'];
  manifest: Manifest;
}

/** One checkpoint folder of a run: usable so far (`candidate`) or not (`problem`, a short reason). */
export interface CheckpointEntry<S> {
  name: string;
  path: string;
  candidate: CheckpointCandidate<S> | null;
  problem: string | null;
}

/** The checkpoints of a run folder, in order of preference (latest.json's, its previous one, any other by age). */
export interface FoundCheckpoints<S> {
  dir: string;
  entries: CheckpointEntry<S>[];
  /** Why latest.json could not be followed (null when it named the first entry). */
  pointerProblem: string | null;
}

function readManifest(path: string): Manifest | string {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(join(path, MANIFEST), 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      try {
        const old = JSON.parse(readFileSync(join(path, STATE), 'utf8')) as { version?: unknown };
        if (old.version === 1) return 'written by an older version without checksums';
      } catch {
        // fall through
      }
      return `${MANIFEST} is missing`;
    }
    return code ? `${MANIFEST} is unreadable (${code})` : `${MANIFEST} is not valid JSON`;
  }
  const m = v as Partial<Manifest> | null;
  const okEntry = (e: unknown) => {
    const x = e as { bytes?: unknown; sha256?: unknown } | null;
    return (
      typeof x === 'object' &&
      x !== null &&
      Number.isSafeInteger(x.bytes) &&
      (x.bytes as number) >= 0 &&
      typeof x.sha256 === 'string' &&
      /^[0-9a-f]{64}$/.test(x.sha256)
    );
  };
  if (
    typeof m !== 'object' ||
    m === null ||
    m.version !== VERSION ||
    typeof m.written !== 'number' ||
    !Number.isFinite(m.written) ||
    typeof m.files !== 'object' ||
    m.files === null ||
    !Object.values(m.files).every(okEntry) ||
    !m.files[STATE] ||
    !m.files[MODEL]
  )
    return `${MANIFEST} is malformed`;
  return m as Manifest;
}

/** Reads `file` of a checkpoint and checks it against the manifest; returns the bytes or the problem. */
function readVerified(path: string, file: string, manifest: Manifest): Uint8Array | string {
  const want = manifest.files[file];
  if (!want) return `${file} is not in ${MANIFEST}`;
  const full = join(path, file);
  let size: number;
  try {
    size = statSync(full).size;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${file} is missing` : `${file} is unreadable (${code ?? 'error'})`;
  }
  if (size !== want.bytes) return `${file} has ${size} bytes, ${MANIFEST} says ${want.bytes} (truncated or modified)`;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(full);
  } catch (e) {
    return `${file} is unreadable (${(e as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  if (sha256(bytes) !== want.sha256) return `${file} does not match its sha256 in ${MANIFEST} (corrupt or modified)`;
  return bytes;
}

function inspect<S>(dir: string, name: string): CheckpointEntry<S> {
  const path = join(dir, name);
  const fail = (problem: string): CheckpointEntry<S> => ({ name, path, candidate: null, problem });
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return fail('the folder is missing');
  if (!st.isDirectory()) return fail('not a folder');
  const manifest = readManifest(path);
  if (typeof manifest === 'string') return fail(manifest);
  const bytes = readVerified(path, STATE, manifest);
  if (typeof bytes === 'string') return fail(bytes);
  let stored: StoredState<S>;
  try {
    stored = JSON.parse(Buffer.from(bytes).toString('utf8')) as StoredState<S>;
  } catch {
    return fail(`${STATE} is not valid JSON`);
  }
  if (typeof stored !== 'object' || stored === null || stored.version !== VERSION)
    return fail(`${STATE} has an unknown version`);
  const o = stored.optimizer as unknown;
  if (
    o !== null &&
    !(
      typeof o === 'object' &&
      ((o as { kind?: unknown }).kind === 'adam' || (o as { kind?: unknown }).kind === 'lars') &&
      Number.isSafeInteger((o as { step?: unknown }).step) &&
      ((o as { step: number }).step as number) >= 0
    )
  )
    return fail(`${STATE}: the optimizer entry is malformed`);
  if (o !== null && !manifest.files[OPTIMIZER]) return fail(`${OPTIMIZER} is not in ${MANIFEST}`);
  if (typeof stored.state !== 'object' || stored.state === null) return fail(`${STATE} holds no run state`);
  return {
    name,
    path,
    candidate: { name, path, state: stored.state, optimizer: stored.optimizer, manifest },
    problem: null,
  };
}

/**
 * The checkpoints of `dir` in order of preference: the one latest.json names, the previous one it names, then any
 * other checkpoint folder, newest first. Each entry's manifest and state.json are checked (not yet the tensor files:
 * see {@link loadCheckpoint}). Null when `dir` holds no checkpoint at all.
 */
export function findCheckpoints<S>(dir: string): FoundCheckpoints<S> | null {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ENOTDIR')
      throw new CheckpointError(dir, 'is a file, not a folder; use another output folder (--out)');
    throw new CheckpointError(dir, `cannot be read (${code ?? 'error'}); use another output folder (--out)`, {
      cause: e,
    });
  }
  const pointer = readPointer(dir);
  const folders = names.filter((n) => NAME.test(n) && n !== LATEST);
  if (pointer === null && folders.length === 0) return null;
  const order: string[] = [];
  let pointerProblem: string | null = null;
  if (pointer === null) pointerProblem = `${LATEST} is missing`;
  else if (typeof pointer === 'string') pointerProblem = pointer;
  else order.push(pointer.name, ...(pointer.previous ? [pointer.previous] : []));
  const entries = order.map((n) => inspect<S>(dir, n));
  const others = folders
    .filter((n) => !order.includes(n))
    .map((n) => inspect<S>(dir, n))
    .sort((a, b) => (b.candidate?.manifest.written ?? -1) - (a.candidate?.manifest.written ?? -1));
  entries.push(...others);
  return { dir, entries, pointerProblem };
}

export interface LoadedCheckpoint<S> {
  name: string;
  path: string;
  state: S;
  model: Map<string, HostTensor>;
  modelMetadata: Record<string, string>;
  optimizer: OptimizerState | null;
}

function loadCandidate<S>(c: CheckpointCandidate<S>): LoadedCheckpoint<S> | string {
  const modelBytes = readVerified(c.path, MODEL, c.manifest);
  if (typeof modelBytes === 'string') return modelBytes;
  let weights: ReturnType<typeof readSafetensors>;
  try {
    weights = readSafetensors(modelBytes, join(c.path, MODEL));
  } catch (e) {
    if (e instanceof FairclipError) return `${MODEL}: ${bounded(e.message, 200)}`;
    throw e;
  }
  let optimizer: OptimizerState | null = null;
  if (c.optimizer) {
    const optFile = join(c.path, OPTIMIZER);
    const bytes = readVerified(c.path, OPTIMIZER, c.manifest);
    if (typeof bytes === 'string') return bytes;
    let contents: ReturnType<typeof readSafetensors>;
    try {
      contents = readSafetensors(bytes, optFile);
    } catch (e) {
      if (e instanceof FairclipError) return `optimizer state in ${optFile} is corrupt: ${bounded(e.message, 200)}`;
      throw e;
    }
    const buffers: OptimizerState['buffers'] = {};
    for (const [k, t] of contents.tensors) {
      if (!(t.data instanceof Float32Array))
        return `optimizer state in ${optFile} is corrupt: buffer ${bounded(k)} is not float32`;
      buffers[k] = { shape: [...t.shape], data: t.data };
    }
    optimizer = { kind: c.optimizer.kind, step: c.optimizer.step, buffers };
  }
  return {
    name: c.name,
    path: c.path,
    state: c.state,
    model: weights.tensors,
    modelMetadata: weights.metadata,
    optimizer,
  };
}

/**
 * Loads the first usable checkpoint of `found`: its files match the manifest and `check` accepts its contents
 * (`check` throws a CheckpointError, or returns a short reason, to reject it). When a newer checkpoint had to be
 * skipped, `warn` gets one line saying which and why. Throws CheckpointError, one line, when none is usable.
 */
export function loadCheckpoint<S>(
  found: FoundCheckpoints<S>,
  options: { check?: (c: LoadedCheckpoint<S>) => string | null | undefined; warn?: (message: string) => void } = {},
): LoadedCheckpoint<S> {
  const skipped: string[] = found.pointerProblem ? [found.pointerProblem] : [];
  for (const entry of found.entries) {
    let problem = entry.problem;
    if (entry.candidate) {
      const loaded = loadCandidate(entry.candidate);
      if (typeof loaded === 'string') problem = loaded;
      else {
        try {
          problem = options.check?.(loaded) ?? null;
        } catch (e) {
          if (!(e instanceof CheckpointError)) throw e;
          problem = e.message;
        }
        if (problem === null) {
          if (skipped.length) options.warn?.(`checkpoint: ${skipped.join('; ')}; resuming from ${entry.path} instead`);
          return loaded;
        }
      }
    }
    skipped.push(`${entry.name} is unusable: ${bounded((problem ?? 'unknown problem').replace(/\s+/g, ' '), 300)}`);
  }
  throw new CheckpointError(
    found.dir,
    `no usable checkpoint (${skipped.join('; ')}); delete ${found.dir} to start this run over, or use another --out`,
  );
}

/**
 * Reads the latest usable checkpoint of `dir` (falling back to the previous one, with a warning, when the latest is
 * unusable), or null when there is none. Throws CheckpointError when `dir` holds checkpoints but none is usable.
 */
export function readLatestCheckpoint<S>(
  dir: string,
  options: { check?: (c: LoadedCheckpoint<S>) => string | null | undefined; warn?: (message: string) => void } = {},
): LoadedCheckpoint<S> | null {
  const found = findCheckpoints<S>(dir);
  return found ? loadCheckpoint(found, options) : null;
}
