// Versions of the @fairclip packages and tfjs-core as installed, recorded in every result.json.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';

const PACKAGES = ['train', 'clip', 'ot', 'datasets', 'fairness', 'compute'] as const;

/** Versions of the @fairclip packages and tfjs-core, as installed. */
export function packageVersions(): Record<string, string> {
  const out: Record<string, string> = { 'tfjs-core': tf.version_core };
  const req = createRequire(import.meta.url);
  for (const p of PACKAGES) {
    try {
      out[`@fairclip/${p}`] = (
        JSON.parse(readFileSync(req.resolve(`@fairclip/${p}/package.json`), 'utf8')) as {
          version: string;
        }
      ).version;
    } catch {
      out[`@fairclip/${p}`] = 'unknown';
    }
  }
  return out;
}
