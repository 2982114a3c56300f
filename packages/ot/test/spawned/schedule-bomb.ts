// Former memory bomb (issue 14): geomlossCompatible samplesLoss with scaling 0.9999999 built a 2.8·10⁸-entry ε schedule
// (minutes, 4 GB). Prints the error code, its message and the peak RSS (KB) as one JSON line.
import { samplesLoss } from '../../src/index.ts';

const x = Array.from({ length: 32 }, (_, i) => [i / 31, (i * 7) % 5]);
const y = Array.from({ length: 32 }, (_, i) => [(i * 3) % 11, i / 31]);
let code = 'none';
let message = '';
try {
  samplesLoss(x, y, { blur: 1e-6, scaling: 0.9999999, geomlossCompatible: true });
} catch (err) {
  code = String((err as { code?: unknown }).code);
  message = (err as Error).message;
}
console.log(JSON.stringify({ code, message, maxRssKb: process.resourceUsage().maxRSS }));
