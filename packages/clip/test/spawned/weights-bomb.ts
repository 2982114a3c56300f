// Child process of weights-hostile.test.ts: builds one hostile weights file in memory (test/weights-craft.ts), reads
// it with readWeights under the default caps, and prints one JSON line: the error's class, code and message, and the
// process's peak resident memory (process.resourceUsage().maxRSS, in KB), so that the parent can bound it.
import { readWeights } from '../../src/index.ts';
import { bomb } from '../weights-craft.ts';

const kind = process.argv[2] ?? '';
const { bytes, file } = bomb(kind);
const rssBeforeKB = process.resourceUsage().maxRSS;
let result: Record<string, unknown>;
try {
  const w = readWeights(bytes, file);
  result = { ok: true, tensors: w.stateDict.size };
} catch (e) {
  const err = e as Error & { code?: string };
  result = { ok: false, errorClass: err.name, code: err.code, message: err.message };
}
console.log(
  JSON.stringify({ kind, fileBytes: bytes.length, rssBeforeKB, maxRSSKB: process.resourceUsage().maxRSS, ...result }),
);
