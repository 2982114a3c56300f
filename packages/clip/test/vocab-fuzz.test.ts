// Fuzz suite of the OpenAI-layout vocabulary reader: mutations (truncation, bit flips, inserted, deleted and
// duplicated bytes and lines, an inflated gzip length field, header flags, appended members and garbage) of a small
// valid vocabulary, gzip and plain. Each input either parses to the merges OpenAI's loader reads from it or throws a
// TokenizerError (one line, bounded) — never another error, never a hang.
//
// Reference: test-fixtures/data/clip/tokenizer-fuzz/vocab_mutations.json, written by
// test-fixtures/generators/clip_tok_vocab_mutations.py (Python's gzip + openai/CLIP's reading of the file), and, for
// the seeded fast-check mutations, `openAiReading` below: the same three lines of simple_tokenizer.py, transliterated
// (zlib's gunzip, strict UTF-8, split on '\n', lines [1, 48 895), Python's `str.split()`), itself checked against
// the Python fixture first.
import { gunzipSync, gzipSync } from 'node:zlib';
import { readFixtureJson } from '@fairclip/test-fixtures';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { BYTE_CHARS_IN_VOCAB_ORDER } from '../src/tokenizer/bytes-unicode.ts';
import { TokenizerError } from '../src/tokenizer/errors.ts';
import { openAiTokenizerFromBytes, parseOpenAiMerges } from '../src/tokenizer/vocab-io.ts';

interface FuzzCase {
  what: string;
  gzip: boolean;
  base64: string;
  ok: boolean;
  merges?: string[];
  lengths?: number[];
  error?: string;
}
interface FuzzFixture {
  header: string;
  merges: string[];
  num_merges_read: number;
  cases: FuzzCase[];
}

const fixture = readFixtureJson<FuzzFixture>('clip/tokenizer-fuzz/vocab_mutations.json');
const NUM_MERGES = fixture.num_merges_read;

/** What Python's `str.isspace()` accepts: the separators of `str.split()`. */
const PY_SPACE_CLASS = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_WHITESPACE = new RegExp(`[${PY_SPACE_CLASS}]+`);

/** openai/CLIP's reading of a vocabulary: the merge tuples, or 'error' where Python raises. */
function openAiReading(bytes: Uint8Array, isGzip: boolean): string[][] | 'error' {
  let raw: Uint8Array = bytes;
  if (isGzip) {
    try {
      raw = gunzipSync(bytes);
    } catch {
      return 'error';
    }
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
  } catch {
    return 'error';
  }
  return text
    .split('\n')
    .slice(1, 1 + NUM_MERGES)
    .map((line) => line.split(PY_WHITESPACE).filter((p) => p !== ''));
}

const BYTE_CHARS = new Set(BYTE_CHARS_IN_VOCAB_ORDER);
function isByteSymbol(s: string): boolean {
  const body = s.endsWith('</w>') ? s.slice(0, -4) : s;
  return body.length > 0 && [...body].every((c) => BYTE_CHARS.has(c));
}

/**
 * Whether a reading is a vocabulary in OpenAI's layout that the tokenizer must accept: every line two byte-level
 * symbols (the first not ending a word), no merge twice, not empty, not JSON.
 */
