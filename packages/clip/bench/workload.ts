// The benchmark workloads, shared by the vitest benchmark (bench/vit.bench.ts) and the GPU-machine runner
// (bench/device.ts): CLIP inference (image features) and one training step (symmetric contrastive loss, gradients of
// every parameter, plain SGD update) on random inputs, everything disposed.
import * as tf from '@tensorflow/tfjs-core';
import { type ClipConfig, ClipModel, clipConfig, contrastiveLoss, parseClipConfig } from '../src/index.ts';

export interface Workload {
  model: ClipModel;
  config: ClipConfig;
  infer(batch: number): Promise<void>;
  train(batch: number): Promise<void>;
  dispose(): void;
}

/** 'ViT-B/16' etc., or 'tiny' (the golden tiny-vit's shape with a 1 000-token vocabulary). */
export function benchConfig(name: string): ClipConfig {
  if (name === 'tiny') {
    return parseClipConfig({
      embed_dim: 32,
      image_resolution: 32,
      vision_layers: 2,
      vision_width: 64,
      vision_patch_size: 8,
      context_length: 77,
      vocab_size: 1000,
      transformer_width: 64,
      transformer_heads: 1,
      transformer_layers: 2,
    });
  }
  return clipConfig(name as 'ViT-B/16');
}

function randomTokens(batch: number, config: ClipConfig): number[][] {
  const v = config.vocab_size;
  const rows: number[][] = [];
  for (let i = 0; i < batch; i++) {
    const row = new Array<number>(config.context_length).fill(0);
    for (let j = 0; j < config.context_length >> 1; j++) row[j] = 1 + ((i * 7919 + j * 104729) % (v - 2));
    row[config.context_length >> 1] = v - 1;
    rows.push(row);
  }
  return rows;
}

/** Builds the model on the active backend. */
export function createWorkload(config: ClipConfig, learningRate = 1e-6): Workload {
  const model = ClipModel.create(config, { seed: 0 });
  const r = config.image_resolution;
  return {
    model,
    config,
    async infer(batch) {
      const images = tf.randomNormal([batch, 3, r, r]) as tf.Tensor4D;
      const features = model.encodeImage(images);
      await features.data();
      tf.dispose([images, features]);
    },
    async train(batch) {
      const images = tf.randomNormal([batch, 3, r, r]) as tf.Tensor4D;
      const tokens = randomTokens(batch, config);
      const params = model.parameters();
      const { value, grads } = tf.variableGrads(() => {
        const out = model.forward(images, tokens);
        const l = contrastiveLoss(out.logitsPerImage);
        tf.dispose([out.logitsPerImage, out.logitsPerText, l.lossImage, l.lossText]);
        return l.loss;
      }, [...params.values()]);
      for (const v of params.values()) tf.tidy(() => v.assign(tf.sub(v, tf.mul(grads[v.name]!, learningRate))));
      await value.data();
      tf.dispose([images, value, ...Object.values(grads)]);
    },
    dispose() {
      model.dispose();
    },
  };
}
