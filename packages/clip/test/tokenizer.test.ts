// OpenAI's CLIP tokenizer against the golden outputs of openai/CLIP (clip/tokenizer.json, 40 strings), the Hugging
// Face loader against the same files converted to HF's format, and the cleaning steps against CPython.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { goldenPath, readFixtureJson } from '@fairclip/test-fixtures';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  BpeTokenizer,
  BYTE_CHARS_IN_VOCAB_ORDER,
  BYTE_TO_CHAR,
  byteEncode,
  charToByte,
  cleanText,
  hfTokenizerFromText,
  htmlEntityCount,
  htmlUnescape,
  isTokenizerError,
  loadHfTokenizer,
  loadOpenAiTokenizer,
  OPENAI_NUM_MERGES,
  openAiTokenizerFromBytes,
  parseOpenAiMerges,
  preTokenize,
  TextTooLongError,
  TokenizerError,
} from '../src/tokenizer/index.ts';

interface GoldenCase {
  text: string;
  bpe_ids: number[];
  bpe_tokens: string[];
  decoded: string;
  n_tokens_with_start_end: number;
  tokens: number[] | null;
  error: string | null;
  tokens_truncate: number[];
}
interface Golden {
  context_length: number;
  sot_token: number;
  eot_token: number;
  vocab_size: number;
  bpe_merges_used: number;
  cases: GoldenCase[];
}

const golden = readFixtureJson<Golden>('golden/clip/tokenizer.json');
const vocabPath = goldenPath('clip/bpe_simple_vocab_16e6.txt.gz');
if (!vocabPath)
  console.warn(
    '[tokenizer] SKIPPING the OpenAI-vocabulary tests: clip/bpe_simple_vocab_16e6.txt.gz was not found in the shared ' +
      'golden folder (../shared/golden beside the repository, or FAIRCLIP_GOLDEN_DIR). The vocabulary is never committed.',
  );

