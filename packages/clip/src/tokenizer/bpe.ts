// Byte-level BPE exactly as OpenAI's SimpleTokenizer (openai/CLIP clip/simple_tokenizer.py) and `clip.tokenize`.
import { BYTE_CHARS_IN_VOCAB_ORDER, byteEncode, charToByte } from './bytes-unicode.ts';
import { cleanText, isWellFormedText, preTokenize } from './clean.ts';
import { quoteValue, TextTooLongError, TokenizerError } from './errors.ts';

/** A merge rule: two adjacent symbols that become one. Its position in the list is its rank (lower merges first). */
export type BpeMerge = readonly [string, string];

/** The start and end tokens of CLIP. */
export const SOT_TEXT = '<|startoftext|>';
export const EOT_TEXT = '<|endoftext|>';
/** End-of-word marker appended to the last symbol of every pre-token. */
export const END_OF_WORD = '</w>';
/** Number of merges OpenAI's tokenizer reads from its vocabulary file (49152 - 256 - 2). */
export const OPENAI_NUM_MERGES = 48_894;
/** CLIP's context length. */
export const DEFAULT_CONTEXT_LENGTH = 77;

export interface TokenizeOptions {
  /** Row length (default 77). At least 2 (start and end token). */
  contextLength?: number;
  /**
   * When a text needs more than `contextLength` tokens: false (default) throws {@link TextTooLongError}, as
   * `clip.tokenize`; true keeps the first `contextLength` tokens and replaces the last one by the end token.
   */
  truncate?: boolean;
}

/** The result of {@link BpeTokenizer.tokenize}: one zero-padded row of token ids per text. */
export interface TokenizedTexts {
  /** Row-major ids, `shape[0] * shape[1]` values (int32, as `clip.tokenize`). */
  data: Int32Array;
  /** `[number of texts, context length]`. */
  shape: [number, number];
  /** One view of `data` per text. */
  rows: Int32Array[];
}

export interface BpeTokenizerOptions {
  /** The cache of BPE results per pre-token is cleared when it holds this many entries (default 100 000). */
  maxCacheEntries?: number;
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** Checks that a symbol is made of byte characters, optionally ending with `</w>`. */
function isByteSymbol(symbol: string): boolean {
  const body = symbol.endsWith(END_OF_WORD) ? symbol.slice(0, -END_OF_WORD.length) : symbol;
  if (body.length === 0) return false;
  for (let i = 0; i < body.length; i++) if (charToByte(body.charCodeAt(i)) < 0) return false;
  return true;
}

/**
 * Why `merge` is not a merge of OpenAI's layout (two byte-level symbols, the first not ending a word), or undefined
 * when it is one.
 */
export function byteMergeProblem(merge: unknown): string | undefined {
  if (!Array.isArray(merge) || merge.length !== 2 || typeof merge[0] !== 'string' || typeof merge[1] !== 'string')
    return `${quoteValue(merge)} is not a pair of strings`;
  if (!isByteSymbol(merge[0]) || !isByteSymbol(merge[1]))
    return `${quoteValue(`${merge[0]} ${merge[1]}`)} is not two byte-level symbols (byte characters, optionally ending with ${END_OF_WORD})`;
  if (merge[0].endsWith(END_OF_WORD)) return `the first symbol ${quoteValue(merge[0])} ends a word`;
  return undefined;
}

function pairKey(a: string, b: string): string {
  // Byte characters never include a space (byte 0x20 is written U+0120), so ' ' separates unambiguously.
  return `${a} ${b}`;
}

/**
 * OpenAI's CLIP tokenizer: cleaning, pre-tokenisation, byte encoding, BPE, ids. Build it with
 * {@link BpeTokenizer.fromMerges} (OpenAI's layout: ids follow from the merge list) or
 * {@link BpeTokenizer.fromVocab} (Hugging Face's `vocab.json` + `merges.txt`), or with the file loaders in
 * `vocab-io.ts`.
 */
export class BpeTokenizer {
  /** Id of `<|startoftext|>`. */
  readonly sotToken: number;
  /** Id of `<|endoftext|>`. */
  readonly eotToken: number;
  /** Number of ids (largest id + 1); the size of the model's token embedding. */
  readonly vocabSize: number;
  /** The merges in rank order. */
  readonly merges: readonly BpeMerge[];

