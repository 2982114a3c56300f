// Hostile input to the tokenizer and to the model's token ids (issue 14): a gzip vocabulary bomb (in a child process,
// its peak RSS measured), every kind of corrupt `--vocab` refused with one line naming the file and what to pass
// instead, and token ids NaN, 1.5, negative or outside the vocabulary refused by encodeText with their position.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { initCompute } from '@fairclip/compute';
import { goldenPath } from '@fairclip/test-fixtures';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { ClipModel, ClipModelError } from '../src/index.ts';
import { toTokenBatch } from '../src/model/tokens.ts';
import { BpeTokenizer } from '../src/tokenizer/bpe.ts';
import { TokenizerError } from '../src/tokenizer/errors.ts';
import {
  bpeVocabText,
  DEFAULT_MAX_VOCAB_BYTES,
  loadHfTokenizer,
  loadOpenAiTokenizer,
  openAiTokenizerFromBytes,
  parseOpenAiMerges,
} from '../src/tokenizer/vocab-io.ts';
import { goldenTinyVit } from './model-helpers.ts';
import { runChild } from './spawned-tok/spawn.ts';

const dir = mkdtempSync(join(tmpdir(), 'fairclip-tok-hostile-'));
const VALID = '#version: 0.2\ni n\nt h\nth e</w>';

