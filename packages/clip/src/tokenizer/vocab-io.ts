// Reading and writing BPE vocabularies: OpenAI's `bpe_simple_vocab_16e6.txt.gz` layout (gzip of a UTF-8 text, a
// header line, then one merge "a b" per line) and Hugging Face's `vocab.json` + `merges.txt`.
import { constants as bufferConstants } from 'node:buffer';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  type BpeMerge,
  BpeTokenizer,
  type BpeTokenizerOptions,
  byteMergeProblem,
  EOT_TEXT,
  OPENAI_NUM_MERGES,
  SOT_TEXT,
} from './bpe.ts';
import { pythonSplit } from './clean.ts';
import { quoteValue, TokenizerError } from './errors.ts';

/**
 * The default cap on a vocabulary file's size and on the text a gzip vocabulary inflates to: 64 MiB. OpenAI's
 * `bpe_simple_vocab_16e6.txt.gz` is 1.36 MB and inflates to 3.2 MB; Hugging Face's `vocab.json` and `merges.txt` are
 * under 2 MB each.
 */
export const DEFAULT_MAX_VOCAB_BYTES = 64 * 1024 * 1024;

/** What to pass instead of a file that is not a vocabulary. */
const WHAT_TO_PASS =
  'pass OpenAI\'s bpe_simple_vocab_16e6.txt.gz (or a vocabulary written by saveBpeVocab): a header line, then one merge "a b" per line';

/** A byte count for messages: `67108864 bytes (64 MiB)`. */
function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${n} bytes (${Number.isInteger(v) ? v : v.toPrecision(3)} ${units[u]})`;
}

function checkMaxBytes(maxBytes: number): number {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1)
    throw new TokenizerError('BAD_ARGUMENT', `maxBytes must be a positive integer, got ${quoteValue(maxBytes)}`);
  // gunzipSync's maxOutputLength cannot exceed the largest Buffer.
  return Math.min(maxBytes, bufferConstants.MAX_LENGTH);
}

function tooLarge(what: string, maxBytes: number, file: string): TokenizerError {
  return new TokenizerError(
    'TOO_LARGE',
    `${what} more than the cap of ${formatBytes(maxBytes)} (maxBytes); OpenAI's vocabulary is 1.36 MB and inflates ` +
      `to 3.2 MB, so this is not a BPE vocabulary: ${WHAT_TO_PASS} (or raise maxBytes if the file is genuine)`,
    { file },
  );
}

function readBytes(path: string, maxBytes: number): Uint8Array {
  try {
    const st = statSync(path);
    if (st.isDirectory())
      throw new TokenizerError('VOCAB_IO', `is a folder, not a vocabulary file; ${WHAT_TO_PASS}`, { file: path });
    if (st.size > maxBytes) throw tooLarge(`the file holds ${formatBytes(st.size)},`, maxBytes, path);
    const bytes = readFileSync(path);
    if (bytes.length > maxBytes) throw tooLarge(`the file holds ${formatBytes(bytes.length)},`, maxBytes, path);
    return bytes;
  } catch (e) {
    if (e instanceof TokenizerError) throw e;
    const code = (e as { code?: unknown })?.code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'ENOTDIR'
          ? 'a parent of this path is not a folder'
          : e instanceof Error
            ? e.message
            : String(e);
    throw new TokenizerError('VOCAB_IO', `cannot read the vocabulary: ${why}`, { file: path, cause: e });
  }
}

