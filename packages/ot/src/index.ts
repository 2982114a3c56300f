export { costFromR2, costGradFactor, costMatrix } from './cost.ts';
export type { DivergenceSolution } from './divergence/api.ts';
export {
  divergenceFromSolution,
  sinkhornDivergence,
  sinkhornDivergenceBatched,
  sinkhornDivergenceMany,
  solveDivergence,
} from './divergence/api.ts';
export type { DivergenceInfo, DivergenceOptions, DivergenceProblem, Engine } from './divergence/types.ts';
export type { DualPotentials, LoopOptions, LoopResult, PairKind, SoftminSeam } from './dual-loop.ts';
export { damping, symmetricSinkhornLoop } from './dual-loop.ts';
export type { OtErrorCode } from './errors.ts';
export { OtInputError } from './errors.ts';
export type { EmdOptions, EmdResult, Exact1dOptions, Exact1dResult, PlanEntry } from './exact.ts';
export { emd, exact1d } from './exact.ts';
export type { Matrix, MatrixInput, PointCloud, PointsInput } from './inputs.ts';
export { entropy } from './inputs.ts';
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
export { epsilonSchedule, maxDiameter, npArange } from './schedule.ts';
export type { SinkhornMethod, SinkhornOptions, SinkhornResult } from './sinkhorn.ts';
export { sinkhorn } from './sinkhorn.ts';
export type { CostMode } from './softmin-f64.ts';
export { DENSE_MAX_ENTRIES, F64Seam, logWeights } from './softmin-f64.ts';
export type { TensorDivergenceParams, TensorDivergenceResult } from './tensor-divergence.ts';
export { tensorDivergence } from './tensor-divergence.ts';
export type { TensorCostMode } from './tensor-seam.ts';
export { pairwiseCost, TensorSeam } from './tensor-seam.ts';
export type { TensorSinkhornOptions, TensorSinkhornResult } from './tensor-sinkhorn.ts';
export { sinkhornTensor } from './tensor-sinkhorn.ts';
