/**
 * The state dict a configuration implies: every OpenAI name with its shape, whether it is a trainable parameter or a
 * buffer (BatchNorm running statistics), and how OpenAI's constructor initialises it.
 */
import { type ClipConfig, deriveConfig } from './config.ts';

export type InitSpec =
  | { kind: 'normal'; std: number }
  | { kind: 'uniform'; bound: number }
  | { kind: 'const'; value: number }
  | { kind: 'xavier'; bound: number };

export interface TensorSpec {
  name: string;
  shape: number[];
  init: InitSpec;
  /** BatchNorm running statistics: state, not trained (not in parameters()). */
  buffer: boolean;
  /** Integer buffer (BatchNorm num_batches_tracked, int64 in PyTorch). */
  integer: boolean;
}

/** Parameter groups by OpenAI's module names (the official FairCLIP optimiser uses `visual` + `transformer`). */
export const PARAMETER_GROUPS = [
  'visual',
  'transformer',
  'token_embedding',
  'positional_embedding',
  'ln_final',
  'text_projection',
  'logit_scale',
] as const;
export type ParameterGroup = (typeof PARAMETER_GROUPS)[number];

/** The group of an OpenAI state-dict name (its first module). */
export function parameterGroupOf(name: string): ParameterGroup | undefined {
  const head = name.split('.')[0];
  return (PARAMETER_GROUPS as readonly string[]).includes(head ?? '') ? (head as ParameterGroup) : undefined;
}

function p(name: string, shape: number[], init: InitSpec): TensorSpec {
  return { name, shape, init, buffer: false, integer: false };
}

const ones: InitSpec = { kind: 'const', value: 1 };
const zeros: InitSpec = { kind: 'const', value: 0 };
/** torch's default Linear/Conv init: kaiming_uniform(a = √5) = U(±1/√fan_in) for weights and biases. */
const torchDefault = (fanIn: number): InitSpec => ({ kind: 'uniform', bound: 1 / Math.sqrt(fanIn) });

function layerNorm(prefix: string, width: number): TensorSpec[] {
  return [p(`${prefix}.weight`, [width], ones), p(`${prefix}.bias`, [width], zeros)];
}

/** One `ResidualAttentionBlock` (OpenAI names), with the text tower's or torch's default initialisation. */
function residualBlock(prefix: string, width: number, layers: number, textInit: boolean): TensorSpec[] {
  const attnStd = width ** -0.5;
  const projStd = width ** -0.5 * (2 * layers) ** -0.5;
  const fcStd = (2 * width) ** -0.5;
  return [
    p(
      `${prefix}.attn.in_proj_weight`,
      [3 * width, width],
      textInit ? { kind: 'normal', std: attnStd } : { kind: 'xavier', bound: Math.sqrt(6 / (width + 3 * width)) },
    ),
    p(`${prefix}.attn.in_proj_bias`, [3 * width], zeros),
    p(
      `${prefix}.attn.out_proj.weight`,
      [width, width],
      textInit ? { kind: 'normal', std: projStd } : torchDefault(width),
    ),
    p(`${prefix}.attn.out_proj.bias`, [width], zeros),
    ...layerNorm(`${prefix}.ln_1`, width),
    p(`${prefix}.mlp.c_fc.weight`, [4 * width, width], textInit ? { kind: 'normal', std: fcStd } : torchDefault(width)),
    p(`${prefix}.mlp.c_fc.bias`, [4 * width], torchDefault(width)),
    p(
      `${prefix}.mlp.c_proj.weight`,
      [width, 4 * width],
      textInit ? { kind: 'normal', std: projStd } : torchDefault(4 * width),
    ),
    p(`${prefix}.mlp.c_proj.bias`, [width], torchDefault(4 * width)),
    ...layerNorm(`${prefix}.ln_2`, width),
  ];
}

function batchNorm(prefix: string, channels: number, zeroWeight = false): TensorSpec[] {
  return [
    p(`${prefix}.weight`, [channels], zeroWeight ? zeros : ones),
    p(`${prefix}.bias`, [channels], zeros),
    { name: `${prefix}.running_mean`, shape: [channels], init: zeros, buffer: true, integer: false },
    { name: `${prefix}.running_var`, shape: [channels], init: ones, buffer: true, integer: false },
    { name: `${prefix}.num_batches_tracked`, shape: [], init: zeros, buffer: true, integer: true },
  ];
}

function conv(name: string, out: number, inp: number, k: number): TensorSpec {
  return p(name, [out, inp, k, k], torchDefault(inp * k * k));
}

/** The Bottleneck blocks of one ModifiedResNet stage, as OpenAI's `_make_layer` builds them. */
export interface BottleneckSpec {
  prefix: string;
  inplanes: number;
  planes: number;
  stride: number;
  downsample: boolean;
}

