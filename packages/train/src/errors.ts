// Errors raised while a valid configuration runs (the configuration's own errors are ConfigError, config.ts).

import { FairclipError } from '@fairclip/io';
export type TrainErrorCode = 'NON_FINITE_LOSS' | 'NO_CAPTION' | 'TEXT_TOO_LONG' | 'BAD_DATA' | 'IO';

/** A problem found while running (the configuration itself was valid). */
export class TrainError extends FairclipError {
  override readonly code: TrainErrorCode;
  constructor(code: TrainErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'TrainError';
    this.code = code;
  }
}

/** A user-controlled text (a key, a name, a value) cut to `max` characters for an error message. */
export function bounded(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/** What an operating-system error code means, and what the user can do about it. */
const ERRNO: Record<string, [meaning: string, fix: string]> = {
  ENOSPC: ['no space left on the device', 'free some space or choose an output folder on another disk (--out)'],
  EDQUOT: ['the disk quota is exceeded', 'free some space or choose an output folder on another disk (--out)'],
  EROFS: ['the file system is read-only', 'choose a writable output folder (--out)'],
  EACCES: ['permission denied', "choose a writable output folder (--out) or fix the folder's permissions"],
  EPERM: ['operation not permitted', "choose a writable output folder (--out) or fix the folder's permissions"],
  ENOTDIR: ['a part of the path is a file, not a folder', 'choose another output folder (--out)'],
  EEXIST: ['a file is in the way where a folder is needed', 'choose another output folder (--out)'],
  EISDIR: ['a folder is in the way where a file is needed', 'remove it or choose another output folder (--out)'],
  ENOENT: [
    'the file system does not let it be created (a virtual file system such as /proc, or a folder removed meanwhile)',
    'choose a writable output folder (--out)',
  ],
  ENAMETOOLONG: ['the path is too long', 'choose a shorter output folder (--out)'],
  EMFILE: ['too many open files', 'close other programs or raise the open-file limit (ulimit -n)'],
  EIO: ['an input/output error of the device', 'check the disk, or choose an output folder on another disk (--out)'],
};

/**
 * Wraps an operating-system error raised while writing `path` (an output file, a checkpoint, the output folder)
 * into a one-line TrainError with code 'IO' naming the path, what the error means and the fix. Errors that are not
 * system errors (a bug, an error of ours) are returned unchanged.
 */
export function writeError(path: string, e: unknown, action = 'cannot write'): unknown {
  if (e instanceof FairclipError) return e;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) return e;
  const [meaning, fix] = ERRNO[code] ?? [
    `the operating system refused it (${code})`,
    'choose another output folder (--out)',
  ];
  return new TrainError('IO', `${action} ${bounded(path, 200)}: ${meaning} (${code}); ${fix}`, { cause: e });
}
