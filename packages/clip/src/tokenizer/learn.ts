// A byte-level BPE learner whose output is a vocabulary in OpenAI's layout, so that the tokenizer of ./bpe.ts (and
// OpenAI's own SimpleTokenizer) reads it. Pre-tokenisation is the tokenizer's: cleanText → OpenAI's pattern → UTF-8
// bytes as byte characters → `</w>` on the last symbol. The special-token literals are not learned from.
//
// Algorithm (Sennrich et al. 2016): count every adjacent symbol pair over the distinct words, weighted by their
// frequency (a pair occurring twice in a word counts twice); merge the most frequent pair in every word, left to
// right without overlap (exactly how the tokenizer applies a merge); repeat. Ties are broken by the pair's symbols in
// code-unit order (first symbol, then second), which makes the result a function of the multiset of words only — the
// order of the corpus does not matter. Counts are updated incrementally, with a lazy max-heap of pairs.
import { type BpeMerge, END_OF_WORD, EOT_TEXT, OPENAI_NUM_MERGES, SOT_TEXT } from './bpe.ts';
import { byteEncode } from './bytes-unicode.ts';
import { cleanText, isWellFormedText, preTokenize } from './clean.ts';
import { TokenizerError } from './errors.ts';

export interface LearnBpeOptions {
  /** Number of merges to learn (at most 48 894, what OpenAI's loader reads). Fewer when pairs run out. */
  numMerges: number;
  /** Stop when the most frequent pair occurs fewer times than this (default 2). */
  minFrequency?: number;
}

export interface LearnBpeResult {
  /** The learned merges in rank order; pass them to `BpeTokenizer.fromMerges` or `saveBpeVocab`. */
  merges: BpeMerge[];
  /** How often each merged pair occurred in the corpus when it was merged. */
  frequencies: number[];
  /** Size of the resulting vocabulary: 512 byte symbols + merges + 2 special tokens. */
  vocabSize: number;
  /** Number of distinct pre-tokens (words) in the corpus. */
  distinctWords: number;
  /** Symbols in the corpus before any merge (its UTF-8 bytes over all pre-tokens). */
  initialSymbols: number;
  /** Symbols in the corpus after the learned merges. */
  finalSymbols: number;
  /** Merge results whose string an earlier entry of the vocabulary already has (OpenAI's layout keeps both ids). */
  duplicateTokens: number;
}

