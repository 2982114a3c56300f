/// <reference types="@webgpu/types" />
export type { AdapterDiagnosisEnv, AdapterInfoSummary } from './adapter.ts';
export { describeAdapter, diagnoseNoAdapter, summarizeAdapter, vulkanLoaderPresent } from './adapter.ts';
export type { BufferStats } from './device-state.ts';
export type { Dispatch } from './dispatch.ts';
export { dispatchSize, foldDispatch } from './dispatch.ts';
export type { ComputeErrorCode } from './errors.ts';
export {
  BackendUnavailableError,
  ComputeError,
  DeviceLostError,
  InvalidArgumentError,
  LimitExceededError,
  NoAdapterError,
  NoVulkanLoaderError,
  SoftwareAdapterRefusedError,
} from './errors.ts';
export type { Float16Gradient, RoundToFloat16Options } from './fp16.ts';
export { FLOAT16_MAX, roundNumberToFloat16, roundToFloat16, roundToFloat16Reference } from './fp16.ts';
export type { BackendName, ComputeHandle, InitComputeOptions, WebGPUProbe } from './init.ts';
export { initCompute, probeWebGPU, registerGradientsOnce } from './init.ts';
export type { SoftminKernelAttrs } from './kernels.ts';
export { kernelConfigs, kernelsRegistered, registerKernels, SOFTMIN_KERNEL } from './kernels.ts';
export { gelu, layerNorm, quickGelu } from './ops.ts';
export type { SoftminOptions } from './softmin.ts';
export { softmin, softminBatched } from './softmin.ts';
export { costFromSquaredDistance, softminReference } from './softmin-cpu.ts';
export type { SoftminVariant } from './softmin-webgpu.ts';
export { softminUserCode, softminVariant, TILED_MAX_DIM } from './softmin-webgpu.ts';
