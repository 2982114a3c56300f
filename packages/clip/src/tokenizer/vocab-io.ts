// Reading and writing BPE vocabularies: OpenAI's `bpe_simple_vocab_16e6.txt.gz` layout (gzip of a UTF-8 text, a
// header line, then one merge "a b" per line) and Hugging Face's `vocab.json` + `merges.txt`.
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { type BpeMerge, BpeTokenizer, type BpeTokenizerOptions, OPENAI_NUM_MERGES } from './bpe.ts';
import { pythonSplit } from './clean.ts';
import { TokenizerError } from './errors.ts';

function readBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as { code?: unknown })?.code;
    const why = code === 'ENOENT' ? 'no such file' : e instanceof Error ? e.message : String(e);
    throw new TokenizerError('VOCAB_IO', `cannot read the vocabulary: ${why}`, { file: path, cause: e });
  }
}

function decodeUtf8(bytes: Uint8Array, source: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (e) {
    throw new TokenizerError('VOCAB_FORMAT', 'not valid UTF-8 text', { file: source, cause: e });
  }
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

export interface OpenAiVocabOptions {
  /** Name used in error messages (a path). */
  source?: string;
  /**
   * How many merge lines to read after the header (default 48 894, what OpenAI's tokenizer reads:
   * `lines[1:49152-256-2+1]`). Shorter files (learned vocabularies) give all their merges.
   */
  maxMerges?: number;
}

/**
 * Parses OpenAI's vocabulary file (gzip or plain text): skips the header line and returns the merges of the next
 * `maxMerges` lines. Trailing empty lines are ignored; any other line that is not two symbols is an error.
 */
export function parseOpenAiMerges(bytes: Uint8Array, options: OpenAiVocabOptions = {}): BpeMerge[] {
  const source = options.source ?? '<bytes>';
  const maxMerges = options.maxMerges ?? OPENAI_NUM_MERGES;
  if (!Number.isInteger(maxMerges) || maxMerges < 0)
    throw new TokenizerError('BAD_ARGUMENT', `maxMerges must be a non-negative integer, got ${maxMerges}`);
  let raw = bytes;
  if (isGzip(bytes)) {
    try {
      raw = gunzipSync(bytes);
    } catch (e) {
      throw new TokenizerError('VOCAB_FORMAT', `corrupt gzip data: ${(e as Error).message}`, {
        file: source,
        cause: e,
      });
    }
  }
  const lines = decodeUtf8(raw, source).split('\n');
  if (lines.length < 1 || (lines.length === 1 && lines[0] === ''))
    throw new TokenizerError('VOCAB_FORMAT', 'empty vocabulary file', { file: source });
  const body = lines.slice(1, 1 + maxMerges);
  while (body.length > 0 && (body[body.length - 1] as string).trim() === '') body.pop();
  return body.map((line, i) => {
    const parts = pythonSplit(line);
    if (parts.length !== 2)
      throw new TokenizerError(
        'VOCAB_FORMAT',
        `line ${i + 2} (${JSON.stringify(line.slice(0, 80))}) is not a merge of two symbols`,
        { file: source },
      );
    return [parts[0] as string, parts[1] as string] as const;
  });
}

/** A tokenizer from the bytes of an OpenAI-layout vocabulary (`bpe_simple_vocab_16e6.txt.gz` or a learned one). */
export function openAiTokenizerFromBytes(
  bytes: Uint8Array,
  options: OpenAiVocabOptions & BpeTokenizerOptions = {},
): BpeTokenizer {
  const merges = parseOpenAiMerges(bytes, options);
  try {
    return BpeTokenizer.fromMerges(merges, options);
  } catch (e) {
    if (e instanceof TokenizerError && options.source !== undefined)
      throw new TokenizerError(e.code, e.detail, { file: options.source, cause: e });
    throw e;
  }
}

/** Loads OpenAI's `bpe_simple_vocab_16e6.txt.gz` (or a vocabulary written by {@link saveBpeVocab}). */
export function loadOpenAiTokenizer(
  path: string,
  options: Omit<OpenAiVocabOptions, 'source'> & BpeTokenizerOptions = {},
): BpeTokenizer {
  return openAiTokenizerFromBytes(readBytes(path), { ...options, source: path });
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
      throw new TokenizerError('VOCAB_FORMAT', `token ${JSON.stringify(token)} has id ${JSON.stringify(id)}`, {
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
        `line ${i + start + 1} (${JSON.stringify(line.slice(0, 80))}) is not a merge of two symbols`,
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
  options: BpeTokenizerOptions = {},
): BpeTokenizer {
  const vocab = decodeUtf8(readBytes(vocabJsonPath), vocabJsonPath);
  const merges = decodeUtf8(readBytes(mergesTxtPath), mergesTxtPath);
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
