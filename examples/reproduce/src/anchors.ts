/**
 * The published numbers the report sets beside ours (data/anchors.json, transcribed from fairclip.md §7 with their
 * provenance labels), and which of our grid cells each anchor corresponds to.
 */
import ANCHORS_JSON from '../data/anchors.json' with { type: 'json' };

export type Provenance = 'OFF' | '2ND' | 'REPRO' | 'ISS';

export interface AnchorTable {
  id: string;
  section: string;
  provenance: Provenance;
  unit: 'fraction' | 'percent' | 'distance';
  title: string;
  notes: string[];
  header: string[];
  rows: string[][];
}

export interface AnchorsFile {
  source: string;
  provenance: Record<Provenance, string>;
  tables: AnchorTable[];
}

export const ANCHORS = ANCHORS_JSON as unknown as AnchorsFile;

export const PROVENANCE_LABEL: Record<Provenance, string> = {
  OFF: 'official',
  '2ND': 'secondary, unverified',
  REPRO: 'reproducibility study',
  ISS: 'third-party runs',
};

/** One number of an anchor, ×100 for metrics (distances as published); std null when not given. */
export interface AnchorValue {
  mean: number;
  std: number | null;
}

/** "15.35 ± 6.50", "67.84", "0.6902", "15.35±6.50" → value (in the table's unit); "–" / "" → null. */
export function parseAnchorCell(cell: string): AnchorValue | null {
  const t = cell.trim();
  if (t === '' || t === '–' || t === '-' || t === '—') return null;
  const m = /^(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*(?:±\s*(\d+(?:\.\d+)?))?$/.exec(t);
  if (!m) throw new Error(`anchors: cannot read the cell "${cell}" as a number`);
  return { mean: Number(m[1]), std: m[2] === undefined ? null : Number(m[2]) };
}

export function table(id: string): AnchorTable {
  const t = ANCHORS.tables.find((x) => x.id === id);
  if (!t) throw new Error(`anchors: no table "${id}" in data/anchors.json`);
  return t;
}

const scaled = (t: AnchorTable, v: AnchorValue | null): AnchorValue | null =>
  v === null || t.unit !== 'fraction' ? v : { mean: 100 * v.mean, std: v.std === null ? null : 100 * v.std };

function cellOf(t: AnchorTable, row: readonly string[], column: string): AnchorValue | null {
  const i = t.header.indexOf(column);
  if (i < 0) throw new Error(`anchors: table ${t.id} has no column "${column}"`);
  return scaled(t, parseAnchorCell(row[i] ?? ''));
}

/** A grid cell: a variant preset and, for single-attribute regularisers, the regularised attribute. */
export interface CellId {
  variant: string;
  attribute: string | null;
}

/** The metrics of one anchor row for one evaluated attribute (×100). */
export interface MetricAnchor {
  label: string;
  section: string;
  provenance: Provenance;
  auc: AnchorValue | null;
  esAuc: AnchorValue | null;
  dpd: AnchorValue | null;
  deodds: AnchorValue | null;
  /** Group AUCs by our group name. */
  groups: Map<string, AnchorValue | null>;
  note?: string;
}

const OFFICIAL = ['fairclip-official-2025', 'fairclip-official-2024', 'fairclip-debugged'];
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * The anchors of one of our cells for one evaluated attribute. "CLIP" in the FairCLIP tables is CLIP fine-tuned on
 * FairVLMed (clip-finetune) and evaluated zero-shot with the prompts, as the official evaluation; "FairCLIP (Race)"
 * is the official code regularising race (the README's released checkpoints: the 2025 hyperparameters; the CVPR
 * paper: the 2024 ones).
 */
export function metricAnchors(cell: CellId, evalAttr: string, groupNames: readonly string[]): MetricAnchor[] {
  const out: MetricAnchor[] = [];
  // §7.1 official README, released checkpoints
  const readme = table('readme-checkpoints');
  const readmeMethod =
    cell.variant === 'clip-finetune'
      ? 'CLIP'
      : cell.variant === 'fairclip-official-2025' && cell.attribute && cell.attribute !== 'language'
        ? `FairCLIP (${cap(cell.attribute)})`
        : null;
  const rr = readme.rows.find((r) => r[0] === readmeMethod);
  if (rr) {
    const esCol = { race: 'ES-AUC Race', gender: 'ES-AUC Gender', ethnicity: 'ES-AUC Eth.' }[evalAttr];
    const groupCol: Record<string, string> = {
      Asian: '"Asian"',
      Black: '"Black"',
      White: '"White"',
      Female: 'Female',
      Male: 'Male',
      'Non-Hispanic': 'Non-Hisp.',
      Hispanic: 'Hisp.',
    };
    out.push({
      label: `${readmeMethod}, released checkpoint`,
      section: readme.section,
      provenance: readme.provenance,
      auc: cellOf(readme, rr, 'AUC'),
      esAuc: esCol ? cellOf(readme, rr, esCol) : null,
      dpd: null,
      deodds: null,
      groups: new Map(
        groupNames.map((g) => [g, groupCol[g] && evalAttr !== 'language' ? cellOf(readme, rr, groupCol[g]) : null]),
      ),
      ...(evalAttr === 'race'
        ? {
            note: 'the README’s race columns read "Black", "Asian", "White" and may be mislabelled (code order: Asian, Black, White); mapped by label here',
          }
        : {}),
    });
  }
  // §7.2 CVPR paper (secondary, unverified)
  const paper = table('paper-zero-shot');
  const paperModel =
    cell.variant === 'clip-finetune'
      ? 'CLIP'
      : cell.variant === 'fairclip-official-2024' && cell.attribute === evalAttr
        ? 'FairCLIP'
        : null;
  const pr = paper.rows.find((r) => r[0] === cap(evalAttr) && r[1] === paperModel);
  if (pr) {
    const auc = cellOf(paper, pr, 'AUC↑');
    out.push({
      label: `${paperModel}, CVPR paper`,
      section: paper.section,
      provenance: paper.provenance,
      auc,
      esAuc: cellOf(paper, pr, 'ES-AUC↑'),
      dpd: cellOf(paper, pr, 'DPD↓'),
      deodds: cellOf(paper, pr, 'DEOdds↓'),
      groups: new Map(groupNames.map((g) => [g, null])),
    });
  }
  // §7.3 the study's linear probing (CLIP = pretrained features = our linear-probe cell)
  if (cell.variant === 'linear-probe') {
    const lp = table('study-linear-probe');
    const lr = lp.rows.find((r) => r[0] === 'CLIP' && r[1] === cap(evalAttr));
    if (lr) {
      // the AUC is shared by the four attributes: given once (on the race row) in the brief
      const auc = cellOf(lp, lr, 'AUC') ?? cellOf(lp, lp.rows.find((r) => r[0] === 'CLIP')!, 'AUC');
      out.push({
        label: 'CLIP linear probe (ViT-L/14 features, 500 epochs)',
        section: lp.section,
        provenance: lp.provenance,
        auc,
        esAuc: cellOf(lp, lr, 'ES-AUC'),
        dpd: cellOf(lp, lr, 'DPD'),
        deodds: cellOf(lp, lr, 'DEOdds'),
        groups: new Map(groupNames.map((g, i) => [g, i < 3 ? cellOf(lp, lr, `AUC g${i}`) : null])),
      });
    }
  }
  return out;
}

/** The study's best validation AUCs (§7.3) of a cell: mean ± std (ddof 1) of its three seeds, ×100. */
export function valAucAnchor(cell: CellId): (MetricAnchor & { seeds: number[] }) | null {
  const t = table('study-val-auc');
  const prefix =
    cell.variant === 'clip-finetune'
      ? 'CLIP-FT ViT-B/16'
      : cell.variant === 'a-fairclip' && cell.attribute === 'race'
        ? 'A-FairCLIP race'
        : cell.variant === 'fairclip-plus'
          ? 'FairCLIP+ race+gender'
          : null;
  const row = prefix ? t.rows.find((r) => (r[0] ?? '').startsWith(prefix)) : undefined;
  if (!row) return null;
  const v = [1, 2, 3].map((k) => 100 * (parseAnchorCell(row[k] ?? '')?.mean ?? Number.NaN));
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1));
  return {
    label: row[0] as string,
    section: t.section,
    provenance: t.provenance,
    auc: { mean, std },
    esAuc: null,
    dpd: null,
    deodds: null,
    groups: new Map(),
    seeds: (row[4] ?? '').split(',').map((s) => Number(s.trim())),
  };
}