function decodeUtf8(bytes: Uint8Array, source: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (e) {
    throw new TokenizerError('VOCAB_FORMAT', `not valid UTF-8 text, so not a vocabulary; ${WHAT_TO_PASS}`, {
      file: source,
      cause: e,
    });
  }
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The bytes of a vocabulary file, inflated when they are gzip, within `maxBytes`. */
function inflateVocab(bytes: Uint8Array, source: string, maxBytes: number): Uint8Array {
  if (!isGzip(bytes)) {
    if (bytes.length > maxBytes) throw tooLarge(`the text holds ${formatBytes(bytes.length)},`, maxBytes, source);
    return bytes;
  }
  try {
    // maxOutputLength stops the inflation as soon as the output passes the cap: memory stays bounded by it.
    return gunzipSync(bytes, { maxOutputLength: maxBytes });
  } catch (e) {
    if ((e as { code?: unknown })?.code === 'ERR_BUFFER_TOO_LARGE')
      throw tooLarge(`the gzip data inflates to`, maxBytes, source);
    const why = e instanceof Error ? e.message : String(e);
    throw new TokenizerError('VOCAB_FORMAT', `corrupt gzip data (${quoteValue(why)}); ${WHAT_TO_PASS}`, {
      file: source,
      cause: e,
    });
  }
}

export interface OpenAiVocabOptions {
  /** Name used in error messages (a path). */
  source?: string;
  /**
   * How many merge lines to read after the header (default 48 894, what OpenAI's tokenizer reads:
   * `lines[1:49152-256-2+1]`). Shorter files (learned vocabularies) give all their merges.
   */
  maxMerges?: number;
  /**
   * Cap on the file's size and on the text a gzip file inflates to (default {@link DEFAULT_MAX_VOCAB_BYTES}, 64 MiB):
   * a larger one is refused with TOO_LARGE before it is read or inflated further.
   */
  maxBytes?: number;
  /**
   * The number of token ids the vocabulary must define (512 byte symbols + merges + 2 special tokens), e.g. the
   * model's `vocab_size`: a truncated file (too few merges) is then refused instead of shifting every id.
   */
  expectedVocabSize?: number;
}

/** The lines of `text` in [from, to), found one by one (no split of a large text into all of its lines). */
function linesIn(text: string, from: number, to: number): { lines: string[]; more: boolean } {
  const lines: string[] = [];
  let pos = 0;
  let index = 0;
  while (index < to) {
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl;
    if (index >= from) lines.push(text.slice(pos, end));
    index++;
    if (nl < 0) return { lines, more: false };
    pos = nl + 1;
  }
  return { lines, more: true };
}

/**
 * Parses OpenAI's vocabulary file (gzip or plain text): skips the header line and returns the merges of the next
 * `maxMerges` lines, as OpenAI's `SimpleTokenizer` reads them. Refused with a {@link TokenizerError} naming the line:
 * a line that is not two byte-level symbols (an empty line too: OpenAI's loader would read it as an empty merge and
 * shift the special tokens' ids), a merge listed twice (OpenAI's loader would silently keep the later rank), a JSON
 * file (Hugging Face's `vocab.json`), text that is not UTF-8, corrupt gzip data, and a file or inflated text over
 * `maxBytes`.
 */
export function parseOpenAiMerges(bytes: Uint8Array, options: OpenAiVocabOptions = {}): BpeMerge[] {
  const source = options.source ?? '<bytes>';
  const maxMerges = options.maxMerges ?? OPENAI_NUM_MERGES;
  if (!Number.isSafeInteger(maxMerges) || maxMerges < 0)
    throw new TokenizerError('BAD_ARGUMENT', `maxMerges must be a non-negative integer, got ${quoteValue(maxMerges)}`);
  const maxBytes = checkMaxBytes(options.maxBytes ?? DEFAULT_MAX_VOCAB_BYTES);
  const text = decodeUtf8(inflateVocab(bytes, source, maxBytes), source);
  if (text === '') throw new TokenizerError('VOCAB_FORMAT', `empty vocabulary file; ${WHAT_TO_PASS}`, { file: source });
  if (/^[\s\ufeff]*\{/.test(text.slice(0, 64)))
    throw new TokenizerError(
      'VOCAB_FORMAT',
      "JSON, not OpenAI's vocabulary layout: a Hugging Face vocab.json loads with loadHfTokenizer(vocab.json, " +
        `merges.txt); otherwise ${WHAT_TO_PASS}`,
      { file: source },
    );
  const { lines } = linesIn(text, 1, 1 + maxMerges);
  const seen = new Map<string, number>();
  return lines.map((line, i) => {
    const lineNo = i + 2;
    const parts = pythonSplit(line);
    if (parts.length === 0)
      throw new TokenizerError(
        'VOCAB_FORMAT',
        `line ${lineNo} is empty: OpenAI's loader would read it as an empty merge and shift the ids of ` +
          `${SOT_TEXT} and ${EOT_TEXT}; remove it (a newline at the end of the file counts)`,
        { file: source },
      );
    if (parts.length !== 2)
      throw new TokenizerError(
        'VOCAB_FORMAT',
        `line ${lineNo} (${quoteValue(line)}) is not a merge of two symbols; ${WHAT_TO_PASS}`,
        { file: source },
      );
    const merge = [parts[0] as string, parts[1] as string] as const;
    const bad = byteMergeProblem(merge);
    if (bad !== undefined)
      throw new TokenizerError('VOCAB_FORMAT', `line ${lineNo}: ${bad}; ${WHAT_TO_PASS}`, {
        file: source,
      });
    const key = `${merge[0]} ${merge[1]}`;
    const first = seen.get(key);
    if (first !== undefined)
      throw new TokenizerError(
        'VOCAB_FORMAT',
        `line ${lineNo} repeats the merge ${quoteValue(key)} of line ${first}: the file is corrupt (OpenAI's loader ` +
          'would silently keep only the later rank); pass an intact copy of the vocabulary',
        { file: source },
      );
    seen.set(key, lineNo);
    return merge;
  });
}

/** A tokenizer from the bytes of an OpenAI-layout vocabulary (`bpe_simple_vocab_16e6.txt.gz` or a learned one). */
export function openAiTokenizerFromBytes(
  bytes: Uint8Array,
  options: OpenAiVocabOptions & BpeTokenizerOptions = {},
): BpeTokenizer {
  const expected = options.expectedVocabSize;
  if (expected !== undefined && (!Number.isSafeInteger(expected) || expected < 514))
    throw new TokenizerError(
      'BAD_ARGUMENT',
      `expectedVocabSize must be an integer >= 514 (512 byte symbols and 2 special tokens), got ${quoteValue(expected)}`,
    );
  const merges = parseOpenAiMerges(bytes, options);
  let tokenizer: BpeTokenizer;
  try {
    tokenizer = BpeTokenizer.fromMerges(merges, options);
  } catch (e) {
    if (e instanceof TokenizerError && options.source !== undefined)
      throw new TokenizerError(e.code, e.detail, { file: options.source, cause: e });
    throw e;
  }
  if (expected !== undefined && tokenizer.vocabSize !== expected)
    throw new TokenizerError(
      'VOCAB_FORMAT',
      `${merges.length} merges give ${tokenizer.vocabSize} token ids (512 + merges + 2), but ${expected} are expected ` +
        `(the model's vocab_size): ${tokenizer.vocabSize < expected ? 'the file is truncated or ' : ''}not the ` +
        "vocabulary the model was trained with; pass that one (OpenAI's models: bpe_simple_vocab_16e6.txt.gz, " +
        '48 894 merges, 49 408 ids)',
      { file: options.source },
    );
  return tokenizer;
}

/** Loads OpenAI's `bpe_simple_vocab_16e6.txt.gz` (or a vocabulary written by {@link saveBpeVocab}). */
export function loadOpenAiTokenizer(
  path: string,
  options: Omit<OpenAiVocabOptions, 'source'> & BpeTokenizerOptions = {},
): BpeTokenizer {
  const maxBytes = checkMaxBytes(options.maxBytes ?? DEFAULT_MAX_VOCAB_BYTES);
  return openAiTokenizerFromBytes(readBytes(path, maxBytes), { ...options, source: path });
}

/** Parses Hugging Face's `vocab.json` text: an object mapping token strings to integer ids. */
export function parseHfVocab(text: string, source = '<vocab.json>'): Map<string, number> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TokenizerError('VOCAB_FORMAT', `not valid JSON: ${(e as Error).message}`, { file: source, cause: e });
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new TokenizerError('VOCAB_FORMAT', 'expected a JSON object mapping tokens to ids', { file: source });
  const map = new Map<string, number>();
  for (const [token, id] of Object.entries(json as Record<string, unknown>)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0)
      throw new TokenizerError('VOCAB_FORMAT', `token ${quoteValue(token)} has id ${quoteValue(id)}`, {
        file: source,
      });
    map.set(token, id);
  }
  return map;
}

