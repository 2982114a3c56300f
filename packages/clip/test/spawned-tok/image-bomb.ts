// Memory bomb: a degenerate image (a decoded 1 × 6000 JPEG strip, or 1 × 65 500) through CLIP's preprocessing.
// Before the check, Resize(224) made the 1 × 6000 strip 224 × 1 344 000 (1.1 GB); 1 × 65 500 ended in an untyped
// RangeError. Usage: image-bomb.ts <rgb|gray|square> <height> <width> [maxAspectRatio]
import { preprocessGrayFloat, preprocessRgb } from '../../src/preprocess/pipeline.ts';
import { report } from './spawn.ts';

const [kind, h, w, ratio] = process.argv.slice(2) as [string, string, string, string | undefined];
const height = Number(h);
const width = Number(w);
const limits = ratio === undefined ? {} : { maxAspectRatio: Number(ratio) };
const result = { kind, height, width };
try {
  let out: Float32Array;
  if (kind === 'gray') {
    const data = new Float32Array(height * width).map((_, i) => (i * 7) % 256);
    out = preprocessGrayFloat({ data, height, width }, limits);
  } else {
    const data = new Uint8Array(height * width * 3).map((_, i) => (i * 13) % 256);
    const image = { data, height, width, channels: 3 as const };
    out = preprocessRgb(image, { ...limits, resize: kind === 'square' ? 'square' : 'shorter-side' });
  }
  report({ ...result, outLength: out.length });
} catch (e) {
  report(result, e);
}
