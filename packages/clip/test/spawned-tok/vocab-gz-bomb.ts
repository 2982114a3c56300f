// Memory bomb: a ~2 MB gzip "vocabulary" that inflates to 2 GiB (256 gzip members of 8 MiB of merge lines each).
// Before the cap, gunzipSync inflated it until V8 aborted at 4.4 GB. Usage: vocab-gz-bomb.ts <folder> [maxBytes]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadOpenAiTokenizer } from '../../src/tokenizer/vocab-io.ts';
import { report } from './spawn.ts';

const [folder, maxBytesArg] = process.argv.slice(2) as [string, string | undefined];
const member = gzipSync(Buffer.alloc(8 * 1024 * 1024, 'i n\n'), { level: 9 });
const members = 256;
const bomb = Buffer.concat([gzipSync(Buffer.from('#version: 0.2\n')), ...new Array<Buffer>(members).fill(member)]);
const file = join(folder, 'bpe_bomb.txt.gz');
writeFileSync(file, bomb);
const result = { file, gzBytes: bomb.length, inflatedBytes: 14 + members * 8 * 1024 * 1024 };
try {
  const tok = loadOpenAiTokenizer(file, maxBytesArg === undefined ? {} : { maxBytes: Number(maxBytesArg) });
  report({ ...result, vocabSize: tok.vocabSize });
} catch (e) {
  report(result, e);
}