/**
 * Parses Hugging Face's `merges.txt` text: an optional first line starting with `#version`, then one merge per
 * line. Empty lines at the end are ignored.
 */
export function parseHfMerges(text: string, source = '<merges.txt>'): BpeMerge[] {
  const lines = text.split('\n');
  const start = lines[0]?.startsWith('#version') ? 1 : 0;
  const body = lines.slice(start);
  while (body.length > 0 && (body[body.length - 1] as string).trim() === '') body.pop();
  return body.map((line, i) => {
    const parts = pythonSplit(line);
    if (parts.length !== 2)
      throw new TokenizerError(
        'VOCAB_FORMAT',
        `line ${i + start + 1} (${quoteValue(line)}) is not a merge of two symbols`,
        { file: source },
      );
    return [parts[0] as string, parts[1] as string] as const;
  });
}

/** A tokenizer from Hugging Face's `vocab.json` and `merges.txt` texts. */
export function hfTokenizerFromText(
  vocabJson: string,
  mergesTxt: string,
  options: BpeTokenizerOptions & { vocabSource?: string; mergesSource?: string } = {},
): BpeTokenizer {
  const vocab = parseHfVocab(vocabJson, options.vocabSource);
  const merges = parseHfMerges(mergesTxt, options.mergesSource);
  try {
    return BpeTokenizer.fromVocab(vocab, merges, options);
  } catch (e) {
    if (e instanceof TokenizerError)
      throw new TokenizerError(e.code, e.detail, {
        file: `${options.vocabSource ?? 'vocab.json'} + ${options.mergesSource ?? 'merges.txt'}`,
        cause: e,
      });
    throw e;
  }
}

