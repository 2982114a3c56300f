// The command-line flags every example app shares (so apps stay thin), on node:util's parseArgs.
import { existsSync, statSync } from 'node:fs';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { FairclipError } from '@fairclip/io';

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

/** Stable codes of {@link CliError}. */
export type CliErrorCode =
  /** A bad flag or flag value (unknown option, missing value, a number that is not one). */
  | 'CLI_USAGE'
  /** A path the user gave (or its default) is missing, of the wrong kind, or not writable. */
  | 'CLI_PATH'
  /** The operating system refused an operation on a user's path (disk full, read-only, permissions). */
  | 'CLI_OS';

/**
 * A user mistake on the command line or in a given path: the apps print its message (one line) and exit with
 * code 2. A FairclipError (of @fairclip/io) like every package's errors.
 */
export class CliError extends FairclipError {
  override readonly code: CliErrorCode;
  constructor(message: string, code: CliErrorCode = 'CLI_USAGE', options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'CliError';
    this.code = code;
  }
}

/** A user-controlled text cut for an error message (at most `max` characters, then "…"). */
export function clip(text: string, max = 80): string {
  const t = String(text);
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/** Paths are cut longer than values (they are what the user must find). */
export const clipPath = (p: string): string => clip(p, 200);

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

/** Plain decimal integers (no sign, hex, octal, binary, exponent, fraction or separators). */
const DECIMAL_INTEGER = /^[0-9]+$/;
/** Plain decimal numbers: optional sign, digits with an optional fraction, optional decimal exponent. */
const DECIMAL_NUMBER = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;

/**
 * A strict decimal integer in [min, Number.MAX_SAFE_INTEGER] (2^53 − 1): "0x10", "1e3", "1.5", "-1", "+1", " 1",
 * "9007199254740993" (rounds to another number) are refused with a CliError naming the flag.
 */
export function parseIntegerFlag(flag: string, value: string, min = 0): number {
  const n = DECIMAL_INTEGER.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min)
    throw new CliError(
      `${flag}: expected a decimal integer from ${min} to ${Number.MAX_SAFE_INTEGER}, got "${clip(value)}"`,
    );
  return n;
}

/** A strict decimal number (e.g. 2e-5, -1e-6, 0.5; not 0x10, Infinity, NaN or an empty value), finite. */
export function parseNumberFlag(flag: string, value: string): number {
  const n = DECIMAL_NUMBER.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(n))
    throw new CliError(`${flag}: expected a decimal number such as 0.5 or 1e-6, got "${clip(value)}"`);
  return n;
}

/** The value as the user wrote it (e.g. "-1e-6"), once checked by parseNumberFlag. */
function numberText(flag: string, value: string): string {
  parseNumberFlag(flag, value);
  return value;
}

/** The shorthand flags and the overrides each one stands for (numbers checked strictly, named by their flag). */
const SHORTHANDS: Record<string, (v: string) => string[]> = {
  lambda: (v) => [`fairness.lambda=${numberText('--lambda', v)}`],
  lr: (v) => [`optim.lr=${numberText('--lr', v)}`],
  epochs: (v) => [`training.epochs=${parseIntegerFlag('--epochs', v, 1)}`],
  'batch-size': (v) => [`training.batchSize=${parseIntegerFlag('--batch-size', v, 1)}`],
  arch: (v) => [`model.arch=${JSON.stringify(v)}`],
  attribute: (v) => [
    `fairness.attributes=${JSON.stringify(Object.fromEntries(v.split(',').map((a) => [a.trim(), 1])))}`,
  ],
};

const OPTIONS = {
  preset: { type: 'string' },
  data: { type: 'string' },
  weights: { type: 'string', multiple: true },
  vocab: { type: 'string' },
  backend: { type: 'string' },
  seeds: { type: 'string' },
  out: { type: 'string' },
  set: { type: 'string', multiple: true },
  'allow-software-gpu': { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...Object.fromEntries(Object.keys(SHORTHANDS).map((k) => [k, { type: 'string' }])),
} satisfies ParseArgsConfig['options'];

const BACKENDS: readonly BackendChoice[] = ['auto', 'webgpu', 'wasm', 'cpu'];

function parseSeeds(v: string): number[] {
  const items = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = () =>
    new CliError(
      `--seeds: expected comma-separated decimal integers from 0 to ${Number.MAX_SAFE_INTEGER}, got "${clip(v)}"`,
    );
  if (items.length === 0) throw bad();
  return items.map((s) => {
    const n = DECIMAL_INTEGER.test(s) ? Number(s) : Number.NaN;
    if (!Number.isSafeInteger(n)) throw bad();
    return n;
  });
}

/**
 * Parses argv (without node and script). Unknown flags are errors; a flag given twice keeps its last value
 * (`--weights` and `--set` accumulate); `--set` and the shorthands give `overrides` in command-line order; a value
 * must follow its flag (`--out DIR` or `--out=DIR`; a separate value starting with `--` is taken as a missing value).
 */
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
  // Not strict: the checks below give the apps' own messages (and accept a separate value such as "-1e-6").
  const { tokens } = parseArgs({
    args: [...argv],
    options: OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind === 'positional') {
      args.rest.push(token.value);
      continue;
    }
    if (token.kind === 'option-terminator') throw new CliError('unknown option -- (see --help)');
    const { name, rawName } = token;
    const option = (OPTIONS as Record<string, { type: 'string' | 'boolean' }>)[name];
    if (option === undefined) throw new CliError(`unknown option ${clip(rawName)} (see --help)`);
    if (option.type === 'boolean') {
      if (name === 'allow-software-gpu') args.allowSoftwareAdapter = true;
      else if (name === 'quiet') args.quiet = true;
      else args.help = true;
      continue;
    }
    const value = token.value;
    if (value === undefined || (!token.inlineValue && value.startsWith('--')))
      throw new CliError(`${rawName} needs a value`);
    switch (name) {
      case 'preset':
        args.preset = value;
        break;
      case 'data':
        args.data = value;
        break;
      case 'weights':
        args.weights.push(value);
        break;
      case 'vocab':
        args.vocab = value;
        break;
      case 'backend':
        if (!(BACKENDS as readonly string[]).includes(value))
          throw new CliError(`--backend: expected auto, webgpu, wasm or cpu, got "${clip(value)}"`);
        args.backend = value as BackendChoice;
        break;
      case 'seeds':
        args.seeds = parseSeeds(value);
        break;
      case 'out':
        args.out = value;
        break;
      case 'set':
        args.overrides.push(value);
        break;
      default:
        args.overrides.push(...(SHORTHANDS[name] as (v: string) => string[])(value));
    }
  }
  return args;
}

/** Checks that user-given paths exist before any work starts; `layout` describes what was expected. */
export function checkPath(path: string, kind: 'file' | 'dir', what: string, layout: string): void {
  const p = clipPath(path);
  if (!existsSync(path)) throw new CliError(`${what} not found: ${p} (expected: ${layout})`, 'CLI_PATH');
  const st = statSync(path);
  if (kind === 'dir' && !st.isDirectory())
    throw new CliError(`${what} must be a folder: ${p} (expected: ${layout})`, 'CLI_PATH');
  if (kind === 'file' && !st.isFile())
    throw new CliError(`${what} must be a file: ${p} (expected: ${layout})`, 'CLI_PATH');
}