/** Counts of the pre-tokens of a corpus, byte-encoded, in first-seen order. */
export function corpusWordCounts(corpus: readonly string[]): Map<string, number> {
  if (!Array.isArray(corpus)) throw new TokenizerError('INVALID_TEXT', 'the corpus must be an array of strings');
  const counts = new Map<string, number>();
  corpus.forEach((text, i) => {
    if (typeof text !== 'string') throw new TokenizerError('INVALID_TEXT', `corpus text ${i} is not a string`);
    if (!isWellFormedText(text))
      throw new TokenizerError('INVALID_TEXT', `corpus text ${i} contains a lone UTF-16 surrogate`);
    for (const pre of preTokenize(cleanText(text))) {
      if (pre === SOT_TEXT || pre === EOT_TEXT) continue;
      const word = byteEncode(pre);
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  });
  return counts;
}

interface HeapEntry {
  count: number;
  key: number;
}

/** Learns `numMerges` BPE merges from a corpus. See the file comment for the exact rules. */
export function learnBpe(corpus: readonly string[], options: LearnBpeOptions): LearnBpeResult {
  const { numMerges } = options;
  const minFrequency = options.minFrequency ?? 2;
  if (!Number.isInteger(numMerges) || numMerges < 0 || numMerges > OPENAI_NUM_MERGES)
    throw new TokenizerError(
      'BAD_ARGUMENT',
      `numMerges must be an integer in [0, ${OPENAI_NUM_MERGES}], got ${numMerges}`,
    );
  if (!Number.isInteger(minFrequency) || minFrequency < 1)
    throw new TokenizerError('BAD_ARGUMENT', `minFrequency must be a positive integer, got ${minFrequency}`);
  const counts = corpusWordCounts(corpus);
  if (counts.size === 0)
    throw new TokenizerError('EMPTY_INPUT', 'the corpus has no pre-tokens to learn from (empty or whitespace only)');

  // Symbols as integers; the same string is always the same symbol.
  const symbols: string[] = [];
  const symbolId = new Map<string, number>();
  const intern = (s: string): number => {
    let id = symbolId.get(s);
    if (id === undefined) {
      id = symbols.length;
      symbols.push(s);
      symbolId.set(s, id);
    }
    return id;
  };
  const SHIFT = 0x200000; // > number of symbols (at most 512 + 48 894)
  const keyOf = (a: number, b: number): number => a * SHIFT + b;

  const words: number[][] = [];
  const freq: number[] = [];
  let initialSymbols = 0;
  for (const [word, count] of counts) {
    const chars = word.split('');
    const last = chars.length - 1;
    words.push(chars.map((c, i) => intern(i === last ? c + END_OF_WORD : c)));
    freq.push(count);
    initialSymbols += chars.length * count;
  }

  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (w: number, sign: 1 | -1, touched: Set<number>): void => {
    const word = words[w] as number[];
    const f = freq[w] as number;
    for (let i = 0; i + 1 < word.length; i++) {
      const key = keyOf(word[i] as number, word[i + 1] as number);
      pairCount.set(key, (pairCount.get(key) ?? 0) + sign * f);
      touched.add(key);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (!set) {
          set = new Set();
          pairWords.set(key, set);
        }
        set.add(w);
      } else {
        pairWords.get(key)?.delete(w);
      }
    }
  };

  // Max-heap: higher count first, then the smaller (first, second) symbol strings.
  const heap: HeapEntry[] = [];
  const before = (x: HeapEntry, y: HeapEntry): boolean => {
    if (x.count !== y.count) return x.count > y.count;
    const xa = symbols[Math.floor(x.key / SHIFT)] as string;
    const ya = symbols[Math.floor(y.key / SHIFT)] as string;
    if (xa !== ya) return xa < ya;
    return (symbols[x.key % SHIFT] as string) < (symbols[y.key % SHIFT] as string);
  };
  const push = (e: HeapEntry): void => {
    heap.push(e);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(heap[i] as HeapEntry, heap[p] as HeapEntry)) break;
      [heap[i], heap[p]] = [heap[p] as HeapEntry, heap[i] as HeapEntry];
      i = p;
    }
  };
  const pop = (): HeapEntry | undefined => {
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l] as HeapEntry, heap[m] as HeapEntry)) m = l;
        if (r < heap.length && before(heap[r] as HeapEntry, heap[m] as HeapEntry)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m] as HeapEntry, heap[i] as HeapEntry];
        i = m;
      }
    }
    return top;
  };

  const initialTouched = new Set<number>();
  for (let w = 0; w < words.length; w++) addPairs(w, 1, initialTouched);
  for (const key of initialTouched) push({ count: pairCount.get(key) as number, key });

  const merges: BpeMerge[] = [];
  const frequencies: number[] = [];
  const vocabStrings = new Set<string>();
  let duplicateTokens = 0;
  let finalSymbols = initialSymbols;

  while (merges.length < numMerges) {
    let top = pop();
    // Lazy deletion: skip entries whose count is out of date.
    while (top && pairCount.get(top.key) !== top.count) top = pop();
    if (!top || top.count < minFrequency || top.count <= 0) break;
    const a = Math.floor(top.key / SHIFT);
    const b = top.key % SHIFT;
    const first = symbols[a] as string;
    const second = symbols[b] as string;
    const merged = intern(first + second);
    if (vocabStrings.has(first + second)) duplicateTokens++;
    vocabStrings.add(first + second);
    merges.push([first, second]);
    frequencies.push(top.count);

    const affected = [...(pairWords.get(top.key) ?? [])].sort((x, y) => x - y);
    const touched = new Set<number>();
    for (const w of affected) {
      const word = words[w] as number[];
      addPairs(w, -1, touched);
      const next: number[] = [];
      let i = 0;
      while (i < word.length) {
        if (i + 1 < word.length && word[i] === a && word[i + 1] === b) {
          next.push(merged);
          i += 2;
        } else {
          next.push(word[i] as number);
          i += 1;
        }
      }
      finalSymbols -= (word.length - next.length) * (freq[w] as number);
      words[w] = next;
      addPairs(w, 1, touched);
    }
    for (const key of touched) {
      const c = pairCount.get(key) as number;
      if (c > 0) push({ count: c, key });
      else {
        pairCount.delete(key);
        pairWords.delete(key);
      }
    }
  }

  return {
    merges,
    frequencies,
    vocabSize: 512 + merges.length + 2,
    distinctWords: words.length,
    initialSymbols,
    finalSymbols,
    duplicateTokens,
  };
}
