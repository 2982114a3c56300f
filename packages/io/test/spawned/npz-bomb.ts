// Child process of the memory-bomb test: reads the .npz named on the command line with every npz reader (default
// caps) and prints, as JSON, each reader's error code and message and the process's peak resident set (KB).
import { readFileSync } from 'node:fs';
import { isIoError, openNpz, readNpz, readNpzFileAsync, readNpzKeys, ZipFileReader } from '../../src/index.ts';

const path = process.argv[2]!;
const results: { reader: string; code: string; message: string }[] = [];
async function attempt(reader: string, fn: () => unknown): Promise<void> {
  try {
    await fn();
    results.push({ reader, code: 'READ', message: '' });
  } catch (e) {
    if (!isIoError(e)) throw e;
    results.push({ reader, code: e.code, message: e.message });
  }
}
const bytes = readFileSync(path);
await attempt('readNpz', () => readNpz(bytes, path));
await attempt('openNpz', () => openNpz(bytes, path).get('slo_fundus'));
await attempt('readNpzKeys', () => readNpzKeys(path, ['slo_fundus']));
await attempt('readNpzFileAsync', () => readNpzFileAsync(path));
await attempt('ZipFileReader', () => {
  const z = ZipFileReader.open(path);
  try {
    return z.read(z.entries[0]!);
  } finally {
    z.close();
  }
});
console.log(JSON.stringify({ results, maxRSS: process.resourceUsage().maxRSS }));
