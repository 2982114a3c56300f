// CLIP's byte-level BPE tokenizer (OpenAI's SimpleTokenizer and clip.tokenize), its vocabulary files and a learner.
export type { BpeMerge, BpeTokenizerOptions, TokenizedTexts, TokenizeOptions } from './bpe.ts';
export {
  BpeTokenizer,
  DEFAULT_CONTEXT_LENGTH,
  END_OF_WORD,
  EOT_TEXT,
  OPENAI_NUM_MERGES,
  SOT_TEXT,
} from './bpe.ts';
export { BYTE_CHARS_IN_VOCAB_ORDER, BYTE_TO_CHAR, byteEncode, charToByte } from './bytes-unicode.ts';
export {
  basicClean,
  cleanText,
  isWellFormedText,
  PRETOKEN_PATTERN,
  preTokenize,
  pythonSplit,
  pythonStrip,
  whitespaceClean,
} from './clean.ts';
export type { TokenizerErrorCode } from './errors.ts';
export { isTokenizerError, TextTooLongError, TokenizerError } from './errors.ts';
export { htmlEntityCount, htmlUnescape } from './html.ts';
export type { LearnBpeOptions, LearnBpeResult } from './learn.ts';
export { corpusWordCounts, learnBpe } from './learn.ts';
export type { OpenAiVocabOptions } from './vocab-io.ts';
export {
  bpeVocabText,
  DEFAULT_MAX_VOCAB_BYTES,
  encodeBpeVocab,
  hfTokenizerFromText,
  loadHfTokenizer,
  loadOpenAiTokenizer,
  openAiTokenizerFromBytes,
  parseHfMerges,
  parseHfVocab,
  parseOpenAiMerges,
  saveBpeVocab,
} from './vocab-io.ts';