describe.skipIf(!vocabPath)("golden: OpenAI's vocabulary and clip.tokenize (clip/tokenizer.json)", () => {
  const tok = vocabPath ? loadOpenAiTokenizer(vocabPath) : (undefined as unknown as BpeTokenizer);

  test('vocabulary layout: 49 408 ids, start 49406, end 49407, 48 894 merges', () => {
    expect(golden.cases.length).toBe(40);
    expect(tok.vocabSize).toBe(golden.vocab_size);
    expect(tok.sotToken).toBe(golden.sot_token);
    expect(tok.eotToken).toBe(golden.eot_token);
    expect(tok.merges.length).toBe(golden.bpe_merges_used);
    expect(tok.idToToken(0)).toBe('!');
    expect(tok.idToToken(256)).toBe('!</w>');
  });

  test.each(golden.cases.map((c, i) => [i, JSON.stringify(c.text).slice(0, 70), c] as const))(
    'case %i %s',
    (_i, _label, c) => {
      expect(tok.encode(c.text)).toEqual(c.bpe_ids);
      expect(tok.encodeToTokens(c.text)).toEqual(c.bpe_tokens);
      expect(c.bpe_ids.map((id) => tok.idToToken(id))).toEqual(c.bpe_tokens);
      expect(tok.decode(c.bpe_ids)).toBe(c.decoded);
      if (c.tokens) {
        const out = tok.tokenize(c.text, { contextLength: golden.context_length });
        expect(out.shape).toEqual([1, 77]);
        expect(out.data).toBeInstanceOf(Int32Array);
        expect([...(out.rows[0] as Int32Array)]).toEqual(c.tokens);
      } else {
        expect(c.error).toMatch(/is too long for context length 77/);
        let thrown: unknown;
        try {
          tok.tokenize(c.text);
        } catch (e) {
          thrown = e;
        }
        expect(thrown).toBeInstanceOf(TextTooLongError);
        expect((thrown as TextTooLongError).tokenCount).toBe(c.n_tokens_with_start_end);
        expect((thrown as TextTooLongError).contextLength).toBe(77);
        expect(isTokenizerError(thrown, 'TEXT_TOO_LONG')).toBe(true);
      }
      expect([...(tok.tokenize(c.text, { truncate: true }).rows[0] as Int32Array)]).toEqual(c.tokens_truncate);
    },
  );

  test('a batch of texts gives one row per text, in order', () => {
    const texts = golden.cases.filter((c) => c.tokens).map((c) => c.text);
    const out = tok.tokenize(texts);
    expect(out.shape).toEqual([texts.length, 77]);
    const expected = golden.cases.filter((c) => c.tokens).flatMap((c) => c.tokens as number[]);
    expect([...out.data]).toEqual(expected);
  });

  test('a batch with one text too long names that text', () => {
    const long = golden.cases.find((c) => c.tokens === null) as GoldenCase;
    expect(() => tok.tokenize(['a photo of glaucoma', long.text])).toThrow(/text 1 .* needs \d+ tokens/);
  });

  test("law: decode(encode(ascii)) is the cleaned text's pre-tokens, each followed by a space", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 }),
        (text) => {
          const decoded = tok.decode(tok.encode(text));
          const pre = preTokenize(cleanText(text));
          expect(decoded).toBe(pre.map((p) => `${p} `).join(''));
          expect(decoded.replaceAll(' ', '')).toBe(cleanText(text).replaceAll(' ', ''));
        },
      ),
    );
  });

  test('the Hugging Face loader reads the same vocabulary converted to vocab.json + merges.txt: identical ids', () => {
    // Convert: vocab.json = every id's string (written in a shuffled key order), merges.txt = "#version" + merges.
    const entries: [string, number][] = [];
    for (let id = 0; id < tok.vocabSize; id++) entries.push([tok.idToToken(id) as string, id]);
    for (let i = entries.length - 1; i > 0; i--) {
      const j = (i * 7919 + 13) % (i + 1);
      [entries[i], entries[j]] = [entries[j] as [string, number], entries[i] as [string, number]];
    }
    const dir = mkdtempSync(join(tmpdir(), 'fairclip-hf-'));
    const vocabFile = join(dir, 'vocab.json');
    const mergesFile = join(dir, 'merges.txt');
    writeFileSync(vocabFile, JSON.stringify(Object.fromEntries(entries)));
    writeFileSync(mergesFile, `#version: 0.2\n${tok.merges.map(([a, b]) => `${a} ${b}`).join('\n')}\n`);
    const hf = loadHfTokenizer(vocabFile, mergesFile);
    rmSync(dir, { recursive: true, force: true });
    expect(hf.vocabSize).toBe(tok.vocabSize);
    expect(hf.sotToken).toBe(49406);
    expect(hf.eotToken).toBe(49407);
    for (const c of golden.cases) {
      expect(hf.encode(c.text)).toEqual(c.bpe_ids);
      expect([...(hf.tokenize(c.text, { truncate: true }).rows[0] as Int32Array)]).toEqual(c.tokens_truncate);
      expect(hf.decode(c.bpe_ids)).toBe(c.decoded);
    }
  });

  test('a Hugging Face vocabulary with other ids: the ids follow vocab.json', () => {
    const perm = (id: number) => (id * 7 + 3) % tok.vocabSize; // a bijection (7 and 49408 are coprime)
    const vocab: Record<string, number> = {};
    for (let id = 0; id < tok.vocabSize; id++) vocab[tok.idToToken(id) as string] = perm(id);
    const merges = tok.merges.map(([a, b]) => `${a} ${b}`).join('\n');
    const hf = hfTokenizerFromText(JSON.stringify(vocab), merges);
    for (const c of golden.cases.slice(0, 10)) expect(hf.encode(c.text)).toEqual(c.bpe_ids.map(perm));
    expect(hf.sotToken).toBe(perm(49406));
  });
});