  private readonly encoder: ReadonlyMap<string, number>;
  private readonly decoder: readonly (string | undefined)[];
  private readonly ranks: ReadonlyMap<string, number>;
  private readonly cache = new Map<string, readonly string[]>();
  /** Ids per pre-token (before byte encoding): skips byte encoding and BPE for words already seen. */
  private readonly idCache = new Map<string, readonly number[]>();
  private readonly maxCacheEntries: number;

  private constructor(
    encoder: ReadonlyMap<string, number>,
    decoder: readonly (string | undefined)[],
    merges: readonly BpeMerge[],
    options: BpeTokenizerOptions,
  ) {
    this.encoder = encoder;
    this.decoder = decoder;
    this.merges = merges;
    const ranks = new Map<string, number>();
    // dict(zip(merges, range(len(merges)))): a repeated merge keeps its last rank.
    merges.forEach(([a, b], rank) => {
      ranks.set(pairKey(a, b), rank);
    });
    this.ranks = ranks;
    const sot = encoder.get(SOT_TEXT);
    const eot = encoder.get(EOT_TEXT);
    if (sot === undefined || eot === undefined)
      throw new TokenizerError('VOCAB_FORMAT', `the vocabulary lacks ${sot === undefined ? SOT_TEXT : EOT_TEXT}`);
    this.sotToken = sot;
    this.eotToken = eot;
    this.vocabSize = decoder.length;
    const max = options.maxCacheEntries ?? 100_000;
    if (!Number.isInteger(max) || max < 1)
      throw new TokenizerError('BAD_ARGUMENT', `maxCacheEntries must be a positive integer, got ${max}`);
    this.maxCacheEntries = max;
    this.resetCache();
  }

  /**
   * OpenAI's layout: ids 0–255 are the byte characters (in `bytes_to_unicode` order), 256–511 the same with `</w>`,
   * then one id per merge (the concatenation of its two symbols), then `<|startoftext|>` and `<|endoftext|>`.
   * Every symbol must be made of byte characters (optionally ending with `</w>`).
   */
  static fromMerges(merges: readonly BpeMerge[], options: BpeTokenizerOptions = {}): BpeTokenizer {
    const vocab: string[] = [...BYTE_CHARS_IN_VOCAB_ORDER, ...BYTE_CHARS_IN_VOCAB_ORDER.map((c) => c + END_OF_WORD)];
    merges.forEach((merge, i) => {
      const problem = byteMergeProblem(merge);
      if (problem !== undefined) throw new TokenizerError('VOCAB_FORMAT', `merge ${i}: ${problem}`);
      vocab.push(merge[0] + merge[1]);
    });
    vocab.push(SOT_TEXT, EOT_TEXT);
    // dict(zip(vocab, range(len(vocab)))): a repeated string maps to its last id.
    const encoder = new Map<string, number>();
    vocab.forEach((token, id) => {
      encoder.set(token, id);
    });
    return new BpeTokenizer(encoder, vocab, merges.slice(), options);
  }

