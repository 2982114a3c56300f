/**
 * Hugging Face `CLIPModel` weights (e.g. `openai/clip-vit-base-patch16/model.safetensors`) to OpenAI's names: the
 * inverse of transformers' `convert_clip_original_pytorch_to_hf.py`. q/k/v projections are concatenated (in that
 * order) into `in_proj_weight`/`in_proj_bias`, the projections' Linear weights are transposed back, the vision
 * tower's `pre_layrnorm` (sic) becomes `ln_pre`, and the `position_ids` buffers are dropped.
 */
import type { ClipConfig } from '../model/config.ts';
import { parseClipConfig } from '../model/config.ts';
import { cut } from './describe.ts';
import { WeightsError } from './errors.ts';
import { type HostTensor, numel, type StateDict } from './state-dict.ts';

/** True when the names look like a Hugging Face CLIPModel state dict. */
export function isHuggingFaceClip(names: Iterable<string>): boolean {
  for (const n of names) if (n.startsWith('text_model.') || n.startsWith('vision_model.')) return true;
  return false;
}

const LAYER_RENAMES: [RegExp, string][] = [
  [/^self_attn\.out_proj\.(weight|bias)$/, 'attn.out_proj.$1'],
  [/^layer_norm1\.(weight|bias)$/, 'ln_1.$1'],
  [/^layer_norm2\.(weight|bias)$/, 'ln_2.$1'],
  [/^mlp\.fc1\.(weight|bias)$/, 'mlp.c_fc.$1'],
  [/^mlp\.fc2\.(weight|bias)$/, 'mlp.c_proj.$1'],
];

const DIRECT_RENAMES: [RegExp, string][] = [
  [/^text_model\.embeddings\.token_embedding\.weight$/, 'token_embedding.weight'],
  [/^text_model\.embeddings\.position_embedding\.weight$/, 'positional_embedding'],
  [/^text_model\.final_layer_norm\.(weight|bias)$/, 'ln_final.$1'],
  [/^vision_model\.embeddings\.class_embedding$/, 'visual.class_embedding'],
  [/^vision_model\.embeddings\.patch_embedding\.weight$/, 'visual.conv1.weight'],
  [/^vision_model\.embeddings\.position_embedding\.weight$/, 'visual.positional_embedding'],
  [/^vision_model\.pre_layr?norm\.(weight|bias)$/, 'visual.ln_pre.$1'],
  [/^vision_model\.post_layernorm\.(weight|bias)$/, 'visual.ln_post.$1'],
  [/^logit_scale$/, 'logit_scale'],
];

const TRANSPOSED: Record<string, string> = {
  'visual_projection.weight': 'visual.proj',
  'text_projection.weight': 'text_projection',
};

function transpose2d(t: HostTensor, name: string, file: string): HostTensor {
  if (t.shape.length !== 2 || !(t.data instanceof Float32Array)) {
    throw new WeightsError('HF_MAPPING', `${name} must be a 2-D float matrix, got shape [${cut(t.shape.join(', '))}]`, {
      file,
    });
  }
  const [r, c] = t.shape as [number, number];
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j]!;
  return { shape: [c, r], data: out };
}

function concat0(parts: HostTensor[], name: string, file: string): HostTensor {
  const first = parts[0]!;
  const rest = first.shape.slice(1);
  let rows = 0;
  for (const p of parts) {
    if (
      !(p.data instanceof Float32Array) ||
      p.shape.length !== first.shape.length ||
      p.shape.slice(1).some((d, i) => d !== rest[i])
    ) {
      throw new WeightsError('HF_MAPPING', `${name}: q/k/v parts have incompatible shapes`, { file });
    }
    rows += p.shape[0]!;
  }
  const out = new Float32Array(rows * numel(rest));
  let offset = 0;
  for (const p of parts) {
    out.set(p.data as Float32Array, offset);
    offset += p.data.length;
  }
  return { shape: [rows, ...rest], data: out };
}

/**
 * Renames a Hugging Face CLIPModel state dict to OpenAI's names. Unknown keys are an error (listed), as is a q/k/v
 * projection with a missing part.
 */
