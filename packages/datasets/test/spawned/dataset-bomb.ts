// Child process of the dataset memory-bomb test: opens the test split of the FairVLMed folder given on the command
// line (default options), loads every sample, and prints as JSON each load's error code and message and the peak
// resident set (KB).
import { isDatasetError, openFairVlmed } from '../../src/index.ts';

const split = openFairVlmed(process.argv[2]!, 'test', { filter: 'none', textSource: 'label' });
const results: { file: string; code: string; message: string }[] = [];
for (let i = 0; i < split.size; i++) {
  try {
    const s = await split.load(i);
    results.push({ file: s.file, code: 'LOADED', message: `${s.image.shape.join('x')}` });
  } catch (e) {
    if (!isDatasetError(e)) throw e;
    results.push({ file: split.records[i]!.file, code: e.code, message: e.message });
  }
}
console.log(JSON.stringify({ results, maxRSS: process.resourceUsage().maxRSS }));
