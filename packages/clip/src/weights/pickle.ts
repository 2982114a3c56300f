/**
 * A pickle reader for what `torch.save` writes for state dicts and training checkpoints: pure data, never code.
 *
 * Supported: protocol 2 (torch's default) and the protocol 3–4 opcodes for bytes, short strings, memoize, frames
 * and STACK_GLOBAL. GLOBAL/STACK_GLOBAL names must be in an allow-list (collections.OrderedDict, torch's tensor and
 * parameter rebuild functions, torch.*Storage types); REDUCE may only call the allow-listed functions, which this
 * module implements itself as data constructors. BINPERSID storage references are resolved by the caller. Every
 * length is checked against the remaining input before anything is allocated; no recursion depends on the input.
 */
import { WeightsError } from './errors.ts';

/** A Python dict (or OrderedDict), keys in insertion order. */
export class PyDict {
  readonly map = new Map<PyKey, PyValue>();
  /** Attributes set by BUILD (OrderedDict state dicts carry `_metadata`). */
  attributes: PyValue = null;
}

/** A reference to a Python global that is allowed as a value (storage classes). */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** `torch.save`'s persistent id of a storage: ('storage', type, key, location, numel). */
export class StorageRef {
  constructor(
    readonly storageType: string,
    readonly key: string,
    readonly location: string,
    readonly numel: number,
  ) {}
}

/** A tensor as `torch._utils._rebuild_tensor_v2` describes it. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

export type PyKey = string | number | bigint | boolean | null;
export type PyValue = PyKey | Uint8Array | PyValue[] | PyDict | PyGlobal | StorageRef | TensorRef;

/** Allowed globals. Storage types become PyGlobal values; callables are implemented below. */
export const ALLOWED_GLOBALS: readonly string[] = [
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'torch.FloatStorage',
  'torch.HalfStorage',
  'torch.BFloat16Storage',
  'torch.DoubleStorage',
  'torch.LongStorage',
  'torch.IntStorage',
  'torch.ShortStorage',
  'torch.CharStorage',
  'torch.ByteStorage',
  'torch.BoolStorage',
];

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

export interface UnpickleOptions {
  /** Resolves a BINPERSID id (torch: a tuple ('storage', type, key, location, numel)). */
  persistentLoad?: (pid: PyValue) => PyValue;
  /** File name for error messages. */
  file?: string;
}

const OPCODE_NAMES: Record<number, string> = {
  128: 'PROTO',
  149: 'FRAME',
  46: 'STOP',
  40: 'MARK',
  41: 'EMPTY_TUPLE',
  133: 'TUPLE1',
  134: 'TUPLE2',
  135: 'TUPLE3',
  116: 'TUPLE',
  93: 'EMPTY_LIST',
  97: 'APPEND',
  101: 'APPENDS',
  108: 'LIST',
  125: 'EMPTY_DICT',
  115: 'SETITEM',
  117: 'SETITEMS',
  100: 'DICT',
  78: 'NONE',
  136: 'NEWTRUE',
  137: 'NEWFALSE',
  75: 'BININT1',
  77: 'BININT2',
  74: 'BININT',
  138: 'LONG1',
  139: 'LONG4',
  71: 'BINFLOAT',
  88: 'BINUNICODE',
  140: 'SHORT_BINUNICODE',
  141: 'BINUNICODE8',
  85: 'SHORT_BINSTRING',
  84: 'BINSTRING',
  67: 'SHORT_BINBYTES',
  66: 'BINBYTES',
  113: 'BINPUT',
  114: 'LONG_BINPUT',
  148: 'MEMOIZE',
  104: 'BINGET',
  106: 'LONG_BINGET',
  99: 'GLOBAL',
  147: 'STACK_GLOBAL',
  82: 'REDUCE',
  81: 'BINPERSID',
  98: 'BUILD',
  48: 'POP',
  49: 'POP_MARK',
  50: 'DUP',
};