describe("Python's html.unescape (known answers printed by CPython 3.11.2)", () => {
  const cases: [string, string][] = [
    ['Tom &amp; Jerry', 'Tom & Jerry'],
    ['&amp;amp;', '&amp;'],
    ['&lt;b&gt;', '<b>'],
    ['&notit;', '\u00acit;'],
    ['&notin;', '\u2209'],
    ['&not', '\u00ac'],
    ['&#128;', '\u20ac'],
    ['&#0;', '\ufffd'],
    ['&#xD800;', '\ufffd'],
    ['&#x110000;', '\ufffd'],
    ['&#1;', ''],
    ['&#x41;', 'A'],
    ['&#65', 'A'],
    ['&#X6a;', 'j'],
    ['&ampx', '&x'],
    ['&AMP;', '&'],
    ['&Amp;', '&Amp;'],
    ['&nbsp;x', '\u00a0x'],
    ['&#xFFFE;', ''],
    ['&#x1F600;', '\ud83d\ude00'],
    ['&NotNestedGreaterGreater;', '\u2aa2\u0338'],
    ['&fjlig;', 'fj'],
    ['&unknown;', '&unknown;'],
    ['&', '&'],
    ['&#;', '&#;'],
    ['&#x;', '&#x;'],
    ['&;', '&;'],
    ['a & b', 'a & b'],
    ['&#99999999999999999999;', '\ufffd'],
    ['&#13;', '\r'],
    ['&#150;', '\u2013'],
    ['&copy2023', '\u00a92023'],
    ['&aacute;&Aacute', '\u00e1\u00c1'],
    ['&ThickSpace;', '\u205f\u200a'],
    ['&#x2028;', '\u2028'],
    ['&zwnj;|', '\u200c|'],
  ];
  test.each(cases)('%j', (input, expected) => {
    expect(htmlUnescape(input)).toBe(expected);
  });

  test('the whole HTML5 table is present (2 125 names)', () => {
    expect(htmlEntityCount()).toBe(2125);
  });
});

describe("cleaning and pre-tokenisation (known answers from CPython 3.11.2 with the 'regex' module)", () => {
  const cases: [string, string, string[]][] = [
    ['\u001c Hello\u001fWorld \u001d', 'hello\u001fworld', ['hello', '\u001f', 'world']],
    ['a\u0085b\u3000c\ufeffd', 'a b c\ufeffd', ['a', 'b', 'c', '\ufeff', 'd']],
    ['  \t\n ', '', []],
    [
      '\u00c0\u00c9\u00ce \u0130stanbul \u03a3\u0391\u03a3',
      '\u00e0\u00e9\u00ee i\u0307stanbul \u03c3\u03b1\u03c2',
      ['\u00e0\u00e9\u00ee', 'i', '\u0307', 'stanbul', '\u03c3\u03b1\u03c2'],
    ],
    ['x\u0345y', 'x\u0345y', ['x', 'y']],
    ["it'\u017f <|\u017ftartoftext|>", "it'\u017f <|\u017ftartoftext|>", ['it', "'\u017f", '<|\u017ftartoftext|>']],
    [
      '\u0663\u0664 12 \u216b \u00bd',
      '\u0663\u0664 12 \u217b \u00bd',
      ['\u0663', '\u0664', '1', '2', '\u217b', '\u00bd'],
    ],
    [
      '\ud83d\ude00\ud83d\ude00 hi!! \u4f60\u597d',
      '\ud83d\ude00\ud83d\ude00 hi!! \u4f60\u597d',
      ['\ud83d\ude00\ud83d\ude00', 'hi', '!!', '\u4f60\u597d'],
    ],
    ["'S 'LL 'Re", "'s 'll 're", ["'s", "'ll", "'re"]],
    ['&amp;lt;3 &#65;&#66;', '<3 ab', ['<', '3', 'ab']],
    ['a\u00a0b\u2009c', 'a b c', ['a', 'b', 'c']],
    ['e\u0301 na\u00efve', 'e\u0301 na\u00efve', ['e', '\u0301', 'na\u00efve']],
  ];
  test.each(cases)('%j', (input, cleaned, pre) => {
    expect(cleanText(input)).toBe(cleaned);
    expect(preTokenize(cleaned)).toEqual(pre);
  });
});