  /**
   * Hugging Face's files: `vocab` maps each token string to its id (`vocab.json`), `merges` is the merge list
   * (`merges.txt` without its `#version` line). Every merge result must have an id; the vocabulary must contain
   * `<|startoftext|>` and `<|endoftext|>`.
   */
  static fromVocab(
    vocab: ReadonlyMap<string, number> | Readonly<Record<string, number>>,
    merges: readonly BpeMerge[],
    options: BpeTokenizerOptions = {},
  ): BpeTokenizer {
    const entries = vocab instanceof Map ? [...vocab.entries()] : Object.entries(vocab);
    const encoder = new Map<string, number>();
    const decoder: (string | undefined)[] = [];
    for (const [token, id] of entries) {
      if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff)
        throw new TokenizerError(
          'VOCAB_FORMAT',
          `token ${quoteValue(token)} has id ${quoteValue(id)}, not a non-negative int32`,
        );
      if (decoder[id] !== undefined)
        throw new TokenizerError(
          'VOCAB_FORMAT',
          `id ${id} is given to both ${quoteValue(decoder[id])} and ${quoteValue(token)}`,
        );
      encoder.set(token, id);
      decoder[id] = token;
    }
    merges.forEach((merge, i) => {
      if (!Array.isArray(merge) || merge.length !== 2 || merge[0].length === 0 || merge[1].length === 0)
        throw new TokenizerError('VOCAB_FORMAT', `merge ${i} (${quoteValue(merge)}) is not two symbols`);
      if (!encoder.has(merge[0] + merge[1]))
        throw new TokenizerError(
          'VOCAB_FORMAT',
          `merge ${i} (${quoteValue(`${merge[0]} ${merge[1]}`)}) produces ${quoteValue(merge[0] + merge[1])}, which has no id in the vocabulary`,
        );
    });
    for (const ch of BYTE_CHARS_IN_VOCAB_ORDER)
      if (!encoder.has(ch) || !encoder.has(ch + END_OF_WORD))
        throw new TokenizerError(
          'VOCAB_FORMAT',
          `the vocabulary lacks the byte symbol ${JSON.stringify(encoder.has(ch) ? ch + END_OF_WORD : ch)}`,
        );
    return new BpeTokenizer(encoder, decoder, merges.slice(), options);
  }

  /** Empties the BPE cache (it then holds only the two special tokens, as OpenAI's). */
  resetCache(): void {
    this.cache.clear();
    this.idCache.clear();
    this.cache.set(SOT_TEXT, [SOT_TEXT]);
    this.cache.set(EOT_TEXT, [EOT_TEXT]);
  }

  /** Id of a vocabulary string, or undefined. */
  tokenToId(token: string): number | undefined {
    return this.encoder.get(token);
  }

  /** Vocabulary string of an id, or undefined. */
  idToToken(id: number): string | undefined {
    return Number.isInteger(id) ? this.decoder[id] : undefined;
  }

  /**
   * BPE of one byte-encoded pre-token (SimpleTokenizer.bpe): the symbols it becomes, the last one ending in `</w>`.
   * Repeatedly merges every occurrence (left to right) of the lowest-ranked adjacent pair.
   */
  bpe(token: string): readonly string[] {
    const cached = this.cache.get(token);
    if (cached) return cached;
    let word = token.split('');
    if (word.length === 0) return [];
    word[word.length - 1] += END_OF_WORD;
    while (word.length > 1) {
      let best = Number.POSITIVE_INFINITY;
      let first = '';
      let second = '';
      for (let i = 0; i + 1 < word.length; i++) {
        const rank = this.ranks.get(pairKey(word[i] as string, word[i + 1] as string));
        if (rank !== undefined && rank < best) {
          best = rank;
          first = word[i] as string;
          second = word[i + 1] as string;
        }
      }
      if (best === Number.POSITIVE_INFINITY) break;
      const next: string[] = [];
      let i = 0;
      while (i < word.length) {
        const j = word.indexOf(first, i);
        if (j < 0) {
          for (let k = i; k < word.length; k++) next.push(word[k] as string);
          break;
        }
        for (let k = i; k < j; k++) next.push(word[k] as string);
        i = j;
        if (i < word.length - 1 && word[i + 1] === second) {
          next.push(first + second);
          i += 2;
        } else {
          next.push(first);
          i += 1;
        }
      }
      word = next;
    }
    if (this.cache.size >= this.maxCacheEntries) this.resetCache();
    this.cache.set(token, word);
    return word;
  }

  /** The BPE symbols of a text (cleaned, lower-cased, pre-tokenised, byte-encoded), without start/end tokens. */
  encodeToTokens(text: string): string[] {
    checkText(text, 'text');
    const out: string[] = [];
    for (const pre of preTokenize(cleanText(text))) for (const sym of this.bpe(byteEncode(pre))) out.push(sym);
    return out;
  }

