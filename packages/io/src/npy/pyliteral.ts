// A parser for the small subset of Python literals that .npy headers use: dicts, tuples, lists, strings,
// integers (with an optional legacy `L` suffix), True, False and None. Nothing is evaluated.

export type PyValue = string | number | boolean | null | PyValue[] | PyTuple | PyDict;
export interface PyTuple {
  readonly tuple: PyValue[];
}
export interface PyDict {
  readonly dict: Map<string, PyValue>;
}

class ParseError extends Error {}

/** Deepest nesting of containers accepted (a header needs 2: the dict and its shape tuple). */
const MAX_DEPTH = 32;
const PY_SPACE = new Set([' ', '\t', '\f', '\r', '\n']);

/** Parses one Python literal; throws an Error with the position on anything else. */
export function parsePyLiteral(text: string): PyValue {
  let pos = 0;
  const fail = (what: string): never => {
    const shown = text.length > 80 ? `${JSON.stringify(text.slice(0, 80))}…` : JSON.stringify(text);
    throw new ParseError(`${what} at character ${pos} of ${shown}`);
  };
  const skipWs = () => {
    // Python's tokenizer: space, tab, form feed and line ends (not U+00A0 or other Unicode spaces).
    while (pos < text.length && PY_SPACE.has(text[pos]!)) pos++;
  };
  const parseString = (): string => {
    const quote = text[pos]!;
    pos++;
    let out = '';
    while (pos < text.length) {
      const c = text[pos]!;
      if (c === quote) {
        pos++;
        return out;
      }
      if (c === '\\') {
        const n = text[pos + 1];
        if (n === undefined) fail('unterminated escape');
        const simple: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r', '0': '\0' };
        if (n! in simple) {
          out += simple[n!];
          pos += 2;
        } else if (n === 'x' || n === 'u' || n === 'U') {
          const len = n === 'x' ? 2 : n === 'u' ? 4 : 8;
          const hex = text.slice(pos + 2, pos + 2 + len);
          if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) fail('bad escape');
          const cp = Number.parseInt(hex, 16);
          if (cp > 0x10ffff) fail('bad escape');
          out += String.fromCodePoint(cp);
          pos += 2 + len;
        } else {
          fail('unsupported escape');
        }
      } else {
        out += c;
        pos++;
      }
    }
    return fail('unterminated string');
  };
  let depth = 0;
  const enter = () => {
    if (++depth > MAX_DEPTH) fail(`nested more than ${MAX_DEPTH} levels deep`);
  };
  const parseSeq = (close: string): PyValue[] => {
    const items: PyValue[] = [];
    enter();
    pos++;
    for (;;) {
      skipWs();
      if (text[pos] === close) {
        pos++;
        depth--;
        return items;
      }
      items.push(parseValue());
      skipWs();
      if (text[pos] === ',') pos++;
      else if (text[pos] !== close) fail(`expected ',' or '${close}'`);
    }
  };
  const parseValue = (): PyValue => {
    skipWs();
    const c = text[pos];
    if (c === undefined) return fail('unexpected end');
    if (c === "'" || c === '"') return parseString();
    if (c === '{') {
      const dict = new Map<string, PyValue>();
      enter();
      pos++;
      for (;;) {
        skipWs();
        if (text[pos] === '}') {
          pos++;
          depth--;
          return { dict };
        }
        if (text[pos] !== "'" && text[pos] !== '"') fail('expected a string key');
        const key = parseString();
        skipWs();
        if (text[pos] !== ':') fail("expected ':'");
        pos++;
        if (dict.has(key)) fail(`duplicate key ${JSON.stringify(key.slice(0, 80))}`);
        dict.set(key, parseValue());
        skipWs();
        if (text[pos] === ',') pos++;
        else if (text[pos] !== '}') fail("expected ',' or '}'");
      }
    }
    if (c === '(') return { tuple: parseSeq(')') };
    if (c === '[') return parseSeq(']');
    const m = /^(-?\d+)[lL]?|^(True|False|None)\b/.exec(text.slice(pos));
    if (m) {
      pos += m[0].length;
      if (m[2] === 'True') return true;
      if (m[2] === 'False') return false;
      if (m[2] === 'None') return null;
      const n = Number(m[1]);
      if (!Number.isSafeInteger(n)) fail('integer too large');
      return n;
    }
    return fail('unexpected character');
  };
  const value = parseValue();
  skipWs();
  if (pos !== text.length) fail('trailing characters');
  return value;
}

export function isPyDict(v: PyValue): v is PyDict {
  return typeof v === 'object' && v !== null && 'dict' in v;
}
export function isPyTuple(v: PyValue): v is PyTuple {
  return typeof v === 'object' && v !== null && 'tuple' in v;
}