export function resnetBlocks(config: ClipConfig): BottleneckSpec[] {
  const layers = config.vision_layers as readonly number[];
  const width = config.vision_width;
  const blocks: BottleneckSpec[] = [];
  let inplanes = width;
  layers.forEach((count, stage) => {
    const planes = width * 2 ** stage;
    for (let j = 0; j < count; j++) {
      const stride = j === 0 && stage > 0 ? 2 : 1;
      blocks.push({
        prefix: `visual.layer${stage + 1}.${j}`,
        inplanes,
        planes,
        stride,
        downsample: stride > 1 || inplanes !== planes * 4,
      });
      inplanes = planes * 4;
    }
  });
  return blocks;
}

function visionTransformerSpecs(config: ClipConfig): TensorSpec[] {
  const d = deriveConfig(config);
  const w = config.vision_width;
  const patch = config.vision_patch_size!;
  const scale = w ** -0.5;
  const layers = config.vision_layers as number;
  const specs: TensorSpec[] = [
    p('visual.class_embedding', [w], { kind: 'normal', std: scale }),
    p('visual.positional_embedding', [d.visionTokens, w], { kind: 'normal', std: scale }),
    p('visual.proj', [w, config.embed_dim], { kind: 'normal', std: scale }),
    conv('visual.conv1.weight', w, 3, patch),
    ...layerNorm('visual.ln_pre', w),
  ];
  for (let i = 0; i < layers; i++) specs.push(...residualBlock(`visual.transformer.resblocks.${i}`, w, layers, false));
  specs.push(...layerNorm('visual.ln_post', w));
  return specs;
}

function resnetSpecs(config: ClipConfig): TensorSpec[] {
  const d = deriveConfig(config);
  const w = config.vision_width;
  const specs: TensorSpec[] = [
    conv('visual.conv1.weight', w / 2, 3, 3),
    ...batchNorm('visual.bn1', w / 2),
    conv('visual.conv2.weight', w / 2, w / 2, 3),
    ...batchNorm('visual.bn2', w / 2),
    conv('visual.conv3.weight', w, w / 2, 3),
    ...batchNorm('visual.bn3', w),
  ];
  for (const b of resnetBlocks(config)) {
    specs.push(
      conv(`${b.prefix}.conv1.weight`, b.planes, b.inplanes, 1),
      ...batchNorm(`${b.prefix}.bn1`, b.planes),
      conv(`${b.prefix}.conv2.weight`, b.planes, b.planes, 3),
      ...batchNorm(`${b.prefix}.bn2`, b.planes),
      conv(`${b.prefix}.conv3.weight`, b.planes * 4, b.planes, 1),
      ...batchNorm(`${b.prefix}.bn3`, b.planes * 4, true),
    );
    if (b.downsample) {
      specs.push(
        conv(`${b.prefix}.downsample.0.weight`, b.planes * 4, b.inplanes, 1),
        ...batchNorm(`${b.prefix}.downsample.1`, b.planes * 4),
      );
    }
  }
  const c = d.visionFeatureWidth;
  const std = c ** -0.5;
  specs.push(p('visual.attnpool.positional_embedding', [d.visionTokens, c], { kind: 'normal', std: c ** -0.5 }));
  for (const proj of ['q_proj', 'k_proj', 'v_proj'] as const) {
    specs.push(
      p(`visual.attnpool.${proj}.weight`, [c, c], { kind: 'normal', std }),
      p(`visual.attnpool.${proj}.bias`, [c], torchDefault(c)),
    );
  }
  specs.push(
    p('visual.attnpool.c_proj.weight', [config.embed_dim, c], { kind: 'normal', std }),
    p('visual.attnpool.c_proj.bias', [config.embed_dim], torchDefault(c)),
  );
  return specs;
}

/** Every tensor of the state dict of `clip.model.CLIP(**config)`, in a stable order. */
export function stateDictSpec(config: ClipConfig): TensorSpec[] {
  const d = deriveConfig(config);
  const tw = config.transformer_width;
  const specs: TensorSpec[] = [
    p('positional_embedding', [config.context_length, tw], { kind: 'normal', std: 0.01 }),
    p('text_projection', [tw, config.embed_dim], { kind: 'normal', std: tw ** -0.5 }),
    p('logit_scale', [], { kind: 'const', value: Math.log(1 / 0.07) }),
    ...(d.kind === 'vit' ? visionTransformerSpecs(config) : resnetSpecs(config)),
  ];
  for (let i = 0; i < config.transformer_layers; i++) {
    specs.push(...residualBlock(`transformer.resblocks.${i}`, tw, config.transformer_layers, true));
  }
  specs.push(
    p('token_embedding.weight', [config.vocab_size, tw], { kind: 'normal', std: 0.02 }),
    ...layerNorm('ln_final', tw),
  );
  return specs;
}
