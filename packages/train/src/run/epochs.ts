// Evaluated epochs, shared by every mode: val and test scored and evaluated, the epoch recorded, the selection
// criterion updated (with the selected epoch's per-sample test scores written to scores_test.csv).
import { basename, join } from 'node:path';
import { writeFileAtomic } from '../checkpoint.ts';
import type { TrainConfig } from '../config.ts';
import type { SplitData } from '../data.ts';
import { evaluateScores, type SplitResult } from '../evaluate.ts';
import { type EpochRecord, joinCsv } from '../outputs.ts';
import type { RunContext } from './context.ts';
import { meanTerms, type RunState } from './state.ts';

export /** The selection criterion of an epoch (val or test AUC), null when undefined. */
function criterion(cfg: TrainConfig, e: EpochRecord): number | null {
  const ev = cfg.eval.selection === 'test-auc' ? e.test : e.val;
  return ev?.auc ?? null;
}

export function csvText(rows: string[][], header: string[]): string {
  return `${[joinCsv(header), ...rows.map(joinCsv)].join('\n')}\n`;
}

export interface SplitsEvaluation {
  val: SplitResult;
  test: SplitResult;
  /** The test set's per-sample scores (probability of the positive class), for scores_test.csv. */
  testScores: Float64Array;
}

export async function evaluateSplits(
  ctx: RunContext,
  scoresOf: (s: SplitData) => Promise<Float64Array>,
): Promise<SplitsEvaluation> {
  const val = evaluateScores(await scoresOf(ctx.data.val), ctx.data.val, ctx.cfg.eval, ctx.data.groupNames);
  const testScores = await scoresOf(ctx.data.test);
  const test = evaluateScores(testScores, ctx.data.test, ctx.cfg.eval, ctx.data.groupNames);
  return { val, test, testScores };
}

/** The per-sample test scores of the selected epoch: file, label, score and the group id of every attribute. */
export const SCORES_FILE = 'scores_test.csv';

function scoresCsv(ctx: RunContext, epoch: number, scores: Float64Array): string {
  const attrs = ctx.cfg.eval.attributes;
  const rows = ctx.data.test.samples.map((s, i) => [
    String(epoch),
    basename(s.file),
    String(s.label),
    String(scores[i]),
    ...attrs.map((a) => String(s.groups[a] ?? -1)),
  ]);
  return csvText(rows, ['epoch', 'file', 'label', 'score', ...attrs]);
}

export /**
 * Records an evaluated epoch (both training modes): appends it to the history and, when it improves the selection
 * criterion, makes it the selected epoch, writes its test scores and calls `onBest` (fine-tuning writes
 * best.safetensors there).
 */
async function recordEpoch(
  ctx: RunContext,
  state: RunState,
  fields: { epoch: number; seconds: number; ev: SplitsEvaluation | null },
  onBest?: () => Promise<void>,
): Promise<EpochRecord> {
  const { epoch, ev } = fields;
  const acc = state.acc;
  const record: EpochRecord = {
    epoch,
    trainLoss: acc.count ? acc.sums.loss! / acc.counts.loss! : null,
    terms: meanTerms(acc),
    val: ev?.val.eval ?? null,
    test: ev?.test.eval ?? null,
    seconds: fields.seconds,
  };
  state.history.push({ record, valReport: ev?.val.report ?? null, testReport: ev?.test.report ?? null });
  const c = criterion(ctx.cfg, record);
  // Ties keep the later epoch, as every original script does (`if best_auc <= overall_auc`).
  if (ev && c !== null && (state.best === null || c >= state.best.value)) {
    state.best = { epoch, value: c };
    writeFileAtomic(join(ctx.outDir, SCORES_FILE), scoresCsv(ctx, epoch, ev.testScores));
    await onBest?.();
  }
  return record;
}
