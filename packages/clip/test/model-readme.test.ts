// README-model.md's example, verbatim apart from the paths (kept in sync by hand), checked against OpenAI's numbers.
import { readFileSync } from 'node:fs';
import { initCompute } from '@fairclip/compute';
import { fixturePath } from '@fairclip/test-fixtures';
import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import { contrastiveLoss, loadClip, zeroShotScores } from '../src/index.ts';

const weightsPath = fixturePath('golden/clip/tiny-vit/model.safetensors');
const expectedPath = fixturePath('golden/clip/tiny-vit/expected.json');

test('the README example runs and gives OpenAI’s loss', async () => {
  // ---- README example (begin)
  await initCompute({ backend: 'wasm' });
  // The golden tiny model (OpenAI's architecture); its safetensors metadata carries the configuration.
  const model = await loadClip(weightsPath);
  const expected = JSON.parse(readFileSync(expectedPath, 'utf8'));
  const images = tf.tensor4d(expected.images.data.flat(3), [3, 3, 32, 32]); // preprocessed pixels, NCHW
  const tokens: number[][] = expected.tokens; // clip.tokenize rows: "A photo of glaucoma", "A photo of non-glaucoma", …

  // Zero-shot as FairCLIP scores it: raw cosine to each class prompt, softmax, probability of class 1.
  const imageFeatures = model.encodeImage(images);
  const classFeatures = model.encodeText([tokens[1]!, tokens[0]!]); // class 0: non-glaucoma, class 1: glaucoma
  const pGlaucoma = await zeroShotScores(imageFeatures, classFeatures).data();

  // Gradients of the contrastive loss for FairCLIP's official parameter groups (vision tower + text blocks).
  const params = model.parameters(['visual', 'transformer']);
  const { value: loss, grads } = tf.variableGrads(
    () => contrastiveLoss(model.forward(images, tokens).logitsPerImage).loss,
    [...params.values()],
  );
  const lossValue = (await loss.data())[0]!;
  console.log([...pGlaucoma], lossValue, Object.keys(grads).length);
  tf.dispose([images, imageFeatures, classFeatures, loss, ...Object.values(grads)]);
  model.dispose();
  // ---- README example (end)

  expect(Math.abs(lossValue - expected.loss) / expected.loss).toBeLessThan(1e-5);
  expect(Object.keys(grads).length).toBe(params.size);
  // P(glaucoma) from OpenAI's own features, in float64: σ(cos(img, glaucoma) − cos(img, non-glaucoma)).
  const img: number[][] = expected.encode_image;
  const txt: number[][] = expected.encode_text;
  const cos = (u: number[], v: number[]) =>
    u.reduce((s, x, i) => s + x * v[i]!, 0) / (Math.hypot(...u) * Math.hypot(...v));
  img.forEach((u, i) => {
    const want = 1 / (1 + Math.exp(-(cos(u, txt[0]!) - cos(u, txt[1]!))));
    expect(Math.abs(pGlaucoma[i]! - want)).toBeLessThan(1e-5);
  });
});
