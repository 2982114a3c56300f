// Shared command-line parsing for the example apps: every app takes the same flags, so apps stay thin.
import { existsSync, statSync } from 'node:fs';

export type BackendChoice = 'auto' | 'webgpu' | 'wasm' | 'cpu';

export interface RunArgs {
  preset: string;
  /** Dataset root; null = the embedded synthetic FairVLMed. */
  data: string | null;
  /** Weights files (several allowed for apps that compare checkpoints). */
  weights: string[];
  vocab: string | null;
  backend: BackendChoice;
  /** Seeds to run; empty = the preset's seed. */
  seeds: number[];
  out: string;
  /** Field overrides "a.b=value", in order. */
  overrides: string[];
  allowSoftwareAdapter: boolean;
  quiet: boolean;
  help: boolean;
  /** Positional arguments left over. */
  rest: string[];
}

export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

export const COMMON_HELP = `Common options:
  --preset NAME          variant preset (see @fairclip/train presets)
  --data DIR             dataset root (default: the embedded synthetic FairVLMed in test-fixtures)
  --weights FILE         CLIP weights (.safetensors, OpenAI or Hugging Face names; .pt/.pth state dicts); repeatable
  --vocab FILE           BPE vocabulary (bpe_simple_vocab_16e6.txt.gz or a merges file)
  --backend B            auto | webgpu | wasm | cpu (default auto: hardware WebGPU, else wasm, else cpu)
  --allow-software-gpu   let 'auto'/'webgpu' use a software adapter (lavapipe, SwiftShader)
  --seeds LIST           comma-separated seeds, e.g. 1,2,3
  --out DIR              output folder (finished work there is reused: rerun to resume)
  --set FIELD=VALUE      override any preset field, e.g. --set fairness.lambda=1e-6 (repeatable)
  --lambda X --lr X --epochs N --batch-size N --attribute A   shorthands for common overrides
  --quiet                no progress bar
  --help`;

const SHORTHANDS: Record<string, (v: string) => string[]> = {
  '--lambda': (v) => [`fairness.lambda=${v}`],
  '--lr': (v) => [`optim.lr=${v}`],
  '--epochs': (v) => [`training.epochs=${v}`],
  '--batch-size': (v) => [`training.batchSize=${v}`],
  '--arch': (v) => [`model.arch=${JSON.stringify(v)}`],
  '--attribute': (v) => [
    `fairness.attributes=${JSON.stringify(Object.fromEntries(v.split(',').map((a) => [a.trim(), 1])))}`,
  ],
};

function parseSeeds(v: string): number[] {
  const seeds = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0))
    throw new CliError(`--seeds: expected comma-separated non-negative integers, got "${v}"`);
  return seeds;
}

/** Parses argv (without node and script). Unknown flags are errors. */
export function parseRunArgs(argv: readonly string[], defaults: { preset: string; out: string }): RunArgs {
  const args: RunArgs = {
    preset: defaults.preset,
    data: null,
    weights: [],
    vocab: null,
    backend: 'auto',
    seeds: [],
    out: defaults.out,
    overrides: [],
    allowSoftwareAdapter: false,
    quiet: false,
    help: false,
    rest: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const [flag, inline] =
      raw.startsWith('--') && raw.includes('=') && !raw.startsWith('--set=')
        ? [raw.slice(0, raw.indexOf('=')), raw.slice(raw.indexOf('=') + 1)]
        : [raw, undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new CliError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--preset':
        args.preset = value();
        break;
      case '--data':
        args.data = value();
        break;
      case '--weights':
        args.weights.push(value());
        break;
      case '--vocab':
        args.vocab = value();
        break;
      case '--backend': {
        const b = value();
        if (!['auto', 'webgpu', 'wasm', 'cpu'].includes(b))
          throw new CliError(`--backend: expected auto, webgpu, wasm or cpu, got "${b}"`);
        args.backend = b as BackendChoice;
        break;
      }
      case '--seeds':
        args.seeds = parseSeeds(value());
        break;
      case '--out':
        args.out = value();
        break;
      case '--set':
        args.overrides.push(value());
        break;
      case '--allow-software-gpu':
        args.allowSoftwareAdapter = true;
        break;
      case '--quiet':
        args.quiet = true;
        break;
      case '--help':
      case '-h':
        args.help = true;
        break;
      default: {
        if (raw.startsWith('--set=')) {
          args.overrides.push(raw.slice('--set='.length));
          break;
        }
        const short = SHORTHANDS[flag];
        if (short) {
          args.overrides.push(...short(value()));
          break;
        }
        if (flag.startsWith('-')) throw new CliError(`unknown option ${flag} (see --help)`);
        args.rest.push(raw);
      }
    }
  }
  return args;
}

/** Checks that user-given paths exist before any work starts; `layout` describes what was expected. */
export function checkPath(path: string, kind: 'file' | 'dir', what: string, layout: string): void {
  if (!existsSync(path)) throw new CliError(`${what} not found: ${path}\nExpected: ${layout}`);
  const st = statSync(path);
  if (kind === 'dir' && !st.isDirectory()) throw new CliError(`${what} must be a folder: ${path}\nExpected: ${layout}`);
  if (kind === 'file' && !st.isFile()) throw new CliError(`${what} must be a file: ${path}\nExpected: ${layout}`);
}