/** Names of opcodes we do not execute, for the error message (the rest of the pickle opcode table). */
const UNSUPPORTED_NAMES: Record<number, string> = {
  129: 'NEWOBJ',
  146: 'NEWOBJ_EX',
  105: 'INST',
  111: 'OBJ',
  80: 'PERSID',
  73: 'INT',
  76: 'LONG',
  70: 'FLOAT',
  83: 'STRING',
  86: 'UNICODE',
  112: 'PUT',
  103: 'GET',
  130: 'EXT1',
  131: 'EXT2',
  132: 'EXT4',
  143: 'EMPTY_SET',
  144: 'ADDITEMS',
  145: 'FROZENSET',
  150: 'BYTEARRAY8',
  151: 'NEXT_BUFFER',
  152: 'READONLY_BUFFER',
  142: 'BINBYTES8',
};

function isStringKey(v: PyValue): v is string {
  return typeof v === 'string';
}

/** Parses a pickle stream into plain values (see the module comment for what is accepted). */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions = {}): PyValue {
  const file = options.file;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let pos = 0;
  const stack: StackItem[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();

  const fail = (code: 'PICKLE_CORRUPT' | 'PICKLE_UNSUPPORTED' | 'TRUNCATED', msg: string): never => {
    throw new WeightsError(code, `pickle offset ${pos}: ${msg}`, { file });
  };
  const need = (n: number): void => {
    if (!Number.isSafeInteger(n) || n < 0 || pos + n > bytes.length) {
      fail('TRUNCATED', `needs ${n} more bytes, only ${bytes.length - pos} left (truncated or corrupt pickle)`);
    }
  };
  const u8 = () => {
    need(1);
    return bytes[pos++]!;
  };
  const u16 = () => {
    need(2);
    const v = dv.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = () => {
    need(4);
    const v = dv.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = () => {
    need(8);
    const v = dv.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('PICKLE_CORRUPT', `length ${v} is too large`);
    return Number(v);
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const text = (n: number): string => {
    const raw = take(n);
    try {
      return utf8.decode(raw);
    } catch (e) {
      return fail('PICKLE_CORRUPT', `invalid UTF-8 in a string (${(e as Error).message})`);
    }
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0 || end - pos > 1000) fail('PICKLE_CORRUPT', 'unterminated GLOBAL name');
    const s = new TextDecoder('latin1').decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined) return fail('PICKLE_CORRUPT', 'stack underflow');
    if (v === MARK) return fail('PICKLE_CORRUPT', 'unexpected MARK on the stack');
    return v;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) return fail('PICKLE_CORRUPT', 'stack underflow');
    return v;
  };
  /** Pops everything above the last MARK and the MARK itself. */
  const popMark = (): PyValue[] => {
    const m = marks.pop();
    if (m === undefined) return fail('PICKLE_CORRUPT', 'no MARK to pop to');
    const items = stack.splice(m);
    items.shift(); // the MARK
    return items as PyValue[];
  };
  const push = (v: PyValue): void => {
    stack.push(v);
  };
  const signedInt = (raw: Uint8Array): number | bigint => {
    if (raw.length === 0) return 0;
    let v = 0n;
    for (let i = raw.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(raw[i]!);
    if (raw[raw.length - 1]! & 0x80) v -= 1n << BigInt(8 * raw.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const global = (module: string, name: string): PyValue => {
    const q = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.includes(q)) {
      const hint = module.startsWith('__torch__')
        ? ' (TorchScript objects: this looks like a JIT archive)'
        : ' (the file pickles a Python object, e.g. torch.save(model) instead of torch.save(model.state_dict()); re-save the state dict, or convert to safetensors)';
      throw new WeightsError(
        'PICKLE_GLOBAL_NOT_ALLOWED',
        `pickle offset ${pos}: global ${q.length <= 160 ? q : `${q.slice(0, 160)}…`} is not in the allow-list${hint}; nothing was executed`,
        { file },
      );
    }
    return new PyGlobal(module, name);
  };
  const toInt = (v: PyValue, what: string): number => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail('PICKLE_CORRUPT', `${what} is not an integer`);
    return v as number;
  };
  const reduce = (callable: PyValue, args: PyValue): PyValue => {
    if (!(callable instanceof PyGlobal)) return fail('PICKLE_UNSUPPORTED', 'REDUCE on a value that is not a global');
    if (!Array.isArray(args)) return fail('PICKLE_CORRUPT', 'REDUCE arguments are not a tuple');
    switch (callable.qualified) {
      case 'collections.OrderedDict': {
        const d = new PyDict();
        const items = args[0];
        if (Array.isArray(items)) {
          for (const pair of items) {
            if (!Array.isArray(pair) || pair.length !== 2) fail('PICKLE_CORRUPT', 'OrderedDict item is not a pair');
            d.map.set((pair as PyValue[])[0] as PyKey, (pair as PyValue[])[1]!);
          }
        }
        return d;
      }
      case 'torch._utils._rebuild_tensor_v2': {
        const [storage, offset, size, stride] = args;
        if (!(storage instanceof StorageRef))
          return fail('PICKLE_CORRUPT', '_rebuild_tensor_v2: first argument is not a storage');
        if (!Array.isArray(size) || !Array.isArray(stride) || size.length !== stride.length) {
          return fail('PICKLE_CORRUPT', '_rebuild_tensor_v2: size and stride must be tuples of equal length');
        }
        return new TensorRef(
          storage,
          toInt(offset ?? null, 'storage offset'),
          size.map((s) => toInt(s, 'size')),
          stride.map((s) => toInt(s, 'stride')),
        );
      }
      case 'torch._utils._rebuild_parameter':
      case 'torch._utils._rebuild_parameter_with_state': {
        const data = args[0];
        if (!(data instanceof TensorRef)) return fail('PICKLE_CORRUPT', `${callable.name}: data is not a tensor`);
        return data;
      }
      default:
        return fail(
          'PICKLE_UNSUPPORTED',
          `REDUCE of ${callable.qualified} is not supported (only data constructors are)`,
        );
    }
  };

  for (;;) {
    const opAt = pos;
    const op = u8();
    switch (op) {
      case 0x80: {
        const proto = u8();
        if (proto > 5) fail('PICKLE_UNSUPPORTED', `pickle protocol ${proto}`);
        break;
      }
      case 0x95:
        u64(); // FRAME: a length hint only
        break;
      case 0x2e: {
        const result = pop();
        if (stack.length !== 0) fail('PICKLE_CORRUPT', 'values left on the stack at STOP');
        return result;
      }
      case 0x28:
        marks.push(stack.length);
        stack.push(MARK);
        break;
      case 0x29:
        push([]);
        break;
      case 0x85:
        push([pop()]);
        break;
      case 0x86: {
        const b = pop();
        const a = pop();
        push([a, b]);
        break;
      }
      case 0x87: {
        const c = pop();
        const b = pop();
        const a = pop();
        push([a, b, c]);
        break;
      }
      case 0x74:
      case 0x6c: {
        push(popMark());
        break;
      }
      case 0x5d:
        push([]);
        break;
      case 0x61: {
        const v = pop();
        const list = top();
        if (!Array.isArray(list)) fail('PICKLE_CORRUPT', 'APPEND to a non-list');
        (list as PyValue[]).push(v);
        break;
      }
      case 0x65: {
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) fail('PICKLE_CORRUPT', 'APPENDS to a non-list');
        for (const v of items) (list as PyValue[]).push(v);
        break;
      }
      case 0x7d:
        push(new PyDict());
        break;
      case 0x73: {
        const v = pop();
        const k = pop();
        const d = top();
        if (!(d instanceof PyDict)) fail('PICKLE_CORRUPT', 'SETITEM on a non-dict');
        (d as PyDict).map.set(k as PyKey, v);
        break;
      }
      case 0x75:
      case 0x64: {
        const items = popMark();
        if (items.length % 2 !== 0) fail('PICKLE_CORRUPT', 'odd number of items for a dict');
        let d: PyDict;
        if (op === 0x64) {
          d = new PyDict();
        } else {
          const t = top();
          if (!(t instanceof PyDict)) return fail('PICKLE_CORRUPT', 'SETITEMS on a non-dict');
          d = t;
        }
        for (let i = 0; i < items.length; i += 2) d.map.set(items[i] as PyKey, items[i + 1]!);
        if (op === 0x64) push(d);
        break;
      }
      case 0x4e:
        push(null);
        break;
      case 0x88:
        push(true);
        break;
      case 0x89:
        push(false);
        break;
      case 0x4b:
        push(u8());
        break;
      case 0x4d:
        push(u16());
        break;
      case 0x4a: {
        need(4);
        push(dv.getInt32(pos, true));
        pos += 4;
        break;
      }
      case 0x8a:
        push(signedInt(take(u8())));
        break;
      case 0x8b: {
        const n = u32();
        if (n > 64) fail('PICKLE_UNSUPPORTED', `LONG4 of ${n} bytes`);
        push(signedInt(take(n)));
        break;
      }
      case 0x47: {
        need(8);
        push(dv.getFloat64(pos, false)); // big-endian
        pos += 8;
        break;
      }
      case 0x58:
        push(text(u32()));
        break;
      case 0x8c:
        push(text(u8()));
        break;
      case 0x8d:
        push(text(u64()));
        break;
      case 0x55:
        push(new TextDecoder('latin1').decode(take(u8())));
        break;
      case 0x54: {
        need(4);
        const n = dv.getInt32(pos, true);
        pos += 4;
        if (n < 0) fail('PICKLE_CORRUPT', 'negative BINSTRING length');
        push(new TextDecoder('latin1').decode(take(n)));
        break;
      }
      case 0x43:
        push(take(u8()).slice());
        break;
      case 0x42:
        push(take(u32()).slice());
        break;
      case 0x71:
        memo.set(u8(), top());
        break;
      case 0x72:
        memo.set(u32(), top());
        break;
      case 0x94:
        memo.set(memo.size, top());
        break;
      case 0x68:
      case 0x6a: {
        const idx = op === 0x68 ? u8() : u32();
        if (!memo.has(idx)) fail('PICKLE_CORRUPT', `memo ${idx} was never stored`);
        push(memo.get(idx)!);
        break;
      }
      case 0x63: {
        const module = line();
        const name = line();
        push(global(module, name));
        break;
      }
      case 0x93: {
        const name = pop();
        const module = pop();
        if (!isStringKey(module) || !isStringKey(name)) fail('PICKLE_CORRUPT', 'STACK_GLOBAL needs two strings');
        push(global(module as string, name as string));
        break;
      }
      case 0x52: {
        const args = pop();
        const callable = pop();
        push(reduce(callable, args));
        break;
      }
      case 0x51: {
        const pid = pop();
        if (options.persistentLoad === undefined) fail('PICKLE_UNSUPPORTED', 'persistent id without a resolver');
        push(options.persistentLoad!(pid));
        break;
      }
      case 0x62: {
        const state = pop();
        const obj = top();
        if (obj instanceof PyDict) obj.attributes = state;
        else fail('PICKLE_UNSUPPORTED', 'BUILD on a value that is not an OrderedDict');
        break;
      }
      case 0x30:
        pop();
        break;
      case 0x31:
        popMark();
        break;
      case 0x32:
        push(top());
        break;
      default: {
        pos = opAt;
        const name = UNSUPPORTED_NAMES[op] ?? OPCODE_NAMES[op] ?? `0x${op.toString(16).padStart(2, '0')}`;
        fail(
          'PICKLE_UNSUPPORTED',
          `opcode ${name} (0x${op.toString(16).padStart(2, '0')}) is outside the supported subset (what torch.save writes for state dicts)`,
        );
      }
    }
  }
}
