// The BPE learner: a hand-computed known answer, and laws (round trip, compression, greedy fixpoint,
// determinism, zero merges = bytes, the saved file reads back).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  BpeTokenizer,
  bpeVocabText,
  byteEncode,
  cleanText,
  corpusWordCounts,
  encodeBpeVocab,
  learnBpe,
  openAiTokenizerFromBytes,
  preTokenize,
  TokenizerError,
} from '../src/tokenizer/index.ts';

const repeat = (word: string, n: number): string => new Array<string>(n).fill(word).join(' ');

describe('known answer: the "hug pug pun bun hugs" corpus', () => {
  // Word counts: hug 10, pug 5, pun 12, bun 4, hugs 5. Symbols: h u g</w> | p u g</w> | p u n</w> | b u n</w> |
  // h u g s</w>. Pair counts and the merge order, by hand:
  //  1. (p, u) 17 = pug 5 + pun 12                 2. (h, u) 15 = hug 10 + hugs 5
  //  3. (pu, n</w>) 12                              4. (hu, g</w>) 10
  //  5. ties at 5: (g, s</w>), (hu, g), (pu, g</w>) — smallest first symbol "g" wins
  //  6. ties at 5: (hu, gs</w>), (pu, g</w>) — "hu" < "pu"       7. (pu, g</w>) 5
  //  8. ties at 4: (b, u), (u, n</w>) — "b" < "u"                 9. (bu, n</w>) 4
  // Then every word is one symbol. Symbols: 3·10 + 3·5 + 3·12 + 3·4 + 4·5 = 113 before, 36 after.
  const corpus = [repeat('hug', 10), repeat('Pug', 5), `${repeat('pun', 12)}.`, repeat('bun', 4), repeat('hugs', 5)];
  const dotFree = corpus.map((t) => t.replace('.', ''));

  test('merges, frequencies and counts', () => {
    const r = learnBpe(dotFree, { numMerges: 100 });
    expect(r.merges).toEqual([
      ['p', 'u'],
      ['h', 'u'],
      ['pu', 'n</w>'],
      ['hu', 'g</w>'],
      ['g', 's</w>'],
      ['hu', 'gs</w>'],
      ['pu', 'g</w>'],
      ['b', 'u'],
      ['bu', 'n</w>'],
    ]);
    expect(r.frequencies).toEqual([17, 15, 12, 10, 5, 5, 5, 4, 4]);
    expect(r.initialSymbols).toBe(113);
    expect(r.finalSymbols).toBe(36);
    expect(r.distinctWords).toBe(5);
    expect(r.vocabSize).toBe(512 + 9 + 2);
    expect(r.duplicateTokens).toBe(0);
  });

  test('numMerges and minFrequency stop early; the special-token literals and "." are pre-tokens of their own', () => {
    expect(learnBpe(dotFree, { numMerges: 3 }).merges.length).toBe(3);
    expect(learnBpe(dotFree, { numMerges: 100, minFrequency: 6 }).frequencies).toEqual([17, 15, 12, 10]);
    const withDot = learnBpe([...corpus, '<|endoftext|> <|startoftext|>'], { numMerges: 100 });
    expect(withDot.merges).toEqual(learnBpe(dotFree, { numMerges: 100 }).merges);
    expect(withDot.distinctWords).toBe(6); // "." is a word of one symbol
  });

  test('the learned vocabulary in OpenAI layout: ids 512 + rank, special tokens at the end', () => {
    const r = learnBpe(dotFree, { numMerges: 100 });
    const tok = BpeTokenizer.fromMerges(r.merges);
    expect(tok.encodeToTokens('hugs bun pug hug')).toEqual(['hugs</w>', 'bun</w>', 'pug</w>', 'hug</w>']);
    expect(tok.encode('hugs bun')).toEqual([512 + 5, 512 + 8]);
    expect(tok.sotToken).toBe(521);
    expect(tok.eotToken).toBe(522);
    expect(tok.encodeToTokens('bug')).toEqual(['bu', 'g</w>']);
    expect(bpeVocabText(r.merges).split('\n')).toEqual(['#version: 0.2', ...r.merges.map(([a, b]) => `${a} ${b}`)]);
  });
});

// Corpora with many repeated pairs: short texts over a small alphabet with accents, digits, punctuation and case.
const unit = fc.constantFrom('a', 'b', 'c', 'A', ' ', ' ', 'é', '1', '!', "'s", 'ß');
const text = fc.string({ unit, maxLength: 25 });
const corpusArb = fc.array(text, { minLength: 1, maxLength: 12 }).filter((c) => corpusWordCounts(c).size > 0);

function corpusTokens(tok: BpeTokenizer, corpus: readonly string[]): number {
  return corpus.reduce((n, t) => n + tok.encode(t).length, 0);
}

