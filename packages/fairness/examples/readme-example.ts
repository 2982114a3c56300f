import { aggregateRuns, bootstrapCi, fairnessReport, formatMeanStd, rocAuc } from '@fairclip/fairness';
import { FAIRVLMED_GROUP_NAMES } from '@fairclip/io';

const scores = new Float64Array([0.61, 0.48, 0.55, 0.52, 0.43, 0.58, 0.51, 0.47, 0.5, 0.53]);
const labels = [1, 0, 1, 0, 0, 1, 1, 0, 1, 0];
const race = [0, 0, 1, 1, 1, 2, 2, 2, 2, 2];

// Everything FairCLIP reports, for any number of attributes, in one pass (one sort of the scores).
const report = fairnessReport(labels, scores, { race }, { groupNames: FAIRVLMED_GROUP_NAMES });
const r = report.attributes.race;
console.log(report.auc.value); // → 0.84
console.log(r.groups.map((g) => `${g.name} ${g.auc.value?.toFixed(4)}`).join(', ')); // → Asian 1.0000, Black 1.0000, White 0.6667
console.log(r.esAuc.value?.toFixed(4), r.dpd.toFixed(4), r.eod.value?.toFixed(4)); // → 0.5625 0.3000 0.5000

// Labels first, as sklearn's roc_auc_score(y_true, y_score); the reversed order fails loudly.
try {
  rocAuc(scores, labels);
} catch (e) {
  console.log(String(e)); // → FairnessInputError: labels[0] = 0.61: labels must be 0/1 (or false/true); did you pass (scores, labels)? the order is (labels, scores) as in sklearn
}

// Undefined is a value with a reason, never NaN.
console.log(rocAuc([1, 1], [0.2, 0.7]).reason); // → the evaluated set has only positive samples (2 positive, 0 negative): ROC AUC needs both classes

// 95% percentile-bootstrap interval of the AUC, seeded, resampling positives and negatives separately.
const ci = bootstrapCi({ labels, scores }, (s) => rocAuc(s.labels, s.scores), {
  seed: 1,
  resamples: 2000,
  stratify: 'label',
});
console.log(ci.lower.value?.toFixed(4), ci.upper.value?.toFixed(4)); // → 0.5200 1.0000

// Three seeds: mean ± sample std (ddof = 1), ×100 as the papers print.
console.log(formatMeanStd(aggregateRuns([0.6902, 0.7106, 0.7222]))); // → 70.77 ± 1.62
