// .npz archives: a zip of `<key>.npy` entries (numpy.savez stores them, numpy.savez_compressed deflates them).
import { boundText, IoError, oneLine } from '../errors.ts';
import { checkEntrySize, listZipEntries, readZipEntry, type ZipEntry, type ZipReadOptions } from '../zip/read.ts';
import type { NpyArray } from './dtype.ts';
import { parseNpy } from './read.ts';

/** An opened .npz: the keys are known up front, each array is decoded on first request. */
export interface NpzFile {
  readonly source: string;
  /** Keys (entry names without `.npy`), in archive order. */
  readonly keys: readonly string[];
  has(key: string): boolean;
  /** Decodes one array; throws NPZ_MISSING_KEY when absent, TOO_LARGE when its entry declares over the cap. */
  get(key: string): NpyArray;
}

function npzEntries(bytes: Uint8Array, source: string): Map<string, ZipEntry> {
  const entries = new Map<string, ZipEntry>();
  for (const e of listZipEntries(bytes, source)) {
    if (e.name.endsWith('.npy')) entries.set(e.name.slice(0, -4), e);
  }
  return entries;
}

function open(bytes: Uint8Array, source: string, entries: Map<string, ZipEntry>, options?: ZipReadOptions): NpzFile {
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
          `no array '${oneLine(key)}' (keys: ${keys.length > 0 ? oneLine(keys.join(', ')) : 'none'})`,
          { file: source },
        );
      }
      return parseNpy(readZipEntry(bytes, e, source, options), `${source}:${boundText(e.name)}`);
    },
  };
}

/**
 * Opens an .npz lazily (only the central directory is read now). Entries not ending in `.npy` are ignored. Each
 * array's entry is checked against `maxEntryBytes` (default 1 GiB) before it is inflated: TOO_LARGE.
 */
export function openNpz(bytes: Uint8Array, source: string, options?: ZipReadOptions): NpzFile {
  return open(bytes, source, npzEntries(bytes, source), options);
}

/**
 * Reads every array of an .npz. Keys are the entry names without `.npy`. Every entry is checked against
 * `maxEntryBytes` (default 1 GiB) before any is inflated: TOO_LARGE.
 */
export function readNpz(bytes: Uint8Array, source: string, options?: ZipReadOptions): Map<string, NpyArray> {
  const entries = npzEntries(bytes, source);
  for (const e of entries.values()) checkEntrySize(e, source, options);
  const npz = open(bytes, source, entries, options);
  return new Map(npz.keys.map((k) => [k, npz.get(k)]));
}
