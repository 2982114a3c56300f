// Text cleaning and pre-tokenisation exactly as OpenAI's SimpleTokenizer (openai/CLIP clip/simple_tokenizer.py):
//   basic_clean: ftfy.fix_text (identity here, see below), html.unescape twice, str.strip()
//   whitespace_clean: regex `\s+` → ' ', str.strip()
//   then str.lower(), then `regex.findall(pat, text)` with OpenAI's pattern and re.IGNORECASE.
//
// ftfy.fix_text is not reproduced: it repairs mojibake, which well-formed input does not contain (the golden cases
// were generated with the same identity stand-in). Python's character classes differ from JavaScript's, so they are
// spelled out here:
// - the `regex` module's `\s` is Unicode White_Space (JavaScript's `\s` adds U+FEFF and lacks U+0085);
// - `str.strip()` removes what `str.isspace()` accepts: White_Space plus U+001C–U+001F;
// - re.IGNORECASE makes `'s` also match `'ſ` (U+017F folds to s), and in the `regex` module the negated class
//   `[^\s\p{L}\p{N}]` then refuses U+0345 (it folds to a Greek letter) while `[\p{L}]` does not accept it either,
//   so U+0345 belongs to no token and is skipped. The pattern below reproduces both without the `i` flag
//   (JavaScript's case-insensitive `\p{L}` would accept U+0345).
import { htmlUnescape } from './html.ts';

/** Unicode White_Space: what `\s` matches in Python's `regex` module. */
const WS = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
/** What Python's `str.isspace()` accepts (used by `str.strip()`). */
const PY_SPACE = `${WS}\\x1c-\\x1f`;

/** White_Space without the plain space. */
const WS_NO_SPACE = WS.replace(' ', '');
// Every class here holds only BMP characters, so the patterns work on UTF-16 code units (no `u` flag: faster, and
// a surrogate never matches). A lone plain space is left alone: replacing it by a space changes nothing.
const WS_RUN = new RegExp(`[${WS}]{2,}|[${WS_NO_SPACE}]`, 'g');
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');

/** Case-insensitive spelling of an ASCII literal, with the extra simple case folding of `s` (ſ). */
function ci(literal: string): string {
  let out = '';
  for (const ch of literal) {
    if (/[a-z]/.test(ch)) out += ch === 's' ? '[sSſ]' : `[${ch}${ch.toUpperCase()}]`;
    else out += ch.replace(/[|]/g, '\\|');
  }
  return out;
}

/** OpenAI's pre-tokenisation pattern, equivalent to Python's `regex` with IGNORECASE (see the file comment). */
export const PRETOKEN_PATTERN: RegExp = new RegExp(
  [
    ci('<|startoftext|>'),
    ci('<|endoftext|>'),
    ci("'s"),
    ci("'t"),
    ci("'re"),
    ci("'ve"),
    ci("'m"),
    ci("'ll"),
    ci("'d"),
    '[\\p{L}]+',
    '[\\p{N}]',
    `[^${WS}\\p{L}\\p{N}\\u0345]+`,
  ].join('|'),
  'gu',
);

const PY_SPLIT = new RegExp(`[${PY_SPACE}]+`);

/** Python's `str.split()` with no argument: the non-empty pieces between runs of whitespace. */
export function pythonSplit(text: string): string[] {
  return text.split(PY_SPLIT).filter((p) => p !== '');
}

/** Python's `str.strip()` with no argument. */
export function pythonStrip(text: string): string {
  return text.replace(PY_STRIP, '');
}

/** OpenAI's `basic_clean` with an identity `ftfy.fix_text`: HTML-unescape twice, strip. */
export function basicClean(text: string): string {
  return pythonStrip(htmlUnescape(htmlUnescape(text)));
}

/** OpenAI's `whitespace_clean`: every run of White_Space becomes one space, then strip. */
export function whitespaceClean(text: string): string {
  return pythonStrip(text.replace(WS_RUN, ' '));
}

/** The full cleaning before pre-tokenisation: `whitespace_clean(basic_clean(text)).lower()`. */
export function cleanText(text: string): string {
  return whitespaceClean(basicClean(text)).toLowerCase();
}

/** Splits cleaned text into pre-tokens with OpenAI's pattern (`regex.findall`). */
export function preTokenize(cleaned: string): string[] {
  return cleaned.match(PRETOKEN_PATTERN) ?? [];
}

const LONE_SURROGATE = /\p{Cs}/u;

/** True when `text` holds no lone UTF-16 surrogate (so it has a UTF-8 encoding). */
export function isWellFormedText(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}
