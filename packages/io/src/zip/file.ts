// Reading zip / npz files from disk: selectively (only the central directory and the entries asked for, with
// positioned reads) or whole and asynchronously (read + inflate off the event loop).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { boundText, IoError, osError, quoted } from '../errors.ts';
import type { NpyArray } from '../npy/dtype.ts';
import { parseNpy } from '../npy/read.ts';
import {
  checkEntrySize,
  decodeEntry,
  decodeEntryAsync,
  listZipEntries,
  locateCentralDirectory,
  parseCentralDirectory,
  readZipEntry,
  ZIP_TAIL_BYTES,
  type ZipEntry,
  type ZipReadOptions,
} from './read.ts';

function preadExact(fd: number, length: number, position: number, path: string): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    let n: number;
    try {
      n = readSync(fd, out, done, length - done, position + done);
    } catch (e) {
      throw osError(e, path);
    }
    if (n === 0) {
      throw new IoError('ZIP_CORRUPT', `file ends at ${position + done}, ${length - done} bytes short`, {
        file: path,
      });
    }
    done += n;
  }
  return out;
}

/** A zip archive on disk, read selectively: its directory now, entries on request (positioned reads). */
export class ZipFileReader {
  readonly path: string;
  readonly size: number;
  readonly entries: readonly ZipEntry[];
  private fd: number | undefined;

  private constructor(path: string, fd: number, size: number, entries: ZipEntry[]) {
    this.path = path;
    this.fd = fd;
    this.size = size;
    this.entries = entries;
  }

  /** Opens `path` and reads its central directory. Close it with {@link close}. */
  static open(path: string): ZipFileReader {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw osError(e, path);
    }
    try {
      const size = fstatSync(fd).size;
      const tailLength = Math.min(size, ZIP_TAIL_BYTES);
      let buf = preadExact(fd, tailLength, size - tailLength, path);
      let base = size - tailLength;
      const cd = locateCentralDirectory(buf, size, path);
      if (cd.offset < base) {
        const extra = preadExact(fd, base - cd.offset, cd.offset, path);
        const joined = new Uint8Array(extra.length + buf.length);
        joined.set(extra);
        joined.set(buf, extra.length);
        buf = joined;
        base = cd.offset;
      }
      return new ZipFileReader(path, fd, size, parseCentralDirectory(buf, base, size, path));
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** The entry called `name`, if any. */
  entry(name: string): ZipEntry | undefined {
    return this.entries.find((e) => e.name === name);
  }

  /** Reads, inflates and CRC-checks one entry (TOO_LARGE, before reading it, when it declares over the cap). */
  read(entry: ZipEntry, options?: ZipReadOptions): Uint8Array {
    if (this.fd === undefined) throw new IoError('BAD_ARGUMENT', 'the zip file is closed', { file: this.path });
    checkEntrySize(entry, this.path, options);
    const fixed = preadExact(this.fd, 30, entry.localHeaderOffset, this.path);
    const dv = new DataView(fixed.buffer);
    if (dv.getUint32(0, true) !== 0x04034b50) {
      throw new IoError('ZIP_CORRUPT', `entry ${quoted(entry.name)}: local header not found`, {
        file: this.path,
      });
    }
    const nameLength = dv.getUint16(26, true);
    const extraLength = dv.getUint16(28, true);
    const rest = preadExact(
      this.fd,
      nameLength + extraLength + entry.compressedSize,
      entry.localHeaderOffset + 30,
      this.path,
    );
    const name = new TextDecoder().decode(rest.subarray(0, nameLength));
    if (name !== entry.name) {
      throw new IoError('ZIP_CORRUPT', `entry ${quoted(entry.name)}: the local header names it ${quoted(name)}`, {
        file: this.path,
      });
    }
    return decodeEntry(rest.subarray(nameLength + extraLength), entry, this.path, options);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * Reads the named arrays of an .npz on disk without reading the rest of the file (positioned reads of the directory
 * and of those entries only). Keys without `.npy`; a key that is absent is left out of the result. An entry declaring
 * more than `maxEntryBytes` (default 1 GiB) is refused with TOO_LARGE before it is read.
 */
export function readNpzKeys(path: string, keys: readonly string[], options?: ZipReadOptions): Map<string, NpyArray> {
  const zip = ZipFileReader.open(path);
  try {
    const out = new Map<string, NpyArray>();
    for (const key of keys) {
      const e = zip.entry(`${key}.npy`);
      if (e) out.set(key, parseNpy(zip.read(e, options), `${path}:${e.name}`));
    }
    return out;
  } finally {
    zip.close();
  }
}

/**
 * Reads a whole .npz from disk asynchronously and decodes the named arrays (all when `keys` is omitted), inflating
 * on the thread pool. Absent keys are left out of the result. Every entry to decode is checked against
 * `maxEntryBytes` (default 1 GiB) before any is inflated (TOO_LARGE).
 */
export async function readNpzFileAsync(
  path: string,
  keys?: readonly string[],
  options?: ZipReadOptions,
): Promise<Map<string, NpyArray>> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw osError(e, path);
  }
  const entries = listZipEntries(bytes, path);
  const wanted = keys === undefined ? undefined : new Set(keys.map((k) => `${k}.npy`));
  const out = new Map<string, NpyArray>();
  const chosen = entries.filter((e) => e.name.endsWith('.npy') && (wanted === undefined || wanted.has(e.name)));
  for (const e of chosen) checkEntrySize(e, path, options);
  await Promise.all(
    chosen.map(async (e) => {
      const raw = e.method === 8 ? rawData(bytes, e, path) : undefined;
      const data = raw ? await decodeEntryAsync(raw, e, path, options) : readZipEntry(bytes, e, path, options);
      out.set(e.name.slice(0, -4), parseNpy(data, `${path}:${boundText(e.name)}`));
    }),
  );
  return out;
}

function rawData(bytes: Uint8Array, e: ZipEntry, path: string): Uint8Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = e.localHeaderOffset;
  const start = at + 30 + dv.getUint16(at + 26, true) + dv.getUint16(at + 28, true);
  if (start + e.compressedSize > bytes.length) {
    throw new IoError('ZIP_CORRUPT', `entry ${quoted(e.name)}: data runs past the end of the file`, {
      file: path,
    });
  }
  return bytes.subarray(start, start + e.compressedSize);
}
