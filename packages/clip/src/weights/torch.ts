/**
 * PyTorch checkpoints (`torch.save`, zip format of torch ≥ 1.6): `<prefix>/data.pkl` holds the pickled object and
 * `<prefix>/data/<key>` the raw little-endian storages. Reads a state dict (a dict of tensors), or a training
 * checkpoint holding one under `model_state_dict` (FairCLIP's `clip_ep*.pth`), `state_dict` or `model`, with the
 * safe pickle subset of ./pickle.ts. TorchScript archives (OpenAI's JIT `.pt` files) and the pre-1.6 format are
 * refused with an error saying what to do instead.
 */
import { decodeBFloat16, decodeFloat16, isIoError, listZipEntries, readZipEntry, type ZipEntry } from '@fairclip/io';
import { cut, describeValue, pythonType, quoteName } from './describe.ts';
import { WeightsError } from './errors.ts';
import { DecodeBudget, type WeightsLimits } from './limits.ts';
import { PyDict, PyGlobal, type PyValue, StorageRef, TensorRef, unpickle } from './pickle.ts';
import type { StateDict } from './state-dict.ts';

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

/** True when `v` is a non-empty dict whose values are all tensors (keys are checked by checkStateDictKeys). */
function isTensorDict(v: PyValue | undefined): boolean {
  if (!(v instanceof PyDict) || v.map.size === 0) return false;
  for (const t of v.map.values()) if (!(t instanceof TensorRef)) return false;
  return true;
}

/** A state dict's keys are parameter names: a dict of tensors with any other key is refused before anything else. */
function checkStateDictKeys(d: PyDict, where: string, file: string): void {
  let i = 0;
  for (const k of d.map.keys()) {
    if (typeof k !== 'string') {
      throw new WeightsError(
        'NOT_A_STATE_DICT',
        `${where}: key #${i} is a ${pythonType(k)} (${describeValue(k)}), not a string; a state dict maps parameter names to tensors (re-save model.state_dict())`,
        { file },
      );
    }
    i++;
  }
}

interface OutputPlan {
  name: string;
  ref: TensorRef;
  cacheKey: string;
  count: number;
  /** The decoded storage itself is the tensor (contiguous, offset 0, whole storage, its only user). */
  reuse: boolean;
}

/** Element count and the largest storage index a view reaches; throws BAD_TENSOR when it leaves its storage. */
function checkView(ref: TensorRef, name: string, file: string): { count: number; contiguous: boolean } {
  const { size, stride, offset } = ref;
  const numel = ref.storage.numel;
  const label = quoteName(name);
  const shapeText = (): string => cut(`size [${size.join(', ')}], stride [${stride.join(', ')}], offset ${offset}`);
  let count = 1;
  let maxIndex = offset;
  for (let d = 0; d < size.length; d++) {
    const s = size[d]!;
    const st = stride[d]!;
    if (s < 0 || st < 0) throw new WeightsError('BAD_TENSOR', `tensor ${label}: negative size or stride`, { file });
    count *= s;
    if (s > 0) maxIndex += (s - 1) * st;
  }
  if (!Number.isSafeInteger(count)) {
    throw new WeightsError('BAD_TENSOR', `tensor ${label}: ${shapeText()} has an absurd element count`, { file });
  }
  if (count > 0 && (offset < 0 || !(maxIndex < numel))) {
    throw new WeightsError(
      'BAD_TENSOR',
      `tensor ${label}: ${shapeText()} reach element ${maxIndex} of a storage of ${numel}`,
      { file },
    );
  }
  let contiguous = true;
  let expect = 1;
  for (let d = size.length - 1; d >= 0; d--) {
    if (size[d]! !== 1 && stride[d]! !== expect) contiguous = false;
    expect *= size[d]!;
  }
  return { count, contiguous };
}

