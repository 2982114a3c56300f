/**
 * Pure helpers about WebGPU adapters: software detection and the diagnosis of "no adapter".
 */
import { NoAdapterError, NoVulkanLoaderError } from './errors.ts';

/** What initCompute reports about the adapter it chose. */
export interface AdapterInfoSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** adapter.info.isFallbackAdapter (or the older adapter.isFallbackAdapter). */
  isFallbackAdapter: boolean;
  /** true for software rasterisers (lavapipe/llvmpipe, SwiftShader, WARP) even when not flagged as fallback. */
  software: boolean;
}

const SOFTWARE_PATTERN = /llvmpipe|lavapipe|swiftshader|software|microsoft basic render|\bwarp\b/i;

/** Builds the summary from a GPUAdapter-like object (fields read defensively: implementations differ). */
export function summarizeAdapter(adapter: {
  info?: Partial<Record<'vendor' | 'architecture' | 'device' | 'description', string>> & {
    isFallbackAdapter?: boolean;
  };
  isFallbackAdapter?: boolean;
}): AdapterInfoSummary {
  const info = adapter.info ?? {};
  const vendor = String(info.vendor ?? '');
  const architecture = String(info.architecture ?? '');
  const device = String(info.device ?? '');
  const description = String(info.description ?? '');
  const isFallbackAdapter = Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false);
  const software = isFallbackAdapter || SOFTWARE_PATTERN.test([vendor, architecture, device, description].join(' '));
  return { vendor, architecture, device, description, isFallbackAdapter, software };
}

/** Short human-readable adapter name, e.g. "mesa llvmpipe (software)". */
export function describeAdapter(info: AdapterInfoSummary): string {
  const name = info.description || [info.vendor, info.device].filter(Boolean).join(' ') || 'unknown adapter';
  return `${name}${info.software ? ' (software)' : ''}`;
}

/** Environment facts needed to explain a missing adapter; injectable for tests. */
export interface AdapterDiagnosisEnv {
  platform: string;
  /** Whether a file exists (used to look for libvulkan.so.1). */
  exists: (path: string) => boolean;
  env: Record<string, string | undefined>;
}

const VULKAN_LIB_DIRS = [
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/lib/x86_64-linux-gnu',
  '/lib/aarch64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
  '/lib64',
  '/lib',
  '/usr/local/lib',
];

/** Whether the Vulkan loader can be found in the usual library directories (or LD_LIBRARY_PATH). */
export function vulkanLoaderPresent(d: AdapterDiagnosisEnv): boolean {
  const extra = (d.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  return [...extra, ...VULKAN_LIB_DIRS].some((dir) => d.exists(`${dir}/libvulkan.so.1`));
}

/** The error to raise when Dawn returns no adapter. */
export function diagnoseNoAdapter(d: AdapterDiagnosisEnv, detail = ''): NoVulkanLoaderError | NoAdapterError {
  if (d.platform === 'linux' && !vulkanLoaderPresent(d)) return new NoVulkanLoaderError(detail);
  const icd = d.env.VK_ICD_FILENAMES;
  const hint = icd ? `VK_ICD_FILENAMES=${icd}${d.exists(icd) ? '' : ' does not exist'}` : 'VK_ICD_FILENAMES is unset';
  return new NoAdapterError([detail, d.platform === 'linux' ? hint : ''].filter(Boolean).join('; '));
}
