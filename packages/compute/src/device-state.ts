/**
 * Per-device bookkeeping: buffer statistics (to prove no N×M buffer is ever allocated) and device-lost state
 * (so kernels throw instead of hanging, and reads reject).
 */
import { DeviceLostError } from './errors.ts';

/** GPU buffer statistics of one device, counted from device.createBuffer / GPUBuffer.destroy. */
export interface BufferStats {
  /** Buffers created since tracking started (or the last reset). */
  created: number;
  /** Buffers created and not destroyed yet (tfjs keeps a pool of free buffers: pooled ones count as live). */
  live: number;
  /** Bytes held by live buffers. */
  liveBytes: number;
  /** Largest single buffer created since tracking started (or the last reset), in bytes. */
  largestBytes: number;
}

interface DeviceState {
  stats: BufferStats;
  /** Messages of uncaptured WebGPU errors (validation, out-of-memory), oldest first, at most 50. */
  errors: string[];
  lost: DeviceLostError | undefined;
  lostPromise: Promise<DeviceLostError>;
}

const states = new WeakMap<GPUDevice, DeviceState>();

/** Starts tracking a device: wraps createBuffer (on the instance) and listens for loss. Idempotent. */
export function trackDevice(device: GPUDevice): void {
  if (states.has(device)) return;
  const stats: BufferStats = { created: 0, live: 0, liveBytes: 0, largestBytes: 0 };
  const state: DeviceState = {
    stats,
    errors: [],
    lost: undefined,
    lostPromise: device.lost.then((info) => {
      const err = new DeviceLostError(String(info.reason ?? 'unknown'), info.message ?? '');
      state.lost = err;
      return err;
    }),
  };
  states.set(device, state);
  device.addEventListener('uncapturederror', (event) => {
    const error = (event as GPUUncapturedErrorEvent).error;
    state.errors.push(`${error.constructor?.name ?? 'GPUError'}: ${error.message}`);
    if (state.errors.length > 50) state.errors.shift();
  });
  const createBuffer = device.createBuffer.bind(device);
  device.createBuffer = (descriptor: GPUBufferDescriptor): GPUBuffer => {
    const buffer = createBuffer(descriptor);
    const size = descriptor.size;
    stats.created++;
    stats.live++;
    stats.liveBytes += size;
    if (size > stats.largestBytes) stats.largestBytes = size;
    const destroy = buffer.destroy.bind(buffer);
    let destroyed = false;
    buffer.destroy = () => {
      if (!destroyed) {
        destroyed = true;
        stats.live--;
        stats.liveBytes -= size;
      }
      destroy();
    };
    return buffer;
  };
}

export function bufferStats(device: GPUDevice): BufferStats {
  const s = states.get(device);
  return s ? { ...s.stats } : { created: 0, live: 0, liveBytes: 0, largestBytes: 0 };
}

/** Resets `created` and `largestBytes` (live counts stay: they describe buffers that still exist). */
export function resetBufferStats(device: GPUDevice): void {
  const s = states.get(device);
  if (s) {
    s.stats.created = 0;
    s.stats.largestBytes = 0;
  }
}

/** Returns and clears the uncaptured WebGPU errors recorded on the device. */
export function takeDeviceErrors(device: GPUDevice): string[] {
  const s = states.get(device);
  if (!s) return [];
  const out = s.errors;
  s.errors = [];
  return out;
}

/** The loss error if the device is lost, else undefined. */
export function deviceLost(device: GPUDevice): DeviceLostError | undefined {
  return states.get(device)?.lost;
}

/** Resolves with the loss error once the device is lost (never resolves for an untracked device). */
export function deviceLostPromise(device: GPUDevice): Promise<DeviceLostError> {
  return states.get(device)?.lostPromise ?? new Promise<DeviceLostError>(() => {});
}

/** Throws DeviceLostError when the device is known to be lost. */
export function assertDeviceAlive(device: GPUDevice): void {
  const lost = deviceLost(device);
  if (lost) throw lost;
}
