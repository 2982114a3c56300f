// Typed errors of the CLIP tokenizer: a stable `code` to branch on and a message that names the problem
// (and the file, for vocabulary I/O).

import { FairclipError } from '@fairclip/io';
/** Stable codes of {@link TokenizerError}. */
export type TokenizerErrorCode =
  /** A vocabulary file is missing or cannot be read. */
  | 'VOCAB_IO'
  /**
   * A vocabulary file is malformed: bad gzip data, not UTF-8, a merge line that is not two byte-level symbols (or is
   * empty, or repeats an earlier merge), JSON where OpenAI's layout is expected, an id that is missing, or fewer or
   * more ids than `expectedVocabSize`.
   */
  | 'VOCAB_FORMAT'
  /** A vocabulary file, or the text its gzip data inflates to, is larger than `maxBytes` (default 64 MiB). */
  | 'TOO_LARGE'
  /** A text needs more tokens (with start and end) than the context length and truncation was not asked for. */
  | 'TEXT_TOO_LONG'
  /** `tokenize` got an empty list of texts, or the learner an empty corpus. */
  | 'EMPTY_INPUT'
  /** A text is not a string or is not well-formed Unicode (a lone UTF-16 surrogate cannot be encoded as UTF-8). */
  | 'INVALID_TEXT'
  /** `decode` got an id outside the vocabulary. */
  | 'UNKNOWN_TOKEN_ID'
  /** An option is out of range (context length below 2, negative number of merges, ...). */
  | 'BAD_ARGUMENT';

/** Longest user-controlled text (a line, a token, a value) a tokenizer error message prints; longer ones are cut. */
const MESSAGE_TEXT_MAX = 80;

/**
 * A user-controlled value for an error message: JSON-quoted when a string (so control characters and newlines stay
 * escaped and the message stays on one line), cut to 80 characters plus "…".
 */
export function quoteValue(value: unknown): string {
  if (typeof value === 'string') {
    const cps = Array.from(value.slice(0, 2 * MESSAGE_TEXT_MAX + 2));
    if (cps.length <= MESSAGE_TEXT_MAX) return JSON.stringify(value);
    return `${JSON.stringify(cps.slice(0, MESSAGE_TEXT_MAX).join(''))}…`;
  }
  // Never stringify a structure (it may be huge or deeply nested): name its kind.
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (value !== null && typeof value === 'object') return 'an object';
  if (typeof value === 'function') return 'a function';
  return String(value);
}

/** A file name for messages: at most 240 characters, cut in the middle (the end names the file). */
function boundPath(path: string): string {
  return path.length <= 240 ? path : `${path.slice(0, 80)}…${path.slice(-159)}`;
}

/** Error raised by the tokenizer, its vocabulary loaders and the BPE learner. */
export class TokenizerError extends FairclipError {
  override readonly name = 'TokenizerError';
  override readonly code: TokenizerErrorCode;
  /** The file concerned, for vocabulary I/O. */
  readonly file: string | undefined;
  /** The message without the code and file prefix. */
  readonly detail: string;

  constructor(code: TokenizerErrorCode, message: string, options: { file?: string | undefined; cause?: unknown } = {}) {
    const file = options.file === undefined ? undefined : boundPath(options.file);
    super(code, file === undefined ? `${code}: ${message}` : `${code}: ${file}: ${message}`, {
      cause: options.cause,
    });
    this.code = code;
    this.file = options.file;
    this.detail = message;
  }
}

/** Error for a text longer than the context length; carries the numbers. */
export class TextTooLongError extends TokenizerError {
  /** Position of the text in the list passed to `tokenize`. */
  readonly index: number;
  /** Number of tokens the text needs, start and end tokens included. */
  readonly tokenCount: number;
  readonly contextLength: number;

  constructor(index: number, text: string, tokenCount: number, contextLength: number) {
    const preview = text.length > 60 ? `${text.slice(0, 60)}…` : text;
    super(
      'TEXT_TOO_LONG',
      `text ${index} (${JSON.stringify(preview)}) needs ${tokenCount} tokens with start and end, more than the ` +
        `context length ${contextLength}; shorten it or pass { truncate: true }`,
    );
    this.index = index;
    this.tokenCount = tokenCount;
    this.contextLength = contextLength;
  }
}

/** True when `e` is a {@link TokenizerError} (optionally with the given code). */
export function isTokenizerError(e: unknown, code?: TokenizerErrorCode): e is TokenizerError {
  return e instanceof TokenizerError && (code === undefined || e.code === code);
}