/** Third-party ranges of the official code's test AUC (§7.4) for a cell, ×100. */
export function aucRangeAnchor(cell: CellId): { label: string; min: number; max: number } | null {
  const t = table('third-party-ranges');
  const name =
    cell.variant === 'clip-finetune'
      ? 'CLIP'
      : OFFICIAL.includes(cell.variant) && (cell.attribute === 'race' || cell.attribute === 'gender')
        ? `FairCLIP-${cell.attribute}`
        : null;
  const row = t.rows.find((r) => r[0] === name);
  if (!row) return null;
  return {
    label: `${row[0]} (official code, test-set selection)`,
    min: 100 * Number(row[1]),
    max: 100 * Number(row[2]),
  };
}

/** The study's Sinkhorn-distance column (§7.3) that corresponds to a cell, or null. */
export function distanceAnchorColumn(cell: CellId): string | null {
  if (cell.variant === 'clip-zeroshot') return 'CLIP (zero-shot)';
  if (cell.variant === 'clip-finetune') return 'CLIP-FT';
  if (cell.variant === 'fairclip-plus') return 'FairCLIP+';
  if (OFFICIAL.includes(cell.variant) && cell.attribute === 'language') return 'FairCLIP (language)';
  return null;
}

/** The study's distance for a group (our group name, case-insensitive) in a column, or null. */
export function distanceAnchor(column: string, group: string): number | null {
  const t = table('study-sinkhorn');
  const row = t.rows.find((r) => r[0] === group.toLowerCase());
  const i = t.header.indexOf(column);
  if (!row || i < 0) return null;
  return parseAnchorCell(row[i] ?? '')?.mean ?? null;
}