function writeVocab(name: string, bytes: Uint8Array | string): string {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

/** The TokenizerError `f` throws: code, one line, names `file`; returns its message. */
function refusal(f: () => unknown, code: string, file: string): string {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(TokenizerError);
  const e = caught as TokenizerError;
  expect(e.code).toBe(code);
  expect(e.message).not.toContain('\n');
  expect(e.message.length).toBeLessThan(600);
  expect(e.message.startsWith(`${code}: ${file}: `)).toBe(true);
  return e.message;
}

describe('the gzip vocabulary bomb (child process)', () => {
  test('2 MB of gzip that inflates to 2 GiB: TOO_LARGE at the 64 MiB cap, peak RSS under 400 MB', async () => {
    const folder = join(dir, 'bomb');
    mkdirSync(folder);
    const r = await runChild('vocab-gz-bomb.ts', [folder]);
    expect(r.gzBytes as number).toBeLessThan(2.5e6);
    expect(r.inflatedBytes as number).toBeGreaterThan(2 ** 31);
    expect(r.name).toBe('TokenizerError');
    expect(r.code).toBe('TOO_LARGE');
    expect(r.message).toBe(
      `TOO_LARGE: ${join(folder, 'bpe_bomb.txt.gz')}: the gzip data inflates to more than the cap of 67108864 bytes ` +
        "(64 MiB) (maxBytes); OpenAI's vocabulary is 1.36 MB and inflates to 3.2 MB, so this is not a BPE " +
        "vocabulary: pass OpenAI's bpe_simple_vocab_16e6.txt.gz (or a vocabulary written by saveBpeVocab): a header " +
        'line, then one merge "a b" per line (or raise maxBytes if the file is genuine)',
    );
    console.log(
      `[tokenizer-hostile] gzip bomb (${r.gzBytes} bytes → 2 GiB): peak RSS ${Math.round(r.maxRssKb / 1024)} MB`,
    );
    expect(r.maxRssKb).toBeLessThan(400 * 1024);
  }, 120_000);

  test('the cap is exact: text of maxBytes bytes is read, one byte more is refused (gzip and plain)', () => {
    const text = Buffer.from(VALID, 'utf8');
    const gz = gzipSync(text);
    expect(parseOpenAiMerges(gz, { maxBytes: text.length }).length).toBe(3);
    expect(parseOpenAiMerges(text, { maxBytes: text.length }).length).toBe(3);
    refusal(() => parseOpenAiMerges(gz, { maxBytes: text.length - 1, source: 'v.gz' }), 'TOO_LARGE', 'v.gz');
    refusal(() => parseOpenAiMerges(text, { maxBytes: text.length - 1, source: 'v.txt' }), 'TOO_LARGE', 'v.txt');
    expect(DEFAULT_MAX_VOCAB_BYTES).toBe(64 * 1024 * 1024);
  });

  test('a file larger than the cap is refused before it is read, plain or gzip', () => {
    const file = writeVocab('big.txt', Buffer.alloc(4096, 'i n\n'));
    const msg = refusal(() => loadOpenAiTokenizer(file, { maxBytes: 1024 }), 'TOO_LARGE', file);
    expect(msg).toContain('the file holds 4096 bytes (4 KiB), more than the cap of 1024 bytes (1 KiB)');
    refusal(() => loadHfTokenizer(file, file, { maxBytes: 1024 }), 'TOO_LARGE', file);
  });

  test('bad maxBytes values are BAD_ARGUMENT', () => {
    for (const maxBytes of [0, -1, 1.5, Number.NaN])
      expect(() => parseOpenAiMerges(Buffer.from(VALID), { maxBytes })).toThrow(/BAD_ARGUMENT: maxBytes/);
  });
});

describe('a corrupt --vocab is one line naming the file and what to pass instead', () => {
  const pass = "pass OpenAI's bpe_simple_vocab_16e6.txt.gz";
  const gz = gzipSync(Buffer.from(VALID));

  test('truncated and corrupt gzip data', () => {
    const file = writeVocab('trunc.txt.gz', gz.subarray(0, gz.length - 6));
    expect(refusal(() => loadOpenAiTokenizer(file), 'VOCAB_FORMAT', file)).toContain('corrupt gzip data');
    const flipped = Uint8Array.from(gz);
    flipped[12] = (flipped[12] as number) ^ 0xff;
    const file2 = writeVocab('flip.txt.gz', flipped);
    expect(refusal(() => loadOpenAiTokenizer(file2), 'VOCAB_FORMAT', file2)).toContain(pass);
  });

  test('binary garbage (not UTF-8), an empty file, a folder, a missing file', () => {
    const garbage = writeVocab('garbage.bin', Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0, 1, 0xff, 0xfe]));
    expect(refusal(() => loadOpenAiTokenizer(garbage), 'VOCAB_FORMAT', garbage)).toContain('not valid UTF-8');
    const empty = writeVocab('empty.txt', '');
    expect(refusal(() => loadOpenAiTokenizer(empty), 'VOCAB_FORMAT', empty)).toContain('empty vocabulary file');
    const emptyGz = writeVocab('empty.txt.gz', gzipSync(Buffer.alloc(0)));
    refusal(() => loadOpenAiTokenizer(emptyGz), 'VOCAB_FORMAT', emptyGz);
    expect(refusal(() => loadOpenAiTokenizer(dir), 'VOCAB_IO', dir)).toContain('is a folder');
    expect(refusal(() => loadOpenAiTokenizer(join(dir, 'nope.gz')), 'VOCAB_IO', join(dir, 'nope.gz'))).toContain(
      'no such file',
    );
    const under = join(garbage, 'x.gz');
    expect(refusal(() => loadOpenAiTokenizer(under), 'VOCAB_IO', under)).toContain('not a folder');
  });

  test("wrong layout: Hugging Face's vocab.json, a line of three symbols, non-byte symbols", () => {
    const json = writeVocab('vocab.json', JSON.stringify({ '!': 0, '"': 1 }));
    expect(refusal(() => loadOpenAiTokenizer(json), 'VOCAB_FORMAT', json)).toContain('loadHfTokenizer');
    const pretty = writeVocab('vocab-pretty.json', JSON.stringify({ '!': 0, '"': 1 }, null, 2));
    refusal(() => loadOpenAiTokenizer(pretty), 'VOCAB_FORMAT', pretty);
    const three = writeVocab('three.txt', '#version: 0.2\ni n\na b c');
    expect(refusal(() => loadOpenAiTokenizer(three), 'VOCAB_FORMAT', three)).toContain(
      'line 3 ("a b c") is not a merge of two symbols',
    );
    const cjk = writeVocab('cjk.txt', '#version: 0.2\n\u4f60 \u597d');
    expect(refusal(() => loadOpenAiTokenizer(cjk), 'VOCAB_FORMAT', cjk)).toContain(
      'line 2: "你 好" is not two byte-level',
    );
    const eow = writeVocab('eow.txt', '#version: 0.2\na</w> b');
    expect(refusal(() => loadOpenAiTokenizer(eow), 'VOCAB_FORMAT', eow)).toContain('ends a word');
  });

  test('duplicate merges, empty lines and a trailing newline (OpenAI would shift the special ids)', () => {
    const dup = writeVocab('dup.txt.gz', gzipSync(Buffer.from(`${VALID}\nt h`)));
    expect(refusal(() => loadOpenAiTokenizer(dup), 'VOCAB_FORMAT', dup)).toContain(
      'line 5 repeats the merge "t h" of line 3',
    );
    const blank = writeVocab('blank.txt', '#version: 0.2\ni n\n\nt h');
    expect(refusal(() => loadOpenAiTokenizer(blank), 'VOCAB_FORMAT', blank)).toContain('line 3 is empty');
    const trailing = writeVocab('trailing.txt', `${VALID}\n`);
    expect(refusal(() => loadOpenAiTokenizer(trailing), 'VOCAB_FORMAT', trailing)).toContain('line 5 is empty');
    // What is written is what is read: the writer refuses a repeated merge too.
    expect(() =>
      bpeVocabText([
        ['i', 'n'],
        ['i', 'n'],
      ]),
    ).toThrow(/BAD_ARGUMENT: merge 1 repeats merge 0/);
  });

  test('too few merges for the model: expectedVocabSize (the model vocab_size) refuses a truncated file', () => {
    const file = writeVocab('short.txt.gz', gzipSync(Buffer.from(VALID)));
    expect(loadOpenAiTokenizer(file, { expectedVocabSize: 517 }).vocabSize).toBe(517);
    expect(refusal(() => loadOpenAiTokenizer(file, { expectedVocabSize: 49_408 }), 'VOCAB_FORMAT', file)).toContain(
      '3 merges give 517 token ids (512 + merges + 2), but 49408 are expected',
    );
    expect(() => loadOpenAiTokenizer(file, { expectedVocabSize: 3 })).toThrow(/BAD_ARGUMENT: expectedVocabSize/);
  });

  const openai = goldenPath('clip/bpe_simple_vocab_16e6.txt.gz');
  test.skipIf(!openai)(
    "OpenAI's vocabulary loads with the default cap; a truncated copy is refused for ViT-B/16",
    () => {
      const path = openai as string;
      expect(loadOpenAiTokenizer(path, { expectedVocabSize: 49_408 }).vocabSize).toBe(49_408);
      const text = gunzipSync(readFileSync(path)).toString('utf8');
      const cut = text.split('\n').slice(0, 30_001).join('\n');
      const file = writeVocab('openai-truncated.txt.gz', gzipSync(Buffer.from(cut)));
      expect(loadOpenAiTokenizer(file).vocabSize).toBe(30_514);
      expect(refusal(() => loadOpenAiTokenizer(file, { expectedVocabSize: 49_408 }), 'VOCAB_FORMAT', file)).toContain(
        'the file is truncated',
      );
    },
  );

  test('messages print at most 80 characters of a line, and long paths are cut', () => {
    const long = `#version: 0.2\n${'a'.repeat(100_000)} b c`;
    const msg = refusal(() => parseOpenAiMerges(Buffer.from(long), { source: 'v.txt' }), 'VOCAB_FORMAT', 'v.txt');
    expect(msg).toContain(`("${'a'.repeat(80)}"…)`);
    const path = join(dir, 'x'.repeat(200), 'y'.repeat(200), 'vocab.gz');
    let message = '';
    try {
      loadOpenAiTokenizer(path);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^VOCAB_IO: .{80}….{159}: cannot read the vocabulary: /);
    expect(message.length).toBeLessThan(400);
  });
});

