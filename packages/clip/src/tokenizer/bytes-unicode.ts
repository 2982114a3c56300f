// GPT-2/CLIP's reversible byte ↔ character table (`bytes_to_unicode` in OpenAI's simple_tokenizer.py): the
// printable bytes '!'..'~', '¡'..'¬', '®'..'ÿ' map to the character of the same code, every other byte b (in
// increasing order) to U+0100 + n, n = 0, 1, ... The table's order (printable bytes first) is also the order of the
// first 256 vocabulary entries.

function buildTable(): { order: number[]; chars: string[] } {
  const order: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) order.push(b);
  for (let b = 0xa1; b <= 0xac; b++) order.push(b);
  for (let b = 0xae; b <= 0xff; b++) order.push(b);
  const codes = order.slice();
  const printable = new Set(order);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!printable.has(b)) {
      order.push(b);
      codes.push(256 + n);
      n++;
    }
  }
  const chars = new Array<string>(256);
  for (let i = 0; i < 256; i++) chars[order[i] as number] = String.fromCharCode(codes[i] as number);
  return { order, chars };
}

const TABLE = buildTable();

/** `BYTE_TO_CHAR[b]` is the character standing for byte b. */
export const BYTE_TO_CHAR: readonly string[] = TABLE.chars;

/** The 256 byte characters in OpenAI's vocabulary order (ids 0..255; ids 256..511 are the same with `</w>`). */
export const BYTE_CHARS_IN_VOCAB_ORDER: readonly string[] = TABLE.order.map((b) => TABLE.chars[b] as string);

/** Inverse table: character code → byte, or -1 for characters that stand for no byte. */
const CHAR_TO_BYTE = new Int16Array(0x144).fill(-1);
for (let b = 0; b < 256; b++) CHAR_TO_BYTE[(TABLE.chars[b] as string).charCodeAt(0)] = b;

/** The byte a character stands for, or -1. */
export function charToByte(ch: number): number {
  return ch < CHAR_TO_BYTE.length ? (CHAR_TO_BYTE[ch] as number) : -1;
}

const utf8 = new TextEncoder();

/** UTF-8 bytes of `text`, each written as its byte character (`''.join(byte_encoder[b] for b in text.encode())`). */
export function byteEncode(text: string): string {
  let ascii = true;
  for (let i = 0; i < text.length; i++)
    if (text.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  if (ascii) {
    let out = '';
    for (let i = 0; i < text.length; i++) out += BYTE_TO_CHAR[text.charCodeAt(i)] as string;
    return out;
  }
  const bytes = utf8.encode(text);
  let out = '';
  for (const b of bytes) out += BYTE_TO_CHAR[b] as string;
  return out;
}