function isCleanReading(merges: string[][], text0: string): boolean {
  if (text0 === '' || /^[\s\ufeff]*\{/.test(text0)) return false;
  const seen = new Set<string>();
  for (const m of merges) {
    if (m.length !== 2) return false;
    const [a, b] = m as [string, string];
    if (!isByteSymbol(a) || !isByteSymbol(b) || a.endsWith('</w>')) return false;
    if (seen.has(`${a} ${b}`)) return false;
    seen.add(`${a} ${b}`);
  }
  return true;
}

type Outcome = { ok: true; merges: string[][] } | { ok: false; error: unknown };

function ours(bytes: Uint8Array): Outcome {
  try {
    return { ok: true, merges: parseOpenAiMerges(bytes, { source: 'fuzz.txt.gz' }).map((m) => [...m]) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** A refusal must be a TokenizerError with a vocabulary code, on one bounded line naming the source. */
function expectTypedRefusal(error: unknown, label: string): void {
  expect(error, label).toBeInstanceOf(TokenizerError);
  const e = error as TokenizerError;
  expect(['VOCAB_FORMAT', 'TOO_LARGE'], label).toContain(e.code);
  expect(e.message, label).not.toContain('\n');
  expect(e.message.length, label).toBeLessThan(600);
  expect(e.message, label).toContain('fuzz.txt.gz');
}

/**
 * The whole contract for one input, given the reference reading: parsed to the same merges, or refused with a
 * TokenizerError — and refused only when zlib cannot inflate it (zlib is stricter than Python's gzip module about
 * reserved header flags and the header CRC) or the reading is not a clean vocabulary.
 */
function checkInput(bytes: Uint8Array, reading: string[][] | 'error', label: string): void {
  const got = ours(bytes);
  if (!got.ok) {
    expectTypedRefusal(got.error, label);
    const isGzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
    const zlibReading = openAiReading(bytes, isGzip);
    if (reading !== 'error' && zlibReading !== 'error') {
      const raw = isGzip ? gunzipSync(bytes) : bytes;
      const start = new TextDecoder().decode(raw.subarray(0, 64));
      expect(isCleanReading(reading, start), `${label}: refused a clean vocabulary`).toBe(false);
    }
    return;
  }
  expect(reading, `${label}: parsed what OpenAI's loader cannot read`).not.toBe('error');
  expect(got.merges, label).toEqual(reading);
  // Whatever parses also builds a tokenizer (every merge is byte-level).
  expect(openAiTokenizerFromBytes(bytes).vocabSize, label).toBe(512 + got.merges.length + 2);
}

describe("the Python fixture: OpenAI's reading of 182 mutated vocabularies", () => {
  const cases = fixture.cases.map((c) => ({ ...c, bytes: new Uint8Array(Buffer.from(c.base64, 'base64')) }));

  test('the transliterated reference reads every fixture input as Python did (zlib stricter on header bits)', () => {
    let stricter = 0;
    for (const c of cases) {
      const mine = openAiReading(c.bytes, c.gzip);
      if (!c.ok) expect(mine, c.what).toBe('error');
      else if (mine === 'error') {
        // Python's gzip module ignores the reserved FLG bits and the header CRC; zlib refuses them.
        let why = '';
        try {
          gunzipSync(c.bytes);
        } catch (e) {
          why = (e as Error).message;
        }
        expect(why, c.what).toMatch(/^(unknown header flags set|header crc mismatch)$/);
        stricter++;
      } else
        expect(
          mine.map((m) => m.join(' ')),
          c.what,
        ).toEqual(c.merges);
    }
    expect(stricter).toBeLessThan(10);
  });

  test('each input parses to the merges Python read, or is refused with a TokenizerError', () => {
    let parsed = 0;
    let refused = 0;
    for (const c of cases) {
      const reading: string[][] | 'error' = c.ok
        ? (c.merges as string[]).map((m, i) => (c.lengths?.[i] === 0 ? [] : m.split(' ')))
        : 'error';
      checkInput(c.bytes, reading, c.what);
      if (ours(c.bytes).ok) parsed++;
      else refused++;
    }
    // Both outcomes occur (the valid inputs, CRLF, a BOM and harmless header bits parse; the rest are refused).
    expect(parsed).toBeGreaterThanOrEqual(10);
    expect(refused).toBeGreaterThanOrEqual(100);
    expect(ours(cases[0]!.bytes)).toEqual({ ok: true, merges: fixture.merges.map((m) => m.split(' ')) });
    expect(ours(cases[1]!.bytes)).toEqual({ ok: true, merges: fixture.merges.map((m) => m.split(' ')) });
  });
});

describe('seeded mutations (fast-check; FC_SEED replays)', () => {
  const plain = new Uint8Array(Buffer.from([fixture.header, ...fixture.merges].join('\n'), 'utf8'));
  const gz = new Uint8Array(gzipSync(plain, { level: 9 }));
  const lines = [fixture.header, ...fixture.merges];

  /** A byte-level mutation of `base`. */
  const byteMutation = (base: Uint8Array) =>
    fc.oneof(
      fc.nat({ max: base.length }).map((k) => base.slice(0, k)),
      fc
        .array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.nat({ max: 7 })), { minLength: 1, maxLength: 6 })
        .map((flips) => {
          const b = base.slice();
          for (const [i, bit] of flips) b[i] = (b[i] as number) ^ (1 << bit);
          return b;
        }),
      fc
        .tuple(fc.nat({ max: base.length }), fc.uint8Array({ minLength: 1, maxLength: 8 }))
        .map(([i, extra]) => Uint8Array.from([...base.subarray(0, i), ...extra, ...base.subarray(i)])),
      fc
        .tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 1, max: 8 }))
        .map(([i, k]) => Uint8Array.from([...base.subarray(0, i), ...base.subarray(i + k)])),
      fc
        .tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 1, max: 24 }))
        .map(([i, k]) =>
          Uint8Array.from([...base.subarray(0, i + k), ...base.subarray(i, i + k), ...base.subarray(i + k)]),
        ),
    );

  /** A gzip-specific mutation: inflated ISIZE, header flags, appended members or garbage. */
  const gzipMutation = fc.oneof(
    fc.constantFrom(0, 1, 0x7fffffff, 0xffffffff, 1 << 30).map((v) => {
      const b = gz.slice();
      new DataView(b.buffer).setUint32(b.length - 4, v, true);
      return b;
    }),
    fc.nat({ max: 7 }).map((bit) => {
      const b = gz.slice();
      b[3] = (b[3] as number) ^ (1 << bit);
      return b;
    }),
    fc
      .constantFrom('', '\nx y', '\nin g</w>', '\n', '\ni n')
      .map((t) => Uint8Array.from([...gz, ...gzipSync(Buffer.from(t, 'utf8'))])),
    fc.uint8Array({ minLength: 1, maxLength: 16 }).map((extra) => Uint8Array.from([...gz, ...extra])),
  );

  /** A line-level mutation of the plain text: duplicated, swapped, blank, split or joined lines, CRLF, a BOM. */
  const lineMutation = fc
    .oneof(
      fc
        .tuple(fc.integer({ min: 1, max: lines.length - 1 }), fc.integer({ min: 1, max: lines.length }))
        .map(([i, j]) => {
          const l = lines.slice();
          l.splice(j, 0, l[i] as string);
          return l.join('\n');
        }),
      fc.tuple(fc.integer({ min: 1, max: lines.length }), fc.constantFrom('', ' ', '\t', '\u3000')).map(([i, s]) => {
        const l = lines.slice();
        l.splice(i, 0, s);
        return l.join('\n');
      }),
      fc.constantFrom(lines.join('\r\n'), `${lines.join('\n')}\n`, `\ufeff${lines.join('\n')}`, lines.join('\n\n')),
      fc
        .tuple(fc.integer({ min: 1, max: lines.length - 1 }), fc.constantFrom(' x', '\u00a0y', 'z', ' a b'))
        .map(([i, s]) => {
          const l = lines.slice();
          l[i] += s;
          return l.join('\n');
        }),
      fc.constantFrom(lines.slice(1).join('\n'), lines[0] as string, '{"i n": 0}', `[${lines.join(',')}]`),
    )
    .map((t) => new Uint8Array(Buffer.from(t, 'utf8')));

  test('gzip vocabularies: mutated bytes, ISIZE, flags, members', () => {
    fc.assert(
      fc.property(fc.oneof(byteMutation(gz), gzipMutation), (bytes) => {
        // Our reader sniffs the gzip magic; OpenAI's loader only opens gzip. A mutation of the magic is refused by
        // OpenAI's loader; we may still read it as text, so compare with the reading of the text (gzipped).
        const isGzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
        const reading = isGzip ? openAiReading(bytes, true) : openAiReading(bytes, false);
        checkInput(bytes, reading, `mutated gzip (${bytes.length} bytes)`);
      }),
    );
  });

  test('plain vocabularies: mutated bytes and lines', () => {
    fc.assert(
      fc.property(fc.oneof(byteMutation(plain), lineMutation), (bytes) => {
        const isGzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
        checkInput(bytes, openAiReading(bytes, isGzip), `mutated text (${bytes.length} bytes)`);
      }),
    );
  });
});