describe('byte ↔ character table', () => {
  test('256 distinct characters, printable bytes map to themselves, the rest from U+0100 on', () => {
    expect(new Set(BYTE_TO_CHAR).size).toBe(256);
    expect(BYTE_TO_CHAR[0x41]).toBe('A');
    expect(BYTE_TO_CHAR[0x20]).toBe('\u0120'); // space → Ġ
    expect(BYTE_TO_CHAR[0]).toBe('\u0100');
    expect(BYTE_TO_CHAR[0xad]).toBe('\u0143'); // the last non-printable byte
    expect(BYTE_CHARS_IN_VOCAB_ORDER.slice(0, 3)).toEqual(['!', '"', '#']);
    for (let b = 0; b < 256; b++) expect(charToByte((BYTE_TO_CHAR[b] as string).charCodeAt(0))).toBe(b);
    expect(byteEncode('é')).toBe('\u00c3\u00a9');
  });
});

describe('tokenize with a byte-only vocabulary (no merges): shapes, truncation, errors', () => {
  const bytesOnly = BpeTokenizer.fromMerges([]);

  test('layout: 514 ids, start 512, end 513', () => {
    expect(bytesOnly.vocabSize).toBe(514);
    expect(bytesOnly.sotToken).toBe(512);
    expect(bytesOnly.eotToken).toBe(513);
  });

  test('law: a row is start, ids, end, zeros — or, truncated, the first contextLength - 1 tokens and the end', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), fc.integer({ min: 2, max: 20 }), (text, ctx) => {
        const ids = bytesOnly.encode(text);
        const full = [512, ...ids, 513];
        if (full.length <= ctx) {
          const row = [...(bytesOnly.tokenize(text, { contextLength: ctx }).rows[0] as Int32Array)];
          expect(row).toEqual([...full, ...new Array<number>(ctx - full.length).fill(0)]);
        } else {
          expect(() => bytesOnly.tokenize(text, { contextLength: ctx })).toThrow(TextTooLongError);
          const row = [...(bytesOnly.tokenize(text, { contextLength: ctx, truncate: true }).rows[0] as Int32Array)];
          expect(row).toEqual([...full.slice(0, ctx - 1), 513]);
        }
      }),
    );
  });

  test('bad input: empty list, non-strings, lone surrogates, unknown ids, bad context length', () => {
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return e instanceof TokenizerError ? e.code : 'other';
      }
      return undefined;
    };
    expect(code(() => bytesOnly.tokenize([]))).toBe('EMPTY_INPUT');
    expect(code(() => bytesOnly.tokenize([42 as unknown as string]))).toBe('INVALID_TEXT');
    expect(code(() => bytesOnly.tokenize('a\ud800b'))).toBe('INVALID_TEXT');
    expect(code(() => bytesOnly.encode(null as unknown as string))).toBe('INVALID_TEXT');
    expect(code(() => bytesOnly.decode([0, 514]))).toBe('UNKNOWN_TOKEN_ID');
    expect(code(() => bytesOnly.decode([1.5]))).toBe('UNKNOWN_TOKEN_ID');
    expect(code(() => bytesOnly.tokenize('a', { contextLength: 1 }))).toBe('BAD_ARGUMENT');
    expect(() => bytesOnly.tokenize([])).toThrow(/empty list of texts/);
    expect(() => bytesOnly.decode([0, 514])).toThrow(/id 514 at position 1/);
  });

  test('decode replaces invalid UTF-8 with U+FFFD, as Python errors="replace"', () => {
    // The byte 0xC3 alone (its character is 'Ã'), then 'a</w>'.
    const c3 = bytesOnly.tokenToId('\u00c3') as number;
    const aEnd = bytesOnly.tokenToId('a</w>') as number;
    expect(bytesOnly.decode([c3, aEnd])).toBe('\ufffda ');
  });
});

