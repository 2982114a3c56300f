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

/** Vulkan drivers (ICD manifest file names) that are CPU implementations: Mesa's lavapipe, Google's SwiftShader. */
const SOFTWARE_ICD = /^(lvp_icd[^/]*|vk_swiftshader_icd[^/]*)\.json$/;
/**
 * Mesa's drivers for GPUs reached through the kernel's DRM render nodes (/dev/dri/renderD*): without a render node
 * they find no device. (NVIDIA's and other vendors' drivers are never assumed absent.)
 */
const DRM_ICD =
  /^(intel_icd|intel_hasvk_icd|radeon_icd|nouveau_icd|virtio_icd|gfxstream_vk_icd|freedreno_icd|panfrost_icd|broadcom_icd|asahi_icd|powervr_mesa_icd|lima_icd|etnaviv_icd)[^/]*\.json$/;

/** Environment facts to list the Vulkan drivers the loader would find; injectable for tests. */
export interface IcdEnv {
  platform: string;
  env: Record<string, string | undefined>;
  /** The .json files of a folder ([] when it does not exist). */
  listJson: (dir: string) => string[];
  /** Whether the machine has a DRM render node (/dev/dri/renderD*). */
  hasRenderNode: () => boolean;
}

/**
 * The Vulkan driver manifests the loader would use (VK_DRIVER_FILES / VK_ICD_FILENAMES when set, else the standard
 * search folders), or undefined where that cannot be told (not Linux, VK_ADD_DRIVER_FILES set).
 */
export function vulkanDrivers(d: IcdEnv): string[] | undefined {
  if (d.platform !== 'linux' || d.env.VK_ADD_DRIVER_FILES) return undefined;
  const explicit = d.env.VK_DRIVER_FILES || d.env.VK_ICD_FILENAMES;
  if (explicit) return explicit.split(':').filter(Boolean);
  const config = (d.env.XDG_CONFIG_DIRS || '/etc/xdg').split(':').filter(Boolean);
  const data = (d.env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':').filter(Boolean);
  const home = d.env.HOME ? [`${d.env.HOME}/.config`, `${d.env.HOME}/.local/share`] : [];
  const dirs = [...config, '/etc', ...data, ...home, '/usr/local/share', '/usr/share'].map((p) => `${p}/vulkan/icd.d`);
  return [...new Set(dirs)].flatMap((dir) => d.listJson(dir).map((f) => `${dir}/${f}`));
}

/**
 * When the only Vulkan drivers that can find a device are CPU implementations (lavapipe, SwiftShader) — every other
 * installed driver being one of Mesa's DRM drivers on a machine without a render node — their names; otherwise
 * undefined (a possible hardware driver, none at all, or unknown). initCompute's 'auto' then skips WebGPU without
 * starting Dawn: a software adapter would be refused anyway.
 */
export function softwareOnlyVulkan(d: IcdEnv): string[] | undefined {
  const drivers = vulkanDrivers(d);
  if (!drivers || drivers.length === 0) return undefined;
  const names = drivers.map((p) => p.slice(p.lastIndexOf('/') + 1));
  const software = names.filter((n) => SOFTWARE_ICD.test(n));
  if (software.length === 0) return undefined;
  const renderNode = d.hasRenderNode();
  const otherUsable = names.some((n) => !SOFTWARE_ICD.test(n) && (renderNode || !DRM_ICD.test(n)));
  return otherUsable ? undefined : software;
}