describe('laws', () => {
  test('encode → decode round-trips the cleaned text (pre-tokens joined by spaces)', () => {
    fc.assert(
      fc.property(corpusArb, fc.integer({ min: 0, max: 40 }), fc.string({ maxLength: 30 }), (corpus, n, probe) => {
        const tok = BpeTokenizer.fromMerges(learnBpe(corpus, { numMerges: n, minFrequency: 1 }).merges);
        for (const t of [...corpus, probe]) {
          const expected = preTokenize(cleanText(t))
            .map((p) => `${p} `)
            .join('');
          expect(tok.decode(tok.encode(t))).toBe(expected);
        }
      }),
      { numRuns: 60 },
    );
  });

  test('the learned merges compress the corpus exactly as the learner counted (no duplicate tokens)', () => {
    fc.assert(
      fc.property(corpusArb, fc.integer({ min: 0, max: 40 }), (corpus, n) => {
        const r = learnBpe(corpus, { numMerges: n, minFrequency: 1 });
        const tok = BpeTokenizer.fromMerges(r.merges);
        const count = corpusTokens(tok, corpus);
        expect(count).toBeLessThanOrEqual(r.initialSymbols);
        if (r.merges.length > 0) expect(r.finalSymbols).toBeLessThan(r.initialSymbols);
        if (r.duplicateTokens === 0) expect(count).toBe(r.finalSymbols);
        // Each merge removes `frequency` symbols at most (overlaps like "a a a" merge once).
        const sum = r.frequencies.reduce((a, b) => a + b, 0);
        expect(r.initialSymbols - r.finalSymbols).toBeLessThanOrEqual(sum);
        // Frequencies never increase (a new pair occurs at most as often as the pair just merged).
        for (let i = 1; i < r.frequencies.length; i++)
          expect(r.frequencies[i]).toBeLessThanOrEqual(r.frequencies[i - 1] as number);
      }),
      { numRuns: 80 },
    );
  });

  test('greedy fixpoint: no two adjacent symbols of an encoded word form a learned merge', () => {
    fc.assert(
      fc.property(corpusArb, fc.integer({ min: 1, max: 40 }), (corpus, n) => {
        const r = learnBpe(corpus, { numMerges: n, minFrequency: 1 });
        const tok = BpeTokenizer.fromMerges(r.merges);
        const pairs = new Set(r.merges.map(([a, b]) => `${a} ${b}`));
        for (const t of corpus)
          for (const pre of preTokenize(cleanText(t))) {
            const syms = tok.bpe(byteEncode(pre));
            for (let i = 0; i + 1 < syms.length; i++) expect(pairs.has(`${syms[i]} ${syms[i + 1]}`)).toBe(false);
          }
      }),
      { numRuns: 60 },
    );
  });

  test('deterministic and independent of the order of the corpus', () => {
    fc.assert(
      fc.property(corpusArb, fc.integer({ min: 0, max: 30 }), fc.integer(), (corpus, n, seed) => {
        const shuffled = corpus.slice();
        let s = seed >>> 0;
        for (let i = shuffled.length - 1; i > 0; i--) {
          s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
          const j = s % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j] as string, shuffled[i] as string];
        }
        expect(learnBpe(shuffled, { numMerges: n, minFrequency: 1 })).toEqual(
          learnBpe(corpus, { numMerges: n, minFrequency: 1 }),
        );
      }),
      { numRuns: 60 },
    );
  });

  test('with 0 merges the tokens are the UTF-8 bytes of the pre-tokens', () => {
    fc.assert(
      fc.property(corpusArb, fc.string({ maxLength: 30 }), (corpus, probe) => {
        const r = learnBpe(corpus, { numMerges: 0 });
        expect(r.merges).toEqual([]);
        expect(r.finalSymbols).toBe(r.initialSymbols);
        const tok = BpeTokenizer.fromMerges(r.merges);
        const pre = preTokenize(cleanText(probe));
        const bytes = pre.reduce((n, p) => n + new TextEncoder().encode(p).length, 0);
        const ids = tok.encode(probe);
        expect(ids.length).toBe(bytes);
        expect(ids.every((id) => id < 512)).toBe(true);
      }),
    );
  });

  test('the saved vocabulary (gzip, OpenAI layout) reads back to the same tokenizer', () => {
    fc.assert(
      fc.property(corpusArb, fc.integer({ min: 0, max: 30 }), (corpus, n) => {
        const r = learnBpe(corpus, { numMerges: n, minFrequency: 1 });
        const bytes = encodeBpeVocab(r.merges);
        expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
        const back = openAiTokenizerFromBytes(bytes);
        expect(back.merges).toEqual(r.merges);
        expect(back.vocabSize).toBe(r.vocabSize);
        const direct = BpeTokenizer.fromMerges(r.merges);
        for (const t of corpus) expect(back.encode(t)).toEqual(direct.encode(t));
      }),
      { numRuns: 40 },
    );
  });
});

describe('bad input', () => {
  test('empty corpus, bad numMerges / minFrequency, non-strings', () => {
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return e instanceof TokenizerError ? e.code : 'other';
      }
      return undefined;
    };
    expect(code(() => learnBpe([], { numMerges: 5 }))).toBe('EMPTY_INPUT');
    expect(code(() => learnBpe(['  ', '\n'], { numMerges: 5 }))).toBe('EMPTY_INPUT');
    expect(code(() => learnBpe(['a'], { numMerges: -1 }))).toBe('BAD_ARGUMENT');
    expect(code(() => learnBpe(['a'], { numMerges: 48_895 }))).toBe('BAD_ARGUMENT');
    expect(code(() => learnBpe(['a'], { numMerges: 1, minFrequency: 0 }))).toBe('BAD_ARGUMENT');
    expect(code(() => learnBpe(['a', 3 as unknown as string], { numMerges: 1 }))).toBe('INVALID_TEXT');
    expect(code(() => learnBpe(['\udc00'], { numMerges: 1 }))).toBe('INVALID_TEXT');
    expect(() => learnBpe([], { numMerges: 5 })).toThrow(/no pre-tokens to learn from/);
  });
});
