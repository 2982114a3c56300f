// Python's `html.unescape`, re-implemented with the same rules (CPython 3.11 Lib/html/__init__.py semantics):
// - a character reference is `&` followed by `#digits;?`, `#x|X hexdigits;?` or 1 to 32 characters other than
//   tab, newline, form feed, space, `<`, `&`, `#`, `;`, optionally followed by `;`;
// - numeric references: the Windows-1252 fix-ups for 0x80–0x9F, 0x00 → U+FFFD, 0x0D → CR, surrogates and values
//   above 0x10FFFF → U+FFFD, the other control characters and non-characters → removed;
// - named references: the whole name (with its `;` if present) from the HTML5 table, else the longest prefix that is
//   one of the legacy names allowed without `;` (the rest of the text is kept), else left as it is.
import { HTML5_ENTITY_TABLE, HTML5_LEGACY_NAMES } from './html-entities.ts';

const CHARREF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

/** Numeric references that HTML5 maps to another character (Python's `html._invalid_charrefs`). */
const INVALID_CHARREFS: ReadonlyMap<number, string> = new Map<number, string>([
  [0x00, '\ufffd'],
  [0x0d, '\r'],
  [0x80, '\u20ac'],
  [0x81, '\x81'],
  [0x82, '\u201a'],
  [0x83, '\u0192'],
  [0x84, '\u201e'],
  [0x85, '\u2026'],
  [0x86, '\u2020'],
  [0x87, '\u2021'],
  [0x88, '\u02c6'],
  [0x89, '\u2030'],
  [0x8a, '\u0160'],
  [0x8b, '\u2039'],
  [0x8c, '\u0152'],
  [0x8d, '\x8d'],
  [0x8e, '\u017d'],
  [0x8f, '\x8f'],
  [0x90, '\x90'],
  [0x91, '\u2018'],
  [0x92, '\u2019'],
  [0x93, '\u201c'],
  [0x94, '\u201d'],
  [0x95, '\u2022'],
  [0x96, '\u2013'],
  [0x97, '\u2014'],
  [0x98, '\u02dc'],
  [0x99, '\u2122'],
  [0x9a, '\u0161'],
  [0x9b, '\u203a'],
  [0x9c, '\u0153'],
  [0x9d, '\x9d'],
  [0x9e, '\u017e'],
  [0x9f, '\u0178'],
]);

/** Code points that a numeric reference may not produce; they are dropped (Python's `html._invalid_codepoints`). */
function isInvalidCodePoint(cp: number): boolean {
  if ((cp >= 0x1 && cp <= 0x8) || cp === 0xb || (cp >= 0xe && cp <= 0x1f) || (cp >= 0x7f && cp <= 0x9f)) return true;
  if (cp >= 0xfdd0 && cp <= 0xfdef) return true;
  // U+xFFFE and U+xFFFF of every plane.
  return (cp & 0xfffe) === 0xfffe;
}

let named: Map<string, string> | undefined;
let legacy: Set<string> | undefined;

function namedTable(): Map<string, string> {
  if (named) return named;
  const map = new Map<string, string>();
  for (const entry of HTML5_ENTITY_TABLE.split(',')) {
    const eq = entry.indexOf('=');
    const name = entry.slice(0, eq);
    const value = String.fromCodePoint(
      ...entry
        .slice(eq + 1)
        .split('.')
        .map((h) => Number.parseInt(h, 16)),
    );
    map.set(name, value);
  }
  named = map;
  return map;
}

function legacyNames(): Set<string> {
  legacy ??= new Set(HTML5_LEGACY_NAMES);
  return legacy;
}

/** The replacement text of a named reference `s` (the part after `&`), following Python's rules. */
function replaceNamed(s: string): string {
  const table = namedTable();
  if (s.endsWith(';')) {
    const value = table.get(s.slice(0, -1));
    if (value !== undefined) return value;
  } else if (legacyNames().has(s)) {
    return table.get(s) as string;
  }
  // The longest prefix (at least 2 characters, shorter than s) that is a name valid without ';'.
  const legacySet = legacyNames();
  for (let x = s.length - 1; x > 1; x--) {
    const prefix = s.slice(0, x);
    if (legacySet.has(prefix)) return (table.get(prefix) as string) + s.slice(x);
  }
  return `&${s}`;
}

function replaceNumeric(s: string): string {
  const hex = s[1] === 'x' || s[1] === 'X';
  const digits = (hex ? s.slice(2) : s.slice(1)).replace(/;$/, '');
  // Very long digit strings exceed 2^53 but then also 0x10FFFF, which is all that matters below.
  const num = Number.parseInt(digits, hex ? 16 : 10);
  const fixed = INVALID_CHARREFS.get(num);
  if (fixed !== undefined) return fixed;
  if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff) return '\ufffd';
  if (isInvalidCodePoint(num)) return '';
  return String.fromCodePoint(num);
}

/** Decodes HTML character references exactly as Python's `html.unescape`. */
export function htmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(CHARREF, (_m, ref: string) => (ref[0] === '#' ? replaceNumeric(ref) : replaceNamed(ref)));
}

/** Number of named references known (for tests and documentation). */
export function htmlEntityCount(): number {
  return namedTable().size;
}
