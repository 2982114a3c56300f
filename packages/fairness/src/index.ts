// @fairclip/fairness: group-fairness metrics on plain typed arrays, sklearn/fairlearn-exact.
// Every metric takes (labels, scores[, groups][, options]), the order of sklearn and fairlearn (y_true first).
export type { AggregatedAttribute, AggregatedGroup, AggregatedReport, RunSummary } from './aggregate.ts';
export { aggregateReports, aggregateRuns, formatMeanStd } from './aggregate.ts';
export type { BootstrapData, BootstrapOptions, BootstrapResult, BootstrapSample } from './bootstrap.ts';
export { bootstrapCi, quantileSorted } from './bootstrap.ts';
export type { FairnessErrorCode } from './errors.ts';
export { FairnessInputError } from './errors.ts';
export type { FrameRow, MetricFrame, Slice, SliceMetric } from './frame.ts';
export { byGroup, sliceMetrics } from './frame.ts';
export type {
  DifferenceOptions,
  EqualizedOddsOptions,
  EquityOptions,
  GroupAuc,
  RateOptions,
  ThresholdOptions,
} from './metrics.ts';
export {
  accuracy,
  demographicParityDifference,
  demographicParityRatio,
  equalizedOddsDifference,
  equalizedOddsRatio,
  equalOpportunityDifference,
  equityScaledAccuracy,
  equityScaledAuc,
  falsePositiveRate,
  falsePositiveRateDifference,
  groupAucs,
  groupDisparity,
  rocAuc,
  selectionRate,
  truePositiveRate,
} from './metrics.ts';
export type { AttributeReport, FairnessReport, GroupReport, ReportOptions } from './report.ts';
export { fairnessReport } from './report.ts';
export type { RocCurve, RocCurveOptions } from './roc.ts';
export { rocCurve, trapezoid } from './roc.ts';
export type {
  DefinedMetric,
  DifferenceMethod,
  GroupedMetric,
  GroupsInput,
  LabelsInput,
  MetricValue,
  OddsAggregation,
  RateMode,
  ScoresInput,
  UndefinedCode,
  UndefinedGroupPolicy,
  UndefinedMetric,
} from './types.ts';
export { metricOr } from './types.ts';
