// Versions of the @fairclip packages and tfjs-core as installed, recorded in every result.json.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';

const PACKAGES = ['train', 'clip', 'ot', 'datasets', 'fairness', 'io'] as const;

/** Versions of the @fairclip packages and tfjs-core, as installed. */
export function packageVersions(): Record<string, string> {
  const out: Record<string, string> = { 'tfjs-core': tf.version_core };
  const req = createRequire(import.meta.url);
  const version = (from: NodeJS.Require, name: string): string => {
    try {
      return (JSON.parse(readFileSync(from.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  };
  for (const p of PACKAGES) out[`@fairclip/${p}`] = version(req, `@fairclip/${p}`);
  // compute is ot's dependency, not train's: resolve it from ot (pnpm's strict layout hides it from train).
  let fromOt: NodeJS.Require = req;
  try {
    fromOt = createRequire(req.resolve('@fairclip/ot/package.json'));
  } catch {
    // ot not resolvable: compute is reported 'unknown' below unless train can see it
  }
  out['@fairclip/compute'] = version(fromOt, '@fairclip/compute');
  return out;
}
