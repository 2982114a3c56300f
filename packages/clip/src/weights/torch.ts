/**
 * PyTorch checkpoints (`torch.save`, zip format of torch ≥ 1.6): `<prefix>/data.pkl` holds the pickled object and
 * `<prefix>/data/<key>` the raw little-endian storages. Reads a state dict (a dict of tensors), or a training
 * checkpoint holding one under `model_state_dict` (FairCLIP's `clip_ep*.pth`), `state_dict` or `model`, with the
 * safe pickle subset of ./pickle.ts. TorchScript archives (OpenAI's JIT `.pt` files) and the pre-1.6 format are
 * refused with an error saying what to do instead.
 */
import { decodeBFloat16, decodeFloat16, listZipEntries, readZipEntry, type ZipEntry } from '@fairclip/io';
import { WeightsError } from './errors.ts';
import { PyDict, type PyValue, StorageRef, TensorRef, unpickle } from './pickle.ts';
import type { HostTensor, StateDict } from './state-dict.ts';

const STORAGE_TYPES: Record<string, { bytes: number; kind: 'F32' | 'F16' | 'BF16' | 'F64' | 'int'; signed?: boolean }> =
  {
    FloatStorage: { bytes: 4, kind: 'F32' },
    HalfStorage: { bytes: 2, kind: 'F16' },
    BFloat16Storage: { bytes: 2, kind: 'BF16' },
    DoubleStorage: { bytes: 8, kind: 'F64' },
    LongStorage: { bytes: 8, kind: 'int', signed: true },
    IntStorage: { bytes: 4, kind: 'int', signed: true },
    ShortStorage: { bytes: 2, kind: 'int', signed: true },
    CharStorage: { bytes: 1, kind: 'int', signed: true },
    ByteStorage: { bytes: 1, kind: 'int', signed: false },
    BoolStorage: { bytes: 1, kind: 'int', signed: false },
  };

/** Keys under which training checkpoints keep the model's state dict, in order of preference. */
export const STATE_DICT_KEYS: readonly string[] = ['model_state_dict', 'state_dict', 'model'];

export interface TorchCheckpoint {
  stateDict: StateDict;
  /** The top-level key the state dict was found under (null: the file is the state dict itself). */
  stateDictKey: string | null;
  /** Top-level scalar entries of a training checkpoint (epoch, loss, …). */
  extras: Record<string, string | number | boolean | null>;
  /** Storage dtype of each tensor (e.g. HalfStorage). */
  storageTypes: Map<string, string>;
  /** Other top-level keys (optimizer_state_dict, …), listed but not decoded. */
  otherKeys: string[];
}

/** 0x80 0x02, LONG1 of 10 bytes: torch's legacy serialisation magic number 0x1950a86a20f9469cfc6c. */
const LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

export function isLegacyTorchFile(bytes: Uint8Array): boolean {
  return LEGACY_MAGIC.every((b, i) => bytes[i] === b);
}