/** Loads a Hugging Face CLIP tokenizer from its `vocab.json` and `merges.txt` files. */
export function loadHfTokenizer(
  vocabJsonPath: string,
  mergesTxtPath: string,
  options: BpeTokenizerOptions & { maxBytes?: number } = {},
): BpeTokenizer {
  const maxBytes = checkMaxBytes(options.maxBytes ?? DEFAULT_MAX_VOCAB_BYTES);
  const vocab = decodeUtf8(readBytes(vocabJsonPath, maxBytes), vocabJsonPath);
  const merges = decodeUtf8(readBytes(mergesTxtPath, maxBytes), mergesTxtPath);
  return hfTokenizerFromText(vocab, merges, { ...options, vocabSource: vocabJsonPath, mergesSource: mergesTxtPath });
}

/**
 * The text of an OpenAI-layout vocabulary: a header line, then one merge per line, without a trailing newline (so
 * that OpenAI's own loader, which splits on '\n' and reads up to 48 894 lines, sees exactly these merges).
 */
export function bpeVocabText(merges: readonly BpeMerge[], header = '#version: 0.2'): string {
  if (header.includes('\n')) throw new TokenizerError('BAD_ARGUMENT', 'the header must be a single line');
  if (merges.length > OPENAI_NUM_MERGES)
    throw new TokenizerError(
      'BAD_ARGUMENT',
      `${merges.length} merges: OpenAI's loader reads at most ${OPENAI_NUM_MERGES} from a vocabulary file`,
    );
  // Validates the merges (byte-level symbols) by building the tokenizer they define.
  BpeTokenizer.fromMerges(merges);
  // parseOpenAiMerges refuses a repeated merge as a corrupt file: never write one.
  const seen = new Map<string, number>();
  merges.forEach(([a, b], i) => {
    const first = seen.get(`${a} ${b}`);
    if (first !== undefined)
      throw new TokenizerError('BAD_ARGUMENT', `merge ${i} repeats merge ${first} (${quoteValue(`${a} ${b}`)})`);
    seen.set(`${a} ${b}`, i);
  });
  return [header, ...merges.map(([a, b]) => `${a} ${b}`)].join('\n');
}

/** The gzip bytes of an OpenAI-layout vocabulary (deterministic: no file name, time stamp 0). */
export function encodeBpeVocab(merges: readonly BpeMerge[], header?: string): Uint8Array {
  return new Uint8Array(gzipSync(Buffer.from(bpeVocabText(merges, header), 'utf8'), { level: 9 }));
}

/** Writes an OpenAI-layout vocabulary (`*.txt.gz`) that {@link loadOpenAiTokenizer} and OpenAI's code read back. */
export function saveBpeVocab(path: string, merges: readonly BpeMerge[], header?: string): void {
  const bytes = encodeBpeVocab(merges, header);
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    throw new TokenizerError('VOCAB_IO', `cannot write the vocabulary: ${(e as Error).message}`, {
      file: path,
      cause: e,
    });
  }
}
