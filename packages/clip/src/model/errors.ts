import { FairclipError } from '@fairclip/io';
/**
 * Typed errors of the CLIP model, its weights and its heads. Every error has a stable `code` and a message that names
 * the problem (and the file, for I/O).
 */

export type ClipModelErrorCode =
  /** A configuration is missing a field, has a wrong type, or is inconsistent (e.g. width not divisible by heads). */
  | 'BAD_CONFIG'
  /** A tensor argument has the wrong rank, shape or dtype (images, token ids, features). */
  | 'BAD_INPUT'
  /** Token ids outside [0, vocab_size) or rows of the wrong length. */
  | 'BAD_TOKENS'
  /** The weights do not fit the configuration: missing, unexpected or wrong-shape keys (all listed). */
  | 'WEIGHTS_MISMATCH'
  /** The configuration cannot be inferred from the state dict (non-standard head count, missing keys). */
  | 'CANNOT_INFER_CONFIG'
  /** An operation this backend cannot do (named in the message), with the workaround. */
  | 'UNSUPPORTED'
  /** The model was used after dispose(). */
  | 'DISPOSED';

export class ClipModelError extends FairclipError {
  override readonly name = 'ClipModelError';
  override readonly code: ClipModelErrorCode;
  constructor(code: ClipModelErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, `${code}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** Details of a configuration/weights mismatch, attached to a WEIGHTS_MISMATCH error. */
export interface WeightsMismatch {
  missing: string[];
  unexpected: string[];
  wrongShape: { name: string; expected: number[]; got: number[] }[];
}

export class WeightsMismatchError extends ClipModelError {
  readonly mismatch: WeightsMismatch;
  constructor(mismatch: WeightsMismatch, context: string) {
    super('WEIGHTS_MISMATCH', describeMismatch(mismatch, context));
    this.mismatch = mismatch;
  }
}

function listNames(names: string[], max = 40): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown}, … (${names.length - max} more)` : shown;
}

export function describeMismatch(m: WeightsMismatch, context: string): string {
  const parts: string[] = [];
  if (m.missing.length > 0) parts.push(`missing keys (${m.missing.length}): ${listNames(m.missing)}`);
  if (m.unexpected.length > 0) parts.push(`unexpected keys (${m.unexpected.length}): ${listNames(m.unexpected)}`);
  if (m.wrongShape.length > 0) {
    const shapes = m.wrongShape.map((w) => `${w.name} expected [${w.expected.join(', ')}] got [${w.got.join(', ')}]`);
    parts.push(`wrong shapes (${m.wrongShape.length}): ${listNames(shapes, 20)}`);
  }
  let hint = '';
  const missing = new Set(m.missing);
  const prefixes = new Set<string>();
  let matched = 0;
  for (const k of m.unexpected) {
    const dot = k.indexOf('.');
    if (dot > 0 && missing.has(k.slice(dot + 1))) {
      matched++;
      prefixes.add(k.slice(0, dot + 1));
    }
  }
  if (matched > 0 && matched >= m.unexpected.length / 2 && prefixes.size === 1) {
    hint = `; the unexpected keys look like the missing ones prefixed with "${[...prefixes][0]}" (e.g. DataParallel's "module."): strip that prefix`;
  }
  return `${context}: the weights do not match the configuration; ${parts.join('; ')}${hint}`;
}
