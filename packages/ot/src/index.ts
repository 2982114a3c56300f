// @fairclip/ot: the public API (the README's "API summary"). Internals (the dual loop, the soft-min seams, cost and
// schedule helpers, the tensor divergence engine) are imported by the modules that need them, and by tests from
// their modules directly.

export type { DivergenceSolution } from './divergence/api.ts';
export {
  divergenceFromSolution,
  sinkhornDivergence,
  sinkhornDivergenceBatched,
  sinkhornDivergenceMany,
  solveDivergence,
} from './divergence/api.ts';
export type { DivergenceInfo, DivergenceOptions, DivergenceProblem, Engine } from './divergence/types.ts';
export type { OtErrorCode } from './errors.ts';
export { OtInputError } from './errors.ts';
export type { EmdOptions, EmdResult, Exact1dOptions, Exact1dResult, PlanEntry } from './exact.ts';
export { emd, exact1d } from './exact.ts';
export type { Matrix, MatrixInput, PointCloud, PointsInput } from './inputs.ts';
export type { EngineChoice, RouteQuery, RoutingConfig } from './routing.ts';
export {
  backendReadsSync,
  chooseEngine,
  configureRouting,
  DEFAULT_ROUTING,
  getRouting,
  resetRouting,
} from './routing.ts';
export type {
  LossName,
  SamplesLossOptions,
  SamplesLossResult,
  SolverChoice,
  SolverUsed,
} from './samples-loss.ts';
export { samplesLoss } from './samples-loss.ts';
export type { SinkhornMethod, SinkhornOptions, SinkhornResult } from './sinkhorn.ts';
export { sinkhorn } from './sinkhorn.ts';
export type { CostMode } from './softmin-f64.ts';
export type { TensorCostMode } from './tensor-seam.ts';
export type { TensorSinkhornOptions, TensorSinkhornResult } from './tensor-sinkhorn.ts';
export { sinkhornTensor } from './tensor-sinkhorn.ts';
