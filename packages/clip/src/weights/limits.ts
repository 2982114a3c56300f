/**
 * Caps on what a weights file may make the reader allocate. Every size a file declares (a storage's element count, a
 * zip entry's inflated size, a tensor's shape) is charged to a budget before anything is allocated, so a small
 * hostile file (a deflate bomb, a stride-0 view of one element with a huge shape) is refused with a typed error
 * instead of exhausting memory. The default budget is generous for real files: 64 MiB plus 16 times the file's size
 * (a stored float16 checkpoint decodes to twice its size as float32), at most 8 GiB.
 */
import { WeightsError } from './errors.ts';

export interface WeightsLimits {
  /**
   * The most bytes of decoded data (tensors, storages, inflated zip entries) one file may make the reader allocate.
   * Default: 64 MiB + 16 × the file's size, at most 8 GiB.
   */
  maxDecodedBytes?: number;
}

/** The fixed part of the default budget. */
export const DECODED_BYTES_FLOOR = 64 * 2 ** 20;
/** The default budget's allowance per byte of the file. */
export const DECODED_BYTES_PER_FILE_BYTE = 16;
/** The default budget never exceeds this. */
export const DEFAULT_MAX_DECODED_BYTES = 8 * 2 ** 30;

/** Bytes as a short human figure: 1.5 GiB, 436 B. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** The decoding budget of one file; `charge` throws TOO_LARGE before an allocation would exceed it. */
export class DecodeBudget {
  readonly cap: number;
  private readonly capText: string;
  used = 0;

  constructor(
    private readonly file: string,
    fileBytes: number,
    maxDecodedBytes: number | undefined,
  ) {
    if (maxDecodedBytes !== undefined) {
      if (!(typeof maxDecodedBytes === 'number' && maxDecodedBytes >= 0 && !Number.isNaN(maxDecodedBytes))) {
        throw new WeightsError('TOO_LARGE', `maxDecodedBytes must be a non-negative number, got ${maxDecodedBytes}`);
      }
      this.cap = maxDecodedBytes;
      this.capText = `maxDecodedBytes ${formatBytes(maxDecodedBytes)}`;
    } else {
      const relative = DECODED_BYTES_FLOOR + DECODED_BYTES_PER_FILE_BYTE * fileBytes;
      this.cap = Math.min(relative, DEFAULT_MAX_DECODED_BYTES);
      this.capText =
        relative <= DEFAULT_MAX_DECODED_BYTES
          ? `the default cap ${formatBytes(this.cap)} (64 MiB + ${DECODED_BYTES_PER_FILE_BYTE} × the file's ${formatBytes(fileBytes)})`
          : `the default cap ${formatBytes(this.cap)}`;
    }
  }

  /** Records `bytes` about to be allocated for `what` (already bounded for printing); throws when over the cap. */
  charge(bytes: number, what: string): void {
    const total = this.used + bytes;
    if (!Number.isSafeInteger(bytes) || bytes < 0 || total > this.cap) {
      throw new WeightsError(
        'TOO_LARGE',
        `${what} needs ${formatBytes(bytes)} (${formatBytes(total)} with what is already decoded), over ${this.capText}: the file declares more data than it can hold (corrupt or hostile); if it is genuine, raise the cap with { maxDecodedBytes }`,
        { file: this.file },
      );
    }
    this.used = total;
  }
}