describe('vocabulary files: bad input', () => {
  test('a missing file is VOCAB_IO naming the path', () => {
    expect(() => loadOpenAiTokenizer('/nonexistent/bpe.txt.gz')).toThrow(
      /VOCAB_IO: \/nonexistent\/bpe\.txt\.gz: .*no such file/,
    );
  });

  test('corrupt gzip data, a bad merge line, a merge of non-byte symbols', () => {
    const gz = gzipSync(Buffer.from('#version: 0.2\ni n\nt h'));
    expect(parseOpenAiMerges(gz)).toEqual([
      ['i', 'n'],
      ['t', 'h'],
    ]);
    const corrupt = new Uint8Array(gz.subarray(0, gz.length - 6));
    expect(() => parseOpenAiMerges(corrupt, { source: 'v.gz' })).toThrow(/VOCAB_FORMAT: v\.gz: corrupt gzip/);
    expect(() => parseOpenAiMerges(Buffer.from('#v\ni n\nabc\n'), { source: 'v.txt' })).toThrow(
      /line 3 .* not a merge/,
    );
    expect(() => openAiTokenizerFromBytes(Buffer.from('#v\n\u4f60 \u597d'), { source: 'v.txt' })).toThrow(
      /v\.txt: line 2: .* not two byte-level symbols/,
    );
    expect(() => BpeTokenizer.fromMerges([['a</w>', 'b']])).toThrow(/ends a word/);
  });

  test('OpenAI layout: only the first 48 894 merge lines are read', () => {
    const lines = ['#version: 0.2'];
    // Distinct merges (a repeated one is a corrupt file): pairs of byte characters.
    const chars = BYTE_CHARS_IN_VOCAB_ORDER;
    for (let i = 0; i < OPENAI_NUM_MERGES + 5; i++) lines.push(`${chars[i % 256]} ${chars[Math.floor(i / 256)]}`);
    expect(parseOpenAiMerges(Buffer.from(lines.join('\n'))).length).toBe(OPENAI_NUM_MERGES);
    expect(parseOpenAiMerges(Buffer.from(lines.join('\n')), { maxMerges: 3 }).length).toBe(3);
  });

  test('Hugging Face files: bad JSON, a merge without an id, missing special tokens', () => {
    const base: Record<string, number> = {};
    BYTE_CHARS_IN_VOCAB_ORDER.forEach((c, i) => {
      base[c] = i;
      base[`${c}</w>`] = 256 + i;
    });
    const withSpecials = { ...base, '<|startoftext|>': 512, '<|endoftext|>': 513 };
    expect(hfTokenizerFromText(JSON.stringify(withSpecials), '#version: 0.2\n').vocabSize).toBe(514);
    expect(() => hfTokenizerFromText('{', '')).toThrow(/VOCAB_FORMAT: .*not valid JSON/);
    expect(() => hfTokenizerFromText(JSON.stringify(withSpecials), '#version: 0.2\na b')).toThrow(
      /"ab", which has no id/,
    );
    expect(() => hfTokenizerFromText(JSON.stringify(base), '')).toThrow(/lacks <\|startoftext\|>/);
    expect(() => hfTokenizerFromText(JSON.stringify({ ...withSpecials, x: 3 }), '')).toThrow(/id 3 is given to both/);
  });

  test('a learned vocabulary file round-trips through the OpenAI-layout loader', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fairclip-bpe-'));
    const file = join(dir, 'v.txt.gz');
    writeFileSync(file, gzipSync(Buffer.from('#version: 0.2\nh e\nl l\nll o</w>\nhe llo</w>')));
    const tok = loadOpenAiTokenizer(file);
    expect(readFileSync(file).length).toBeGreaterThan(10);
    rmSync(dir, { recursive: true, force: true });
    expect(tok.vocabSize).toBe(518);
    expect(tok.encodeToTokens('hello Hello hell')).toEqual(['hello</w>', 'hello</w>', 'he', 'l', 'l</w>']);
    expect(tok.encode('hello')).toEqual([515]);
    expect(tok.eotToken).toBe(517);
  });
});
