/**
 * Bounded descriptions of values read from weight files, for error messages. A file controls its names, keys and
 * values, so nothing it holds is printed whole: strings are cut to a short length, and a structure (a pickled tuple
 * can share its parts through the memo, so a 436-byte pickle can hold a tuple of 2^34 leaves) is walked over at most
 * a fixed number of nodes and characters.
 */
import { PyDict, PyGlobal, type PyValue, StorageRef, TensorRef } from './pickle.ts';

/** Longest piece of user-controlled text an error message prints. */
export const MAX_SHOWN_CHARS = 80;

/** A string cut to `max` characters (an ellipsis marks the cut). */
export function cut(text: string, max = MAX_SHOWN_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/** A name from a file, quoted and cut: "visual.proj", "aaaa…". */
export function quoteName(name: string, max = MAX_SHOWN_CHARS): string {
  return JSON.stringify(cut(name, max));
}

/** What kind of Python value `v` is, in Python's words (for "a tuple, not a string"). */
export function pythonType(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof Uint8Array) return 'bytes';
  if (Array.isArray(v)) return 'tuple';
  if (v instanceof PyDict) return 'dict';
  if (v instanceof PyGlobal) return 'global';
  if (v instanceof StorageRef) return 'storage';
  if (v instanceof TensorRef) return 'tensor';
  return 'value';
}

class Literal {
  constructor(readonly text: string) {}
}

/**
 * A short, bounded rendering of a pickled value: at most `maxNodes` nodes are visited and at most `maxChars`
 * characters produced, whatever the value's size or sharing.
 */
export function describeValue(v: PyValue, maxChars = MAX_SHOWN_CHARS, maxNodes = 32): string {
  let out = '';
  let nodes = 0;
  let full = false;
  const emit = (s: string): void => {
    if (full) return;
    if (out.length + s.length > maxChars) {
      out += s.slice(0, Math.max(0, maxChars - out.length));
      full = true;
    } else out += s;
  };
  // An explicit work list (no recursion): items are values to render or literal text.
  const work: (PyValue | Literal)[] = [v];
  while (work.length > 0 && !full) {
    const value = work.pop()!;
    if (value instanceof Literal) {
      emit(value.text);
      continue;
    }
    if (++nodes > maxNodes) {
      full = true;
      break;
    }
    if (value === null) emit('None');
    else if (typeof value === 'string') emit(JSON.stringify(cut(value, maxChars)));
    else if (typeof value === 'number' || typeof value === 'bigint') emit(String(value));
    else if (typeof value === 'boolean') emit(value ? 'True' : 'False');
    else if (value instanceof Uint8Array) emit(`<${value.length} bytes>`);
    else if (value instanceof PyGlobal) emit(cut(value.qualified, maxChars));
    else if (value instanceof StorageRef) emit(`<${value.storageType} of ${value.numel}>`);
    else if (value instanceof TensorRef) emit(`<tensor [${cut(value.size.join(', '), 40)}]>`);
    else if (value instanceof PyDict) emit(`{…${value.map.size} items}`);
    else if (Array.isArray(value)) {
      // Pushed in reverse so that the first element is rendered first.
      work.push(new Literal(value.length === 1 ? ',)' : ')'));
      const shown = value.slice(0, maxNodes);
      for (let i = shown.length - 1; i >= 0; i--) {
        work.push(shown[i]!);
        if (i > 0) work.push(new Literal(', '));
      }
      work.push(new Literal('('));
    }
  }
  return full || work.length > 0 ? `${out}…` : out;
}
