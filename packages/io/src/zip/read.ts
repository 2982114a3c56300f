// A small, strict zip reader: the central directory (zip64 aware), stored and deflated entries, CRC-checked.
// Used for .npz files (numpy.savez / savez_compressed) and PyTorch's zip checkpoints. Every offset and size read from
// the file is checked against the file's length before use, every declared uncompressed size against a cap
// (`maxEntryBytes`) and against what the compressed bytes can inflate to, before anything is allocated; inflation
// never produces more than the declared size.
import { kMaxLength } from 'node:buffer';
import { promisify } from 'node:util';
import { inflateRaw, inflateRawSync, type ZlibOptions } from 'node:zlib';
import { DEFAULT_MAX_ENTRY_BYTES, formatBytes, IoError, quoted } from '../errors.ts';
import { crc32 } from './crc32.ts';

/** One file in a zip archive, as its central directory describes it. */
export interface ZipEntry {
  /** Path inside the archive (forward slashes; checked to stay inside the archive). */
  name: string;
  /** Compression method: 0 stored, 8 deflate. */
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  /** CRC-32 of the uncompressed data (unsigned). */
  crc32: number;
  /** Offset of the entry's local file header. */
  localHeaderOffset: number;
}

/** Options of the entry readers ({@link readZipEntry}, the npz readers). */
export interface ZipReadOptions {
  /**
   * Largest uncompressed size an entry may declare, in bytes (default {@link DEFAULT_MAX_ENTRY_BYTES}, 1 GiB). An
   * entry declaring more is refused with TOO_LARGE before anything is read, allocated or inflated.
   */
  readonly maxEntryBytes?: number;
  /** How the user raises the cap, ending the TOO_LARGE message (default: the `maxEntryBytes` option). */
  readonly capHint?: string;
}

/**
 * Deflate's largest expansion: a length-258 match coded in two 1-bit codes, so at most 1032 bytes per compressed
 * byte (zlib's technical notes), plus slack for the stream's first literal and block headers.
 */
const MAX_INFLATE_RATIO = 1032;
const INFLATE_SLACK = 1024;
/** Largest output buffer allocated up front by one inflate call (further output comes in chunks of this size). */
const MAX_INFLATE_CHUNK = 64 * 1024 * 1024;

/** The cap of `options`, checked (BAD_ARGUMENT for a value that is not a positive safe integer). */
export function entryCap(options: ZipReadOptions | undefined): number {
  const cap = options?.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
  if (!Number.isSafeInteger(cap) || cap < 0) {
    throw new IoError('BAD_ARGUMENT', `maxEntryBytes must be a non-negative safe integer, got ${String(cap)}`);
  }
  return cap;
}

/**
 * Checks the sizes an entry declares before any of its data is read: TOO_LARGE when the uncompressed size is over
 * the cap, ZIP_CORRUPT when a deflated entry declares more than its compressed bytes can inflate to.
 */
export function checkEntrySize(entry: ZipEntry, source: string, options?: ZipReadOptions): void {
  const cap = entryCap(options);
  if (entry.uncompressedSize > cap) {
    throw new IoError(
      'TOO_LARGE',
      `entry ${quoted(entry.name)} declares ${formatBytes(entry.uncompressedSize)} uncompressed, over the cap of ${formatBytes(cap)}; ${options?.capHint ?? 'if the file is trusted, raise the cap with the maxEntryBytes option'}`,
      { file: source },
    );
  }
  if (entry.uncompressedSize > kMaxLength) {
    throw new IoError(
      'TOO_LARGE',
      `entry ${quoted(entry.name)} declares ${formatBytes(entry.uncompressedSize)} uncompressed, more than this runtime's largest buffer (${formatBytes(kMaxLength)})`,
      { file: source },
    );
  }
  if (entry.method === 8 && entry.uncompressedSize > entry.compressedSize * MAX_INFLATE_RATIO + INFLATE_SLACK) {
    throw corrupt(
      source,
      `entry ${quoted(entry.name)} declares ${entry.uncompressedSize} bytes uncompressed, more than its ${entry.compressedSize} deflated bytes can hold`,
    );
  }
}

const inflateRawAsync = promisify(inflateRaw) as (buf: Uint8Array, options: ZlibOptions) => Promise<Buffer>;