  /** SimpleTokenizer.encode: the ids of a text, without start/end tokens. */
  encode(text: string): number[] {
    checkText(text, 'text');
    const out: number[] = [];
    for (const pre of preTokenize(cleanText(text))) {
      let ids = this.idCache.get(pre);
      if (!ids) {
        ids = this.bpe(byteEncode(pre)).map((sym) => {
          const id = this.encoder.get(sym);
          if (id === undefined)
            throw new TokenizerError('VOCAB_FORMAT', `the BPE symbol ${quoteValue(sym)} has no id in the vocabulary`);
          return id;
        });
        if (this.idCache.size >= this.maxCacheEntries) this.resetCache();
        this.idCache.set(pre, ids);
      }
      for (const id of ids) out.push(id);
    }
    return out;
  }

  /**
   * SimpleTokenizer.decode: the vocabulary strings joined, turned back into bytes, decoded as UTF-8 (invalid
   * sequences become U+FFFD) and `</w>` replaced by a space.
   */
  decode(ids: ArrayLike<number>): string {
    let text = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      const token = this.idToToken(id);
      if (token === undefined)
        throw new TokenizerError(
          'UNKNOWN_TOKEN_ID',
          `id ${quoteValue(id)} at position ${i} is not in the vocabulary (size ${this.vocabSize})`,
        );
      text += token;
    }
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const b = charToByte(text.charCodeAt(i));
      if (b < 0)
        throw new TokenizerError(
          'VOCAB_FORMAT',
          `the vocabulary string ${JSON.stringify(text[i])} is not a byte character; cannot decode`,
        );
      bytes[i] = b;
    }
    return utf8Decoder.decode(bytes).replaceAll(END_OF_WORD, ' ');
  }

  /**
   * `clip.tokenize`: one row per text, start token, ids, end token, zeros. A text that needs more than
   * `contextLength` tokens throws {@link TextTooLongError} unless `truncate` is set.
   */
  tokenize(texts: string | readonly string[], options: TokenizeOptions = {}): TokenizedTexts {
    const contextLength = options.contextLength ?? DEFAULT_CONTEXT_LENGTH;
    if (!Number.isInteger(contextLength) || contextLength < 2)
      throw new TokenizerError('BAD_ARGUMENT', `contextLength must be an integer >= 2, got ${contextLength}`);
    const list: readonly string[] = typeof texts === 'string' ? [texts] : texts;
    if (!Array.isArray(list))
      throw new TokenizerError('INVALID_TEXT', 'tokenize expects a string or an array of strings');
    if (list.length === 0) throw new TokenizerError('EMPTY_INPUT', 'tokenize got an empty list of texts');
    list.forEach((t, i) => {
      checkText(t, `text ${i}`);
    });
    const n = list.length;
    const data = new Int32Array(n * contextLength);
    for (let r = 0; r < n; r++) {
      const text = list[r] as string;
      const ids = this.encode(text);
      const needed = ids.length + 2;
      if (needed > contextLength && options.truncate !== true)
        throw new TextTooLongError(r, text, needed, contextLength);
      const base = r * contextLength;
      data[base] = this.sotToken;
      const keep = Math.min(ids.length, contextLength - 1);
      for (let k = 0; k < keep; k++) data[base + 1 + k] = ids[k] as number;
      // Fits: end token after the ids. Truncated: the last kept position becomes the end token.
      data[base + Math.min(ids.length + 1, contextLength - 1)] = this.eotToken;
    }
    const rows: Int32Array[] = [];
    for (let r = 0; r < n; r++) rows.push(data.subarray(r * contextLength, (r + 1) * contextLength));
    return { data, shape: [n, contextLength], rows };
  }
}

function checkText(text: unknown, what: string): asserts text is string {
  if (typeof text !== 'string')
    throw new TokenizerError('INVALID_TEXT', `${what} is ${text === null ? 'null' : typeof text}, not a string`);
  if (!isWellFormedText(text))
    throw new TokenizerError(
      'INVALID_TEXT',
      `${what} contains a lone UTF-16 surrogate, which has no UTF-8 encoding (Python's encode('utf-8') fails too)`,
    );
}