export function isZipFile(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

function isStateDict(v: PyValue | undefined): boolean {
  if (!(v instanceof PyDict) || v.map.size === 0) return false;
  for (const [k, t] of v.map) if (typeof k !== 'string' || !(t instanceof TensorRef)) return false;
  return true;
}

/** Copies a (possibly strided, possibly offset) view out of a decoded storage. */
function gather<T extends Float32Array | BigInt64Array>(
  storage: T,
  ref: TensorRef,
  make: (n: number) => T,
  name: string,
  file: string,
): T {
  const { size, stride, offset } = ref;
  let count = 1;
  let maxIndex = offset;
  for (let d = 0; d < size.length; d++) {
    const s = size[d]!;
    if (s < 0 || stride[d]! < 0)
      throw new WeightsError('BAD_TENSOR', `tensor "${name}": negative size or stride`, { file });
    count *= s;
    maxIndex += (s - 1) * stride[d]!;
  }
  if (!Number.isSafeInteger(count)) throw new WeightsError('BAD_TENSOR', `tensor "${name}": size overflow`, { file });
  if (count > 0 && (offset < 0 || maxIndex >= storage.length)) {
    throw new WeightsError(
      'BAD_TENSOR',
      `tensor "${name}": size [${size.join(', ')}], stride [${stride.join(', ')}], offset ${offset} reach element ${maxIndex} of a storage of ${storage.length}`,
      { file },
    );
  }
  const out = make(count);
  if (count === 0) return out;
  // Contiguous fast path.
  let contiguous = true;
  let expect = 1;
  for (let d = size.length - 1; d >= 0; d--) {
    if (size[d]! !== 1 && stride[d]! !== expect) contiguous = false;
    expect *= size[d]!;
  }
  if (contiguous) {
    out.set(storage.subarray(offset, offset + count) as never);
    return out;
  }
  const rank = size.length;
  const idx = new Array<number>(rank).fill(0);
  let src = offset;
  for (let i = 0; i < count; i++) {
    out[i] = storage[src]!;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      src += stride[d]!;
      if (idx[d]! < size[d]!) break;
      src -= stride[d]! * size[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

function decodeStorage(raw: Uint8Array, type: string, numel: number): Float32Array | BigInt64Array {
  const spec = STORAGE_TYPES[type]!;
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (spec.kind) {
    case 'F32': {
      const out = new Float32Array(numel);
      for (let i = 0; i < numel; i++) out[i] = dv.getFloat32(4 * i, true);
      return out;
    }
    case 'F16':
      return decodeFloat16(raw, numel);
    case 'BF16':
      return decodeBFloat16(raw, numel);
    case 'F64':
      return Float32Array.from({ length: numel }, (_, i) => dv.getFloat64(8 * i, true));
    case 'int': {
      const out = new BigInt64Array(numel);
      for (let i = 0; i < numel; i++) {
        const at = i * spec.bytes;
        switch (spec.bytes) {
          case 8:
            out[i] = dv.getBigInt64(at, true);
            break;
          case 4:
            out[i] = BigInt(dv.getInt32(at, true));
            break;
          case 2:
            out[i] = BigInt(dv.getInt16(at, true));
            break;
          default:
            out[i] = BigInt(spec.signed ? dv.getInt8(at) : dv.getUint8(at));
        }
      }
      return out;
    }
  }
}

/** Reads a PyTorch zip checkpoint holding a state dict (directly or in a training-checkpoint dict). */
export function readTorchCheckpoint(bytes: Uint8Array, file = 'checkpoint'): TorchCheckpoint {
  if (isLegacyTorchFile(bytes)) {
    throw new WeightsError(
      'LEGACY_TORCH_FORMAT',
      "PyTorch's pre-1.6 serialisation is not supported; re-save it with a current torch (torch.save(torch.load(f), f2)) or convert it to safetensors",
      { file },
    );
  }
  if (!isZipFile(bytes)) {
    throw new WeightsError('UNKNOWN_FORMAT', 'not a PyTorch zip checkpoint (no zip signature)', { file });
  }
  let entries: ZipEntry[];
  try {
    entries = listZipEntries(bytes, file);
  } catch (e) {
    throw new WeightsError('TRUNCATED', `the zip container is damaged or truncated: ${(e as Error).message}`, {
      file,
      cause: e,
    });
  }
  const byName = new Map(entries.map((e) => [e.name, e]));
  const pkl = entries.find((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  const torchScript = entries.some((e) => /^[^/]+\/(constants\.pkl|code\/)/.test(e.name));
  if (torchScript) {
    throw new WeightsError(
      'TORCHSCRIPT',
      "this is a TorchScript archive (e.g. OpenAI's JIT ViT-B-16.pt), which is not supported: in Python run " +
        "model, _ = clip.load(name, jit=False) and torch.save(model.state_dict(), 'state.pt') (or save safetensors), " +
        'or use the Hugging Face safetensors of the same model',
      { file },
    );
  }
  if (pkl === undefined) {
    throw new WeightsError('UNKNOWN_FORMAT', 'zip file without <archive>/data.pkl: not a torch.save checkpoint', {
      file,
    });
  }
  const prefix = pkl.name.slice(0, pkl.name.indexOf('/'));
  const read = (entry: ZipEntry): Uint8Array => {
    try {
      return readZipEntry(bytes, entry, file);
    } catch (e) {
      throw new WeightsError('TRUNCATED', `cannot read ${entry.name}: ${(e as Error).message}`, { file, cause: e });
    }
  };
  const order = byName.get(`${prefix}/byteorder`);
  if (order !== undefined) {
    const text = new TextDecoder().decode(read(order)).trim();
    if (text !== 'little') {
      throw new WeightsError('BAD_TENSOR', `storages are ${text}-endian; only little-endian checkpoints are read`, {
        file,
      });
    }
  }
  const root = unpickle(read(pkl), {
    file,
    persistentLoad: (pid) => {
      if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) {
        throw new WeightsError('PICKLE_UNSUPPORTED', 'persistent id is not a torch storage reference', { file });
      }
      const [, type, key, location, numel] = pid;
      const typeName =
        type && typeof type === 'object' && 'name' in type ? String((type as { name: string }).name) : '';
      if (!(typeName in STORAGE_TYPES)) {
        throw new WeightsError('UNSUPPORTED_DTYPE', `storage type ${typeName || String(type)} is not supported`, {
          file,
        });
      }
      if (typeof key !== 'string' || typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) {
        throw new WeightsError('PICKLE_CORRUPT', 'malformed storage reference', { file });
      }
      return new StorageRef(typeName, key, typeof location === 'string' ? location : '', numel);
    },
  });
  if (!(root instanceof PyDict)) {
    throw new WeightsError(
      'NOT_A_STATE_DICT',
      'the checkpoint is not a dict (expected a state dict or a training checkpoint)',
      {
        file,
      },
    );
  }
  let stateDictKey: string | null = null;
  let sdDict: PyDict | undefined;
  if (isStateDict(root)) {
    sdDict = root;
  } else {
    for (const k of STATE_DICT_KEYS) {
      if (isStateDict(root.map.get(k))) {
        stateDictKey = k;
        sdDict = root.map.get(k) as PyDict;
        break;
      }
    }
  }
  if (sdDict === undefined) {
    const keys = [...root.map.keys()].map(String).slice(0, 20);
    throw new WeightsError(
      'NOT_A_STATE_DICT',
      `no state dict found: the file is a dict with keys [${keys.join(', ')}]; expected a dict of tensors or one under ${STATE_DICT_KEYS.join(' / ')}`,
      { file },
    );
  }
  const extraEntries: [string, string | number | boolean | null][] = [];
  const otherKeys: string[] = [];
  if (stateDictKey !== null) {
    for (const [k, v] of root.map) {
      if (k === stateDictKey) continue;
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null) {
        extraEntries.push([String(k), v]);
      } else otherKeys.push(String(k));
    }
  }
  const extras: TorchCheckpoint['extras'] = Object.fromEntries(extraEntries);
  const storages = new Map<string, Float32Array | BigInt64Array>();
  const stateDict: StateDict = new Map();
  const storageTypes = new Map<string, string>();
  for (const [name, value] of sdDict.map) {
    const ref = value as TensorRef;
    const st = ref.storage;
    const cacheKey = `${st.key}:${st.storageType}`;
    let storage = storages.get(cacheKey);
    if (storage === undefined) {
      const entry = byName.get(`${prefix}/data/${st.key}`);
      if (entry === undefined) {
        throw new WeightsError('TRUNCATED', `storage ${st.key} of "${String(name)}" is missing from the archive`, {
          file,
        });
      }
      const spec = STORAGE_TYPES[st.storageType]!;
      const needBytes = st.numel * spec.bytes;
      if (entry.uncompressedSize < needBytes) {
        throw new WeightsError(
          'TRUNCATED',
          `storage ${st.key} of "${String(name)}" has ${entry.uncompressedSize} bytes, ${st.numel} × ${spec.bytes} needed`,
          { file },
        );
      }
      storage = decodeStorage(read(entry), st.storageType, st.numel);
      storages.set(cacheKey, storage);
    }
    const tensor: HostTensor =
      storage instanceof Float32Array
        ? { shape: ref.size, data: gather(storage, ref, (n) => new Float32Array(n), String(name), file) }
        : { shape: ref.size, data: gather(storage, ref, (n) => new BigInt64Array(n), String(name), file) };
    stateDict.set(String(name), tensor);
    storageTypes.set(String(name), st.storageType);
  }
  return { stateDict, stateDictKey, extras, storageTypes, otherKeys };
}