/** Copies a (possibly strided, possibly offset) view out of a decoded storage (checked by checkView). */
function gather<T extends Float32Array | BigInt64Array>(storage: T, ref: TensorRef, count: number, out: T): T {
  const { size, stride, offset } = ref;
  if (count === 0) return out;
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

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function decodeStorage(raw: Uint8Array, type: string, numel: number): Float32Array | BigInt64Array {
  const spec = STORAGE_TYPES[type]!;
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (spec.kind) {
    case 'F32': {
      if (LITTLE_ENDIAN) {
        const copy = new Uint8Array(numel * 4); // aligned copy (a Node Buffer may share its pool)
        copy.set(raw.subarray(0, numel * 4));
        return new Float32Array(copy.buffer);
      }
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

export interface ReadTorchOptions extends WeightsLimits {
  /**
   * Called with every tensor's name and shape once the pickle is read and before any tensor data is decoded (a model
   * whose shapes are known refuses mismatching weights here, before anything large is allocated).
   */
  checkShapes?: (shapes: ReadonlyMap<string, readonly number[]>) => void;
}

/** Reads a PyTorch zip checkpoint holding a state dict (directly or in a training-checkpoint dict). */
export function readTorchCheckpoint(
  bytes: Uint8Array,
  file = 'checkpoint',
  options: ReadTorchOptions = {},
): TorchCheckpoint {
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
    if (isIoError(e, 'ZIP_CORRUPT') && /duplicate entry/.test(e.detail)) {
      throw new WeightsError('ARCHIVE_CORRUPT', `${cut(e.detail, 200)}: which one is meant is ambiguous`, {
        file,
        cause: e,
      });
    }
    throw new WeightsError('TRUNCATED', `the zip container is damaged or truncated: ${(e as Error).message}`, {
      file,
      cause: e,
    });
  }
  const byName = new Map<string, ZipEntry>();
  for (const e of entries) {
    if (byName.has(e.name)) {
      throw new WeightsError(
        'ARCHIVE_CORRUPT',
        `the zip container holds two entries named ${quoteName(e.name)}: which one is meant is ambiguous (corrupt or tampered file)`,
        { file },
      );
    }
    byName.set(e.name, e);
  }
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
  const budget = new DecodeBudget(file, bytes.length, options.maxDecodedBytes);
  const prefix = pkl.name.slice(0, pkl.name.indexOf('/'));
  const read = (entry: ZipEntry, charge = true): Uint8Array => {
    // Stored entries are views into `bytes`; deflated ones are inflated into a buffer of their declared size.
    if (charge && entry.method !== 0)
      budget.charge(entry.uncompressedSize, `zip entry ${quoteName(entry.name)} (inflated)`);
    try {
      // The decode budget above is the cap (stored entries are views and cost nothing).
      return readZipEntry(bytes, entry, file, {
        maxEntryBytes: entry.uncompressedSize,
        capHint: 'if the file is genuine, raise the cap with { maxDecodedBytes }',
      });
    } catch (e) {
      const code = isIoError(e, 'TOO_LARGE') ? 'TOO_LARGE' : 'TRUNCATED';
      throw new WeightsError(code, `cannot read ${quoteName(entry.name)}: ${cut((e as Error).message, 300)}`, {
        file,
        cause: e,
      });
    }
  };
  const order = byName.get(`${prefix}/byteorder`);
  if (order !== undefined) {
    if (order.uncompressedSize > 16) {
      throw new WeightsError('ARCHIVE_CORRUPT', `${prefix}/byteorder declares ${order.uncompressedSize} bytes`, {
        file,
      });
    }
    const text = new TextDecoder().decode(read(order)).trim();
    if (text !== 'little') {
      throw new WeightsError(
        'BAD_TENSOR',
        `storages are ${quoteName(text)}-endian; only little-endian checkpoints are read`,
        { file },
      );
    }
  }
  const root = unpickle(read(pkl), {
    file,
    persistentLoad: (pid) => {
      if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) {
        throw new WeightsError('PICKLE_UNSUPPORTED', 'persistent id is not a torch storage reference', { file });
      }
      const [, type, key, location, numel] = pid;
      const typeName = type instanceof PyGlobal && type.module === 'torch' ? type.name : '';
      if (!Object.hasOwn(STORAGE_TYPES, typeName)) {
        throw new WeightsError(
          'UNSUPPORTED_DTYPE',
          `storage type ${typeName || describeValue(type ?? null)} is not supported`,
          { file },
        );
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
      `the checkpoint is a ${pythonType(root)}, not a dict (expected a state dict or a training checkpoint)`,
      { file },
    );
  }
  let stateDictKey: string | null = null;
  let sdDict: PyDict | undefined;
  if (isTensorDict(root)) {
    checkStateDictKeys(root, 'the state dict', file);
    sdDict = root;
  } else {
    for (const k of STATE_DICT_KEYS) {
      const candidate = root.map.get(k);
      if (isTensorDict(candidate)) {
        checkStateDictKeys(candidate as PyDict, `the state dict under "${k}"`, file);
        stateDictKey = k;
        sdDict = candidate as PyDict;
        break;
      }
    }
  }
  if (sdDict === undefined) {
    const keys: string[] = [];
    for (const k of root.map.keys()) {
      if (keys.length === 20) {
        keys.push(`… (${root.map.size - 20} more)`);
        break;
      }
      keys.push(typeof k === 'string' ? cut(k, 40) : describeValue(k, 40));
    }
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
      const key = typeof k === 'string' ? k : describeValue(k);
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null) {
        extraEntries.push([key, v]);
      } else otherKeys.push(key);
    }
  }
  const extras: TorchCheckpoint['extras'] = Object.fromEntries(extraEntries);

  // Plan: every view checked against its storage's declared size and every storage entry against the pickle, before
  // any tensor data is read.
  const plans: OutputPlan[] = [];
  const users = new Map<string, number>();
  const shapes = new Map<string, readonly number[]>();
  for (const [k, value] of sdDict.map) {
    const name = k as string;
    const ref = value as TensorRef;
    const st = ref.storage;
    const entry = byName.get(`${prefix}/data/${st.key}`);
    if (entry === undefined) {
      throw new WeightsError(
        'TRUNCATED',
        `storage ${quoteName(st.key)} of ${quoteName(name)} is missing from the archive`,
        { file },
      );
    }
    const spec = STORAGE_TYPES[st.storageType]!;
    const needBytes = st.numel * spec.bytes;
    if (entry.uncompressedSize !== needBytes) {
      throw new WeightsError(
        entry.uncompressedSize < needBytes ? 'TRUNCATED' : 'BAD_TENSOR',
        `storage ${quoteName(st.key)} of ${quoteName(name)} has ${entry.uncompressedSize} bytes, its pickle says ${st.numel} × ${spec.bytes}`,
        { file },
      );
    }
    const { count, contiguous } = checkView(ref, name, file);
    const cacheKey = `${st.key}:${st.storageType}`;
    users.set(cacheKey, (users.get(cacheKey) ?? 0) + 1);
    plans.push({ name, ref, cacheKey, count, reuse: contiguous && ref.offset === 0 && count === st.numel });
    shapes.set(name, ref.size);
  }
  options.checkShapes?.(shapes);
  const charged = new Set<string>();
  for (const plan of plans) {
    const st = plan.ref.storage;
    const outBytes = STORAGE_TYPES[st.storageType]!.kind === 'int' ? 8 : 4;
    plan.reuse &&= users.get(plan.cacheKey) === 1;
    if (!charged.has(plan.cacheKey)) {
      charged.add(plan.cacheKey);
      const entry = byName.get(`${prefix}/data/${st.key}`)!;
      if (entry.method !== 0) budget.charge(entry.uncompressedSize, `storage ${quoteName(st.key)} (inflated)`);
      budget.charge(st.numel * outBytes, `storage ${quoteName(st.key)} of ${quoteName(plan.name)} (decoded)`);
    }
    if (!plan.reuse) {
      budget.charge(
        plan.count * outBytes,
        `tensor ${quoteName(plan.name)} [${cut(plan.ref.size.join(', '), 60)}] (${plan.count} elements)`,
      );
    }
  }

  const storages = new Map<string, Float32Array | BigInt64Array>();
  const stateDict: StateDict = new Map();
  const storageTypes = new Map<string, string>();
  for (const plan of plans) {
    const st = plan.ref.storage;
    let storage = storages.get(plan.cacheKey);
    if (storage === undefined) {
      const entry = byName.get(`${prefix}/data/${st.key}`)!;
      storage = decodeStorage(read(entry, false), st.storageType, st.numel); // charged above
      if (!plan.reuse) storages.set(plan.cacheKey, storage);
    }
    let data: Float32Array | BigInt64Array;
    if (plan.reuse) data = storage;
    else if (storage instanceof Float32Array)
      data = gather(storage, plan.ref, plan.count, new Float32Array(plan.count));
    else data = gather(storage, plan.ref, plan.count, new BigInt64Array(plan.count));
    stateDict.set(plan.name, { shape: plan.ref.size, data });
    storageTypes.set(plan.name, st.storageType);
  }
  return { stateDict, stateDictKey, extras, storageTypes, otherKeys };
}
