import { FairclipError } from '@fairclip/io';
/**
 * Typed errors of @fairclip/compute. Every message names the problem and the fix.
 */

export type ComputeErrorCode =
  | 'NO_VULKAN_LOADER'
  | 'NO_ADAPTER'
  | 'SOFTWARE_ADAPTER_REFUSED'
  | 'WEBGPU_UNAVAILABLE'
  | 'BACKEND_UNAVAILABLE'
  | 'LIMIT_EXCEEDED'
  | 'DEVICE_LOST'
  | 'INVALID_ARGUMENT'
  | 'DISPATCH_TOO_LARGE'
  | 'KERNELS_NOT_REGISTERED';

/** Base class: `code` identifies the failure, `message` says what to do about it. */
export class ComputeError extends FairclipError {
  override readonly code: ComputeErrorCode;
  constructor(code: ComputeErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ComputeError';
    this.code = code;
  }
}

/** Dawn found no adapter because the Vulkan loader (libvulkan.so.1) is not installed (Linux). */
export class NoVulkanLoaderError extends ComputeError {
  constructor(detail = '') {
    super(
      'NO_VULKAN_LOADER',
      `No WebGPU adapter: the Vulkan loader libvulkan.so.1 was not found${detail ? ` (${detail})` : ''}. ` +
        'Fix: install a Vulkan driver and loader — on Debian/Ubuntu without a GPU run `bash scripts/install-software-vulkan.sh` ' +
        '(Mesa lavapipe, then export VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.json), or install your ' +
        "distribution's `mesa-vulkan-drivers` and `libvulkan1` packages (or the GPU vendor's driver); " +
        "or use initCompute({ backend: 'wasm' }) / { backend: 'cpu' }.",
    );
    this.name = 'NoVulkanLoaderError';
  }
}

/** No WebGPU adapter at all (loader present, but no driver / ICD exposes a device). */
export class NoAdapterError extends ComputeError {
  constructor(detail = '') {
    super(
      'NO_ADAPTER',
      `No WebGPU adapter was found${detail ? ` (${detail})` : ''}. ` +
        'Fix: install a GPU driver with Vulkan support, or a software one: `bash scripts/install-software-vulkan.sh` ' +
        'then export VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.json and pass allowSoftwareAdapter: true; ' +
        "or use initCompute({ backend: 'wasm' }) / { backend: 'cpu' }.",
    );
    this.name = 'NoAdapterError';
  }
}

/** Only a software adapter (lavapipe/llvmpipe, SwiftShader) exists and it was not allowed. */
export class SoftwareAdapterRefusedError extends ComputeError {
  constructor(description: string) {
    super(
      'SOFTWARE_ADAPTER_REFUSED',
      `The only WebGPU adapter is a software one (${description}); it is slower than the wasm backend for most work. ` +
        "Fix: pass initCompute({ backend: 'webgpu', allowSoftwareAdapter: true }) to use it anyway (tests, CI), " +
        "or use backend 'auto' (which then picks wasm), or install a hardware GPU driver.",
    );
    this.name = 'SoftwareAdapterRefusedError';
  }
}

/** A tfjs backend failed to initialise (e.g. the wasm binary could not be loaded). */
export class BackendUnavailableError extends ComputeError {
  constructor(backend: string, detail: string, options?: { cause?: unknown }) {
    super('BACKEND_UNAVAILABLE', `The ${backend} backend could not be initialised: ${detail}`, options);
    this.name = 'BackendUnavailableError';
  }
}

/** A tensor does not fit in the device's buffer limits. */
export class LimitExceededError extends ComputeError {
  readonly limit: string;
  readonly requested: number;
  readonly available: number;
  constructor(limit: string, requested: number, available: number, what: string) {
    super(
      'LIMIT_EXCEEDED',
      `${what} needs a buffer of ${requested} bytes but the device's ${limit} is ${available} bytes. ` +
        'Fix: split the work into smaller batches (e.g. fewer points per softmin call), use an adapter with larger ' +
        "limits (initCompute raises the requested limits to the adapter's maxima), or use backend 'wasm'/'cpu'.",
    );
    this.name = 'LimitExceededError';
    this.limit = limit;
    this.requested = requested;
    this.available = available;
  }
}

/** The GPU device was lost (driver reset, destroy(), out of memory) while work was pending. */
export class DeviceLostError extends ComputeError {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(
      'DEVICE_LOST',
      `The WebGPU device was lost (reason: ${reason || 'unknown'}${message ? `, ${message}` : ''}). ` +
        'Pending results are gone. Fix: call handle.dispose() and initCompute() again to get a new device; ' +
        'if it keeps happening, reduce the problem size (a long dispatch can trip the driver watchdog) or use wasm/cpu.',
    );
    this.name = 'DeviceLostError';
    this.reason = reason;
  }
}

/** Bad shapes, dtypes or parameters passed to an op. */
export class InvalidArgumentError extends ComputeError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
    this.name = 'InvalidArgumentError';
  }
}