/** Entries smaller than this are inflated synchronously by decodeEntryAsync. */
const ASYNC_INFLATE_MIN_BYTES = 256 * 1024;

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const EOCD_SIZE = 22;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
/** Bytes at the end of a zip file that always contain its end records (end record, max comment, zip64 records). */
export const ZIP_TAIL_BYTES = EOCD_SIZE + 0xffff + 20 + 56;

function corrupt(source: string, message: string, cause?: unknown): IoError {
  return new IoError('ZIP_CORRUPT', message, { file: source, cause });
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Reads an unsigned 64-bit little-endian value; fails when it exceeds 2^53 - 1. */
function u64(dv: DataView, offset: number, source: string, what: string): number {
  const lo = dv.getUint32(offset, true);
  const hi = dv.getUint32(offset + 4, true);
  const value = hi * 0x1_0000_0000 + lo;
  if (hi >= 0x20_0000) throw corrupt(source, `${what} ${value} is too large`);
  return value;
}

function findEocd(buf: Uint8Array, dv: DataView, fileSize: number, source: string): number {
  if (fileSize < EOCD_SIZE) {
    throw corrupt(source, `${fileSize} bytes is too short for a zip archive (no end of central directory record)`);
  }
  const stop = Math.max(0, buf.length - EOCD_SIZE - 0xffff);
  for (let p = buf.length - EOCD_SIZE; p >= stop; p--) {
    if (dv.getUint32(p, true) === SIG_EOCD) {
      const commentLength = dv.getUint16(p + 20, true);
      if (p + EOCD_SIZE + commentLength <= buf.length) return p;
    }
  }
  throw corrupt(source, 'no end of central directory record (not a zip archive, or truncated)');
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

function decodeName(raw: Uint8Array, utf8: boolean): string {
  let ascii = true;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return String.fromCharCode.apply(null, raw as unknown as number[]);
  if (utf8) return utf8Decoder.decode(raw);
  // cp437 agrees with ASCII on the printable range; other bytes are rare in the archives we read and are decoded as
  // latin-1 rather than failing: the name is only compared and checked for path safety.
  let s = '';
  for (let i = 0; i < raw.length; i++) s += String.fromCharCode(raw[i]!);
  return s;
}

/** Throws ZIP_UNSAFE_PATH for a name that would escape the folder it is extracted to. */
export function checkEntryPath(name: string, source: string): void {
  // Fast path: a plain relative name.
  if (name.length > 0 && !UNSAFE_HINT.test(name)) return;
  let why: string | undefined;
  const normalized = name.replace(/\\/g, '/');
  if (name.length === 0) why = 'has an empty name';
  else if (name.includes('\0')) why = 'contains a NUL character';
  else if (normalized.startsWith('/')) why = 'is an absolute path';
  else if (/^[A-Za-z]:/.test(normalized)) why = 'starts with a drive letter';
  else if (normalized.split('/').some((part) => part === '..'))
    why = "contains a '..' component (path outside the archive)";
  if (why !== undefined) {
    throw new IoError('ZIP_UNSAFE_PATH', `entry ${quoted(name)} ${why}`, { file: source });
  }
}
/** Characters that can make a name unsafe: NUL, backslash, a leading slash, a colon, two dots. */
const UNSAFE_HINT = /[\0\\:]|^\/|\.\./;

/**
 * Lists the entries of a zip archive from its central directory (zip64 aware). Throws ZIP_CORRUPT for a damaged or
 * truncated archive, ZIP_UNSUPPORTED for multi-disk or encrypted archives and unsupported compression methods, and
 * ZIP_UNSAFE_PATH for entry names that are absolute or contain `..`.
 */
export function listZipEntries(bytes: Uint8Array, source: string): ZipEntry[] {
  const dv = view(bytes);
  const entries = parseCentralDirectory(bytes, 0, bytes.length, source);
  for (const e of entries) localDataStart(bytes, dv, e.name, e.localHeaderOffset, source);
  return entries;
}

/**
 * Where the central directory of a zip file of `fileSize` bytes lies, from a buffer holding its last bytes (at least
 * the end record; {@link ZIP_TAIL_BYTES} always suffices for the end records). Offsets are file offsets.
 */
export function locateCentralDirectory(
  tail: Uint8Array,
  fileSize: number,
  source: string,
): { offset: number; size: number; count: number } {
  const base = fileSize - tail.length;
  const dv = view(tail);
  const eocd = findEocd(tail, dv, fileSize, source);
  const disk = dv.getUint16(eocd + 4, true);
  const cdDisk = dv.getUint16(eocd + 6, true);
  let entriesOnDisk = dv.getUint16(eocd + 8, true);
  let count = dv.getUint16(eocd + 10, true);
  let cdSize = dv.getUint32(eocd + 12, true);
  let cdOffset = dv.getUint32(eocd + 16, true);

  const needsZip64 = count === 0xffff || entriesOnDisk === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff;
  const locator = eocd - 20;
  if (locator >= 0 && dv.getUint32(locator, true) === SIG_ZIP64_LOCATOR) {
    const z64 = u64(dv, locator + 8, source, 'zip64 end record offset') - base;
    if (dv.getUint32(locator + 4, true) !== 0 || dv.getUint32(locator + 16, true) > 1) {
      throw new IoError('ZIP_UNSUPPORTED', 'multi-disk zip archives are not supported', { file: source });
    }
    if (z64 < 0 || z64 + 56 > locator || dv.getUint32(z64, true) !== SIG_ZIP64_EOCD) {
      throw corrupt(source, `zip64 end of central directory record not found at offset ${z64 + base}`);
    }
    entriesOnDisk = u64(dv, z64 + 24, source, 'entry count');
    count = u64(dv, z64 + 32, source, 'entry count');
    cdSize = u64(dv, z64 + 40, source, 'central directory size');
    cdOffset = u64(dv, z64 + 48, source, 'central directory offset');
  } else if (needsZip64) {
    throw corrupt(source, 'the end record points to a zip64 record that is missing');
  }
  if (disk !== 0 || cdDisk !== 0 || entriesOnDisk !== count) {
    throw new IoError('ZIP_UNSUPPORTED', 'multi-disk zip archives are not supported', { file: source });
  }
  if (cdOffset + cdSize > base + eocd) {
    throw corrupt(
      source,
      `central directory (offset ${cdOffset}, ${cdSize} bytes) extends past its end record (file of ${fileSize} bytes): truncated?`,
    );
  }
  if (count * CENTRAL_SIZE > cdSize) {
    throw corrupt(source, `central directory of ${cdSize} bytes cannot hold ${count} entries`);
  }

  return { offset: cdOffset, size: cdSize, count };
}

/**
 * Parses the central directory from a buffer holding the file's bytes from offset `base` to its end (`fileSize`);
 * the buffer must include the whole directory. Offsets in the result are file offsets.
 */
export function parseCentralDirectory(buf: Uint8Array, base: number, fileSize: number, source: string): ZipEntry[] {
  if (base + buf.length !== fileSize) throw new IoError('BAD_ARGUMENT', 'the buffer must end at the end of the file');
  const dv = view(buf);
  const cd = locateCentralDirectory(buf, fileSize, source);
  const cdOffset = cd.offset;
  const count = cd.count;
  if (cdOffset < base) {
    throw new IoError('BAD_ARGUMENT', `the buffer starts at ${base}, after the central directory (${cdOffset})`);
  }
  const entries: ZipEntry[] = [];
  const seen = new Set<string>();
  const end = cdOffset + cd.size - base;
  let p = cdOffset - base;
  for (let i = 0; i < count; i++) {
    if (p + CENTRAL_SIZE > end || dv.getUint32(p, true) !== SIG_CENTRAL) {
      throw corrupt(source, `central directory entry ${i} not found at offset ${p + base}`);
    }
    const flags = dv.getUint16(p + 8, true);
    const method = dv.getUint16(p + 10, true);
    const crc = dv.getUint32(p + 16, true);
    let compressedSize = dv.getUint32(p + 20, true);
    let uncompressedSize = dv.getUint32(p + 24, true);
    const nameLength = dv.getUint16(p + 28, true);
    const extraLength = dv.getUint16(p + 30, true);
    const commentLength = dv.getUint16(p + 32, true);
    const diskStart = dv.getUint16(p + 34, true);
    let localHeaderOffset = dv.getUint32(p + 42, true);
    const next = p + CENTRAL_SIZE + nameLength + extraLength + commentLength;
    if (next > end) throw corrupt(source, `central directory entry ${i} runs past the directory`);
    const name = decodeName(buf.subarray(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLength), (flags & 0x800) !== 0);

    // zip64 extended information: only the fields that are saturated in the fixed header are present, in order.
    let q = p + CENTRAL_SIZE + nameLength;
    const extraEnd = q + extraLength;
    while (q + 4 <= extraEnd) {
      const id = dv.getUint16(q, true);
      const size = dv.getUint16(q + 2, true);
      if (q + 4 + size > extraEnd) throw corrupt(source, `entry ${quoted(name)}: extra field runs past its end`);
      if (id === 0x0001) {
        let r = q + 4;
        const take = (what: string): number => {
          if (r + 8 > q + 4 + size) throw corrupt(source, `entry ${quoted(name)}: zip64 field too short`);
          const v = u64(dv, r, source, what);
          r += 8;
          return v;
        };
        if (uncompressedSize === 0xffffffff) uncompressedSize = take('uncompressed size');
        if (compressedSize === 0xffffffff) compressedSize = take('compressed size');
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take('local header offset');
      }
      q += 4 + size;
    }
    if (diskStart !== 0 && diskStart !== 0xffff) {
      throw new IoError('ZIP_UNSUPPORTED', 'multi-disk zip archives are not supported', { file: source });
    }
    if (flags & 0x1) {
      throw new IoError('ZIP_UNSUPPORTED', `entry ${quoted(name)} is encrypted`, { file: source });
    }
    if (method !== 0 && method !== 8) {
      throw new IoError(
        'ZIP_UNSUPPORTED',
        `entry ${quoted(name)} uses compression method ${method} (only stored and deflate are supported)`,
        { file: source },
      );
    }
    if (method === 0 && compressedSize !== uncompressedSize) {
      throw corrupt(source, `stored entry ${quoted(name)} has different compressed and uncompressed sizes`);
    }
    if (localHeaderOffset + LOCAL_SIZE + compressedSize > cdOffset) {
      throw corrupt(source, `entry ${quoted(name)} (offset ${localHeaderOffset}) overlaps the central directory`);
    }
    checkEntryPath(name, source);
    if (seen.has(name)) throw corrupt(source, `duplicate entry ${quoted(name)}`);
    seen.add(name);
    entries.push({ name, method, compressedSize, uncompressedSize, crc32: crc, localHeaderOffset });
    p = next;
  }
  return entries;
}

/** Checks an entry's local header (signature, same name as the directory) and returns where its data starts. */
export function localDataStart(bytes: Uint8Array, dv: DataView, name: string, at: number, source: string): number {
  const label = quoted(name);
  if (at + LOCAL_SIZE > bytes.length || dv.getUint32(at, true) !== SIG_LOCAL) {
    throw corrupt(source, `entry ${label}: local header not found at offset ${at}`);
  }
  const nameLength = dv.getUint16(at + 26, true);
  const extraLength = dv.getUint16(at + 28, true);
  const raw = bytes.subarray(at + LOCAL_SIZE, at + LOCAL_SIZE + nameLength);
  const localName = decodeName(raw, true);
  if (localName !== name && decodeName(raw, false) !== name) {
    throw corrupt(source, `entry ${label}: the local header names it ${quoted(localName)}`);
  }
  return at + LOCAL_SIZE + nameLength + extraLength;
}

/**
 * Returns the uncompressed bytes of one entry. Stored entries are returned as a view into `bytes` (no copy); deflated
 * entries are inflated into a fresh buffer of exactly the declared size. Throws ZIP_CORRUPT when the local header is
 * damaged or disagrees with the directory, the data is truncated, inflation fails or produces a different length, or
 * the CRC-32 does not match.
 */
export function readZipEntry(bytes: Uint8Array, entry: ZipEntry, source: string, options?: ZipReadOptions): Uint8Array {
  checkEntrySize(entry, source, options);
  const dv = view(bytes);
  const label = quoted(entry.name);
  const dataStart = localDataStart(bytes, dv, entry.name, entry.localHeaderOffset, source);
  if (dataStart + entry.compressedSize > bytes.length) {
    throw corrupt(
      source,
      `entry ${label}: ${entry.compressedSize} bytes of data declared but the file ends ${bytes.length - dataStart} bytes after its start (truncated)`,
    );
  }
  return decodeEntry(bytes.subarray(dataStart, dataStart + entry.compressedSize), entry, source, options);
}

/**
 * Inflates (when deflated) and CRC-checks the raw data of an entry, after checking its declared sizes
 * ({@link checkEntrySize}: TOO_LARGE over `maxEntryBytes`).
 */
export function decodeEntry(raw: Uint8Array, entry: ZipEntry, source: string, options?: ZipReadOptions): Uint8Array {
  checkEntrySize(entry, source, options);
  const label = quoted(entry.name);
  let out: Uint8Array;
  if (entry.method === 0) {
    out = raw;
  } else if (entry.method === 8) {
    if (entry.uncompressedSize === 0) {
      out = new Uint8Array(0);
    } else {
      let inflated: Buffer;
      try {
        inflated = inflateRawSync(raw, inflateOptions(raw, entry));
      } catch (e) {
        throw inflateError(e, entry, source);
      }
      out = checkInflated(inflated, entry, source);
    }
  } else {
    throw new IoError('ZIP_UNSUPPORTED', `entry ${label} uses compression method ${entry.method}`, {
      file: source,
    });
  }
  checkCrc(out, entry, source);
  return out;
}

/** Like {@link decodeEntry}, inflating on libuv's thread pool so the event loop keeps running. */
export async function decodeEntryAsync(
  raw: Uint8Array,
  entry: ZipEntry,
  source: string,
  options?: ZipReadOptions,
): Promise<Uint8Array> {
  // Small entries inflate faster in place than the hop to the thread pool costs.
  if (entry.method !== 8 || entry.uncompressedSize < ASYNC_INFLATE_MIN_BYTES) {
    return decodeEntry(raw, entry, source, options);
  }
  checkEntrySize(entry, source, options);
  let inflated: Buffer;
  try {
    inflated = await inflateRawAsync(raw, inflateOptions(raw, entry));
  } catch (e) {
    throw inflateError(e, entry, source);
  }
  const out = checkInflated(inflated, entry, source);
  checkCrc(out, entry, source);
  return out;
}

/**
 * zlib's output is allocated chunk by chunk: one chunk of the declared size avoids a copy for honest entries, and is
 * bounded by what the compressed bytes can inflate to (a few bytes declaring 64 MiB get a small chunk) and 64 MiB.
 */
function inflateOptions(raw: Uint8Array, entry: ZipEntry): ZlibOptions {
  const possible = raw.length * MAX_INFLATE_RATIO + INFLATE_SLACK;
  return {
    maxOutputLength: Math.max(1, entry.uncompressedSize),
    chunkSize: Math.max(64, Math.min(entry.uncompressedSize, possible, MAX_INFLATE_CHUNK)),
  };
}

function inflateError(e: unknown, entry: ZipEntry, source: string): IoError {
  const why =
    e instanceof RangeError || (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE'
      ? `inflates to more than the declared ${entry.uncompressedSize} bytes`
      : `bad deflate data (${(e as Error).message})`;
  return corrupt(source, `entry ${quoted(entry.name)}: ${why}`, e);
}

function checkInflated(inflated: Buffer, entry: ZipEntry, source: string): Uint8Array {
  if (inflated.length !== entry.uncompressedSize) {
    throw corrupt(
      source,
      `entry ${quoted(entry.name)}: inflates to ${inflated.length} bytes, ${entry.uncompressedSize} declared`,
    );
  }
  return new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.byteLength);
}

function checkCrc(out: Uint8Array, entry: ZipEntry, source: string): void {
  const actual = crc32(out);
  if (actual !== entry.crc32 >>> 0) {
    throw corrupt(
      source,
      `entry ${quoted(entry.name)}: CRC-32 mismatch (stored ${hex(entry.crc32)}, computed ${hex(actual)}): the data is damaged`,
    );
  }
}

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}
