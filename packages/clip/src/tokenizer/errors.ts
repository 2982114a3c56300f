// Typed errors of the CLIP tokenizer: a stable `code` to branch on and a message that names the problem
// (and the file, for vocabulary I/O).

import { FairclipError } from '@fairclip/io';
/** Stable codes of {@link TokenizerError}. */
export type TokenizerErrorCode =
  /** A vocabulary file is missing or cannot be read. */
  | 'VOCAB_IO'
  /** A vocabulary file is malformed (bad gzip data, a merge line that is not two symbols, an id that is missing). */
  | 'VOCAB_FORMAT'
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

/** Error raised by the tokenizer, its vocabulary loaders and the BPE learner. */
export class TokenizerError extends FairclipError {
  override readonly name = 'TokenizerError';
  override readonly code: TokenizerErrorCode;
  /** The file concerned, for vocabulary I/O. */
  readonly file: string | undefined;
  /** The message without the code and file prefix. */
  readonly detail: string;

  constructor(code: TokenizerErrorCode, message: string, options: { file?: string | undefined; cause?: unknown } = {}) {
    super(code, options.file === undefined ? `${code}: ${message}` : `${code}: ${options.file}: ${message}`, {
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
