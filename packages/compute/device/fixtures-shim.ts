// Stand-in for @fairclip/test-fixtures in the device bundle: the fixture JSON is inlined at build time.
import referenceOps from '../../../test-fixtures/data/compute/reference-ops.json';

const files: Record<string, unknown> = { 'compute/reference-ops.json': referenceOps };

export function readFixtureJson<T = unknown>(relative: string): T {
  const value = files[relative];
  if (value === undefined) throw new Error(`fixture not bundled for the device run: ${relative}`);
  return value as T;
}