export function huggingFaceToOpenAI(sd: ReadonlyMap<string, HostTensor>, file = 'weights'): StateDict {
  const out: StateDict = new Map();
  const unknown: string[] = [];
  const qkv = new Map<string, Partial<Record<'q' | 'k' | 'v', HostTensor>>>();
  for (const [name, t] of sd) {
    if (name.endsWith('embeddings.position_ids')) continue; // a buffer of 0..n-1, not a weight
    const transposedTarget = TRANSPOSED[name];
    if (transposedTarget !== undefined) {
      out.set(transposedTarget, transpose2d(t, name, file));
      continue;
    }
    const direct = DIRECT_RENAMES.find(([re]) => re.test(name));
    if (direct) {
      out.set(name.replace(direct[0], direct[1]), t);
      continue;
    }
    const layer = /^(text|vision)_model\.encoder\.layers\.(\d+)\.(.+)$/.exec(name);
    if (layer) {
      const [, tower, index, rest] = layer as unknown as [string, string, string, string];
      const prefix = `${tower === 'text' ? '' : 'visual.'}transformer.resblocks.${index}.`;
      const proj = /^self_attn\.([qkv])_proj\.(weight|bias)$/.exec(rest);
      if (proj) {
        const key = `${prefix}attn.in_proj_${proj[2]}`;
        const parts = qkv.get(key) ?? {};
        parts[proj[1] as 'q' | 'k' | 'v'] = t;
        qkv.set(key, parts);
        continue;
      }
      const rename = LAYER_RENAMES.find(([re]) => re.test(rest));
      if (rename) {
        out.set(prefix + rest.replace(rename[0], rename[1]), t);
        continue;
      }
    }
    unknown.push(name);
  }
  if (unknown.length > 0) {
    throw new WeightsError(
      'HF_MAPPING',
      `Hugging Face keys without an OpenAI CLIP counterpart (${unknown.length}): ${unknown
        .slice(0, 30)
        .map((n) => cut(n))
        .join(', ')}`,
      { file },
    );
  }
  for (const [key, parts] of qkv) {
    const missing = (['q', 'k', 'v'] as const).filter((p) => parts[p] === undefined);
    if (missing.length > 0) {
      throw new WeightsError('HF_MAPPING', `${key}: the ${missing.join('/')} projection is missing`, { file });
    }
    out.set(key, concat0([parts.q!, parts.k!, parts.v!], key, file));
  }
  return out;
}

/**
 * OpenAI constructor arguments from a Hugging Face CLIP `config.json` (projection_dim, text_config, vision_config).
 * Checks that the checkpoint uses QuickGELU and OpenAI's head rule (width / 64 vision heads), which this
 * implementation follows.
 */
export function configFromHuggingFace(json: unknown, file = 'config.json'): ClipConfig {
  const bad = (msg: string): never => {
    throw new WeightsError('HF_MAPPING', msg, { file });
  };
  if (typeof json !== 'object' || json === null) return bad('config is not an object');
  const c = json as Record<string, unknown>;
  const text = (c.text_config ?? {}) as Record<string, unknown>;
  const vision = (c.vision_config ?? {}) as Record<string, unknown>;
  for (const [name, part] of [
    ['text_config', text],
    ['vision_config', vision],
  ] as const) {
    const act = part.hidden_act ?? 'quick_gelu';
    if (act !== 'quick_gelu')
      bad(`${name}.hidden_act is "${cut(String(act))}"; OpenAI's CLIP (and this implementation) uses quick_gelu`);
  }
  const visionWidth = vision.hidden_size ?? 768;
  const visionHeads = vision.num_attention_heads ?? 12;
  if (typeof visionWidth === 'number' && Math.floor(visionWidth / 64) !== visionHeads) {
    bad(
      `vision_config.num_attention_heads ${cut(String(visionHeads))} differs from OpenAI's rule hidden_size // 64 = ${Math.floor(visionWidth / 64)}`,
    );
  }
  try {
    return parseClipConfig(
      {
        embed_dim: c.projection_dim ?? 512,
        image_resolution: vision.image_size ?? 224,
        vision_layers: vision.num_hidden_layers ?? 12,
        vision_width: visionWidth,
        vision_patch_size: vision.patch_size ?? 32,
        context_length: text.max_position_embeddings ?? 77,
        vocab_size: text.vocab_size ?? 49408,
        transformer_width: text.hidden_size ?? 512,
        transformer_heads: text.num_attention_heads ?? 8,
        transformer_layers: text.num_hidden_layers ?? 12,
      },
      `${file} (Hugging Face config)`,
    );
  } catch (e) {
    throw new WeightsError('HF_MAPPING', cut((e as Error).message, 300), { file, cause: e });
  }
}
