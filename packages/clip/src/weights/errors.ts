import { FairclipError } from '@fairclip/io';
/** Errors of weight files: a stable `code`, the file concerned, a message that names the problem. */

export type WeightsErrorCode =
  /** The file could not be read or written. */
  | 'IO'
  /** Neither safetensors nor a PyTorch zip checkpoint. */
  | 'UNKNOWN_FORMAT'
  /** safetensors: header length beyond the file, bad JSON, bad shapes/offsets (overlap, gap, out of range). */
  | 'SAFETENSORS_CORRUPT'
  /** A dtype we do not decode (e.g. F8, complex) or cannot write. */
  | 'UNSUPPORTED_DTYPE'
  /** The checkpoint is shorter than its structure says (truncated download). */
  | 'TRUNCATED'
  /** A pickle opcode outside the supported subset, or a malformed pickle stream. */
  | 'PICKLE_UNSUPPORTED'
  | 'PICKLE_CORRUPT'
  /** A pickle GLOBAL outside the allow-list (a pickled Python object: nothing is ever executed). */
  | 'PICKLE_GLOBAL_NOT_ALLOWED'
  /** A TorchScript archive (e.g. OpenAI's JIT `ViT-B-16.pt`), which is not supported. */
  | 'TORCHSCRIPT'
  /** PyTorch's pre-1.6 (non-zip) serialisation. */
  | 'LEGACY_TORCH_FORMAT'
  /** The checkpoint holds no recognisable state dict (a dict of tensors, or one under `model_state_dict`/`state_dict`). */
  | 'NOT_A_STATE_DICT'
  /** A tensor's storage, size, stride or offset is inconsistent. */
  | 'BAD_TENSOR'
  /** Hugging Face names that do not map to OpenAI's (unknown key, missing q/k/v part). */
  | 'HF_MAPPING'
  /** The file declares more data than a cap allows (decoded bytes, header length): see WeightsLimits. */
  | 'TOO_LARGE'
  /** A floating-point weight holds NaN or ±Infinity (a diverged run or a damaged file). */
  | 'NON_FINITE'
  /** The zip container of a PyTorch checkpoint is inconsistent (e.g. two entries with one name). */
  | 'ARCHIVE_CORRUPT'
  /** The file's metadata (safetensors `__metadata__`, e.g. its `config`) is invalid. */
  | 'BAD_METADATA';

export class WeightsError extends FairclipError {
  override readonly name = 'WeightsError';
  override readonly code: WeightsErrorCode;
  readonly file: string | undefined;
  constructor(code: WeightsErrorCode, message: string, options: { file?: string | undefined; cause?: unknown } = {}) {
    super(code, options.file === undefined ? `${code}: ${message}` : `${code}: ${options.file}: ${message}`, {
      cause: options.cause,
    });
    this.code = code;
    this.file = options.file;
  }
}