describe('encodeText refuses token ids that are not integers of the vocabulary, naming their position', () => {
  const G = goldenTinyVit();
  let model: ClipModel;
  beforeAll(async () => {
    await initCompute({ backend: 'cpu' });
    model = ClipModel.create(G.config, { weights: G.weights });
    return () => model.dispose();
  });
  const row = (): number[] => [...(G.tokens[0] as number[])];

  test.each([
    ['NaN', Number.NaN, /position 3: id NaN is NaN \(token ids are integers in \[0, 49408\)\)/],
    ['1.5', 1.5, /position 3: id 1\.5 is not an integer/],
    ['-1', -1, /position 3: id -1 is outside \[0, 49408\)/],
    ['49408', 49_408, /position 3: id 49408 is outside \[0, 49408\)/],
    ['Infinity', Number.POSITIVE_INFINITY, /position 3: id Infinity is not an integer/],
    ['a string', '7' as unknown as number, /position 3: id "7" \(a string\) is not a number/],
  ])('id %s: BAD_TOKENS with row and position, in every input form', (_name, bad, pattern) => {
    {
      const r = row();
      r[3] = bad;
      const forms: [string, () => unknown][] = [
        ['rows', () => model.encodeText([row(), r])],
        ['flat', () => model.encodeText({ data: [...row(), ...r], shape: [2, 77] })],
      ];
      if (typeof bad === 'number') {
        forms.push([
          'Float64Array',
          () => model.encodeText({ data: Float64Array.from([...row(), ...r]), shape: [2, 77] }),
        ]);
        forms.push([
          'float32 tensor',
          () => {
            const t = tf.tensor2d([row(), r], [2, 77], 'float32');
            try {
              return model.encodeText(t);
            } finally {
              t.dispose();
            }
          },
        ]);
      }
      for (const [form, f] of forms) {
        let caught: unknown;
        try {
          tf.dispose(f() as tf.Tensor);
        } catch (e) {
          caught = e;
        }
        expect(caught, form).toBeInstanceOf(ClipModelError);
        expect((caught as ClipModelError).code, form).toBe('BAD_TOKENS');
        expect((caught as Error).message, form).toMatch(/^BAD_TOKENS: token row 1, /);
        expect((caught as Error).message, form).toMatch(pattern);
        expect((caught as Error).message, form).not.toContain('\n');
      }
    }
  });

  test('valid ids still encode (the golden rows), and bad shapes are refused', () => {
    {
      const out = model.encodeText(G.tokens);
      expect(out.shape).toEqual([G.tokens.length, 32]);
      out.dispose();
      expect(() => model.encodeText({ data: [], shape: [Number.NaN, 77] })).toThrow(/BAD_TOKENS: token batch size/);
      expect(() => model.encodeText({ data: [], shape: [0.5, 154] as [number, number] })).toThrow(/batch size/);
      expect(() => model.encodeText([null as unknown as number[]])).toThrow(/BAD_TOKENS: token row 0 is not an array/);
      expect(() => model.encodeText('abc' as unknown as number[][])).toThrow(/BAD_TOKENS: token ids must be rows/);
    }
  });

  test('toTokenBatch: the Int32Array is filled only after every id was checked (no truncation of 1.5 to 1)', () => {
    const ok = toTokenBatch([[5, 1, 0]], 3, 10);
    expect([...ok.ids]).toEqual([5, 1, 0]);
    expect([...ok.eot]).toEqual([0]);
    expect(() => toTokenBatch([[5, 1.5, 0]], 3, 10)).toThrow(/row 0, position 1: id 1\.5 is not an integer/);
    expect(() => toTokenBatch({ data: [5, Number.NaN, 0], shape: [1, 3] }, 3, 10)).toThrow(/position 1: id NaN/);
  });

  test('BpeTokenizer.fromMerges messages are bounded too', () => {
    expect(() => BpeTokenizer.fromMerges([['a'.repeat(10_000), '\u4f60']])).toThrow(/merge 0: "a{80}"… is not two/);
    expect(openAiTokenizerFromBytes(Buffer.from('#v\ni n'), { expectedVocabSize: 515 }).vocabSize).toBe(515);
    expect(() => openAiTokenizerFromBytes(Buffer.from('#v\ni n'), { expectedVocabSize: 600 })).toThrow(
      /^VOCAB_FORMAT: 1 merges give 515 token ids \(512 \+ merges \+ 2\), but 600 are expected/,
    );
  });
});