/** The Markdown tables of a Markdown text (header + rows, separator rows dropped, cells trimmed). */
export function markdownTables(text: string): string[][][] {
  const out: string[][][] = [];
  let cur: string[][] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('|')) {
      cur.push(
        line
          .trim()
          .replace(/^\||\|$/g, '')
          .split('|')
          .map((c) => c.trim()),
      );
    } else if (cur.length) {
      out.push(cur);
      cur = [];
    }
  }
  if (cur.length) out.push(cur);
  return out.map((t) => t.filter((r) => !r.every((c) => /^-+$/.test(c))));
}

/** Words of the brief the report quotes verbatim, with the section and provenance they stand under. */
export interface BriefStatement {
  section: string;
  /** The source the brief gives for them; null for the brief's own words (e.g. its open uncertainties, §10). */
  provenance: Provenance | null;
  text: string;
}

/**
 * What fairclip.md holds about the study's FairFace experiments. It has **no** FairFace numbers: §7 (the result
 * anchors) has no FairFace table or value, and §10 says the study's FairFace tables were not accessible. What it has:
 * the study's setup (§5) and its qualitative conclusion (§6). test/anchors.test.ts checks each quote against the
 * brief and that §7 still names no FairFace result (so that numbers added there later are not silently missed).
 */
export const FAIRFACE_ANCHORS: {
  none: BriefStatement;
  conclusion: BriefStatement;
  setup: BriefStatement;
} = {
  none: {
    section: '10',
    provenance: null,
    text: 'repro paper Tables for CLIP / CLIP-FT / FairCLIP / A-FairCLIP / FairCLIP+ and FairFace) were not accessible',
  },
  conclusion: { section: '6', provenance: 'REPRO', text: 'generalisation to FairFace not evident' },
  setup: {
    section: '5',
    provenance: 'REPRO',
    text: 'RN50 backbone, bs 128, group bs 128, lr 1e-6, 20 epochs, λ 1e-5, Sinkhorn blur 1e-4, diameter 2, scaling 0.9, weights [0.5, 0.5] (age, race), fp32',
  },
};
