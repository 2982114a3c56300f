/**
 * The plain-words reading of a run on the embedded default (the structured synthetic FairVLMed and the pretrained
 * tiny CLIP): what this run shows and what it cannot show, generated from the numbers whatever they are.
 */
import type { CellResult } from './report.ts';

const pct = (v: number | null | undefined) => (typeof v === 'number' ? (100 * v).toFixed(1) : '–');
/** A metric value: a number, or the aggregate's `{ value }` form (null value: undefined). */
const num = (v: unknown): number | null => {
  const x = typeof v === 'object' && v !== null && 'value' in v ? (v as { value: unknown }).value : v;
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
};

/** Overall test AUC (mean, std over seeds) of a cell; the overall AUC is the same for every attribute. */
function overall(cell: CellResult): { mean: number | null; std: number | null; n: number } {
  const a = cell.test[0];
  return { mean: num(a?.auc.mean), std: num(a?.auc.std), n: a?.auc.n ?? 0 };
}

function groupAuc(cell: CellResult, attribute: string, group: string): number | null {
  const a = cell.test.find((t) => t.attribute === attribute);
  return num(a?.groups.find((g) => g.name === group)?.auc.mean);
}

export interface EmbeddedDataFacts {
  root: string;
  /** The bias level and mechanism from the data's synth.json (null when unreadable). */
  bias: number | null;
  mechanism: string | null;
  testSize: string;
}

/** The paragraphs (markdown lines) of the embedded default's reading. */
export function embeddedReading(cells: readonly CellResult[], data: EmbeddedDataFacts): string[] {
  const zs = cells.find((c) => c.id.variant === 'clip-zeroshot');
  const ft = cells.find((c) => c.id.variant === 'clip-finetune');
  const lines: string[] = [];
  const z = zs ? overall(zs) : null;
  const f = ft ? overall(ft) : null;
  const shows: string[] = [];
  if (z?.mean !== null && z !== null)
    shows.push(
      `the pretrained tiny CLIP ranks glaucoma above non-glaucoma zero-shot with AUC ${pct(z.mean)} ` +
        `(${z.mean > 0.5 ? 'above' : 'not above'} chance, 50)`,
    );
  if (f?.mean !== null && f !== null && z?.mean !== null && z !== null) {
    const d = 100 * (f.mean - z.mean);
    const spread = f.std === null ? null : 100 * f.std;
    shows.push(
      `fine-tuning on the ${data.testSize ? 'synthetic ' : ''}training split moves it to ${pct(f.mean)} ± ${spread === null ? '–' : spread.toFixed(1)} ` +
        `(${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(1)} points; ${spread === null ? 'no seed spread' : Math.abs(d) > spread ? 'beyond the seed spread' : 'within the seed spread'})`,
    );
  }
  if (ft) {
    const black = groupAuc(ft, 'race', 'Black');
    const white = groupAuc(ft, 'race', 'White');
    const female = groupAuc(ft, 'gender', 'Female');
    const male = groupAuc(ft, 'gender', 'Male');
    if (black !== null && white !== null)
      shows.push(
        `the bias built into the data (lower image quality for Black and Asian patients${data.bias === null ? '' : `, level ${data.bias}`}) ` +
          `${black < white ? 'shows' : 'does not show'} in the fine-tuned model: group AUC Black ${pct(black)} vs White ${pct(white)}` +
          (female !== null && male !== null
            ? `, against the control attribute gender (no bias built in): Female ${pct(female)} vs Male ${pct(male)}`
            : ''),
      );
  }
  const trained = cells.filter((c) => c.mode !== 'zeroshot');
  const stds = trained.map(
    (c) =>
      `${c.label} ${c.test[0]?.auc.std === undefined || num(c.test[0]?.auc.std) === null ? '–' : (100 * (num(c.test[0]?.auc.std) ?? 0)).toFixed(2)}`,
  );
  lines.push(
    `**What this run shows.** On the embedded synthetic Harvard-FairVLMed (${data.root}; test ${data.testSize}): ` +
      (shows.length ? `${shows.join('; ')}.` : 'no zero-shot or fine-tuned cell ran, so nothing about learning.') +
      ` Seed standard deviation of the overall test AUC (×100) of every trained cell: ${stds.join('; ') || 'none'}. ` +
      'Whether each regulariser changed a metric beyond that spread is in the next section.',
  );
  lines.push(
    '**What it cannot show.** Anything about FairCLIP on real patients: the data are synthetic, their bias ' +
      `mechanism is known by construction (${data.mechanism ?? 'see synth.json'}), the model is a 0.4 M-parameter ` +
      'CLIP pretrained on another synthetic corpus, training is short (a quick profile), and the test split ' +
      'over-represents minority groups by design so that every group AUC is defined. A difference here is a property ' +
      'of this pipeline on this data; the published anchors below come from ViT-B/16 and ViT-L/14 on the real ' +
      'dataset and are comparable in kind only.',
  );
  return lines;
}
