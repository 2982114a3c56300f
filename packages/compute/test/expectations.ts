// Known per-backend deviations found by the conformance suite (structured, with the reason, instead of silently
// weaker tests — onnxruntime-web's suite-test-list idea). A test consults knownIssue() and asserts only what the
// backend does guarantee, so the gap stays visible here and in the README.
import type { BackendName } from '../src/index.ts';

export const KNOWN_BACKEND_ISSUES: Record<string, Partial<Record<BackendName, string>>> = {
  'matMul with inner dimension 0 returns zeros': {
    webgpu:
      'tfjs-backend-webgpu 4.22 binds the empty [2, 0] input as a zero-size buffer, which WebGPU rejects ' +
      '("Binding size ... is zero" on Dawn, lavapipe and NVIDIA alike), so nothing is written and the output holds ' +
      'whatever its pooled buffer held; no project code multiplies with K = 0.',
  },
};

export function knownIssue(name: string, backend: BackendName): string | undefined {
  const entry = KNOWN_BACKEND_ISSUES[name];
  if (!entry) throw new Error(`unknown expectation '${name}'`);
  return entry[backend];
}
