// .npz archives: a zip of `<key>.npy` entries (numpy.savez stores them, numpy.savez_compressed deflates them).
import { IoError } from '../errors.ts';
import { listZipEntries, readZipEntry, type ZipEntry } from '../zip/read.ts';
import type { NpyArray } from './dtype.ts';
import { parseNpy } from './read.ts';

/** An opened .npz: the keys are known up front, each array is decoded on first request. */
export interface NpzFile {
  readonly source: string;
  /** Keys (entry names without `.npy`), in archive order. */
  readonly keys: readonly string[];
  has(key: string): boolean;
  /** Decodes one array; throws NPZ_MISSING_KEY when absent. */
  get(key: string): NpyArray;
}

/** Opens an .npz lazily (only the central directory is read now). Entries not ending in `.npy` are ignored. */
export function openNpz(bytes: Uint8Array, source: string): NpzFile {
  const entries = new Map<string, ZipEntry>();
  for (const e of listZipEntries(bytes, source)) {
    if (e.name.endsWith('.npy')) entries.set(e.name.slice(0, -4), e);
  }
  const keys = [...entries.keys()];
  return {
    source,
    keys,
    has: (key) => entries.has(key),
    get(key) {
      const e = entries.get(key);
      if (!e) {
        throw new IoError(
          'NPZ_MISSING_KEY',
          `no array '${key}' (keys: ${keys.length > 0 ? keys.join(', ') : 'none'})`,
          { file: source },
        );
      }
      return parseNpy(readZipEntry(bytes, e, source), `${source}:${e.name}`);
    },
  };
}

/** Reads every array of an .npz. Keys are the entry names without `.npy`. */
export function readNpz(bytes: Uint8Array, source: string): Map<string, NpyArray> {
  const npz = openNpz(bytes, source);
  return new Map(npz.keys.map((k) => [k, npz.get(k)]));
}
