// The @fairclip/io readers and writers the adapters use, throwing DatasetError (same code, file and message as the
// IoError, which becomes the cause) so that every problem with input data stays one error type here.
import * as io from '@fairclip/io';
import { fromIoError } from './errors.ts';

function rethrow(e: unknown): never {
  throw e instanceof io.IoError ? fromIoError(e) : e;
}

function wrap<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  return (...args) => {
    try {
      return fn(...args);
    } catch (e) {
      return rethrow(e);
    }
  };
}

export const readCsv = wrap(io.readCsv);
export const columnIndex = wrap(io.columnIndex) as <K extends string>(
  table: io.CsvTable,
  columns: readonly K[],
  options?: { readonly ignoreCase?: boolean },
) => Record<K, number>;
export const readNpzKeys = wrap(io.readNpzKeys);
export const encodeNpz = wrap(io.encodeNpz);

export function readNpzFileAsync(
  ...args: Parameters<typeof io.readNpzFileAsync>
): ReturnType<typeof io.readNpzFileAsync> {
  return io.readNpzFileAsync(...args).catch(rethrow);
}
