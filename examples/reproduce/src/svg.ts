/**
 * Self-contained SVG charts for the report (viewable in any browser or Markdown viewer, no server, no script):
 * grouped bars with error bars (linear or log scale) and line charts. Every series is one
 * `<g class="series" data-series="NAME">` so that tools (and the tests) can find the plotted series.
 */

export interface BarSeries {
  name: string;
  /** One value per category; null = no bar (undefined metric or empty group). */
  values: readonly (number | null)[];
  /** Optional ± error per category (drawn as a whisker). */
  errors?: readonly (number | null)[];
}

export interface BarChartSpec {
  title: string;
  subtitle?: string;
  yLabel: string;
  categories: readonly string[];
  series: readonly BarSeries[];
  scale?: 'linear' | 'log';
  /** Linear scale: fixed y range (default [0, max]). */
  yDomain?: readonly [number, number];
}

export interface LineSeries {
  name: string;
  points: readonly (readonly [number, number])[];
  /** Draw markers at the points (default true when there are fewer than 30 points). */
  markers?: boolean;
  /** Dashed line. */
  dashed?: boolean;
}

export interface LineChartSpec {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  series: readonly LineSeries[];
  xDomain?: readonly [number, number];
  yDomain?: readonly [number, number];
  /** Draw the y = x diagonal (ROC chance line). */
  diagonal?: boolean;
  /** Integer x ticks only (epochs). */
  integerX?: boolean;
}

/**
 * Okabe–Ito's eight colours (distinguishable with the common colour-vision deficiencies), then Paul Tol's muted
 * scheme: sixteen distinct colours before any repeats (a full default grid has twelve cells).
 */
const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#D55E00',
  '#CC79A7',
  '#56B4E9',
  '#F0E442',
  '#000000',
  '#332288',
  '#88CCEE',
  '#44AA99',
  '#117733',
  '#999933',
  '#DDCC77',
  '#882255',
  '#AA4499',
];
export const colour = (i: number): string => PALETTE[i % PALETTE.length] as string;

/** Escapes text for SVG/XML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const r2 = (v: number) => Math.round(v * 100) / 100;

/** "Nice" linear ticks covering [lo, hi] (about `count` of them). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(Number.isFinite(lo) && Number.isFinite(hi))) throw new RangeError(`niceTicks: non-finite range [${lo}, ${hi}]`);
  if (hi <= lo) hi = lo + 1;
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
    out.push(Number(v.toPrecision(12)));
  return out;
}

/** Decade ticks 10^k covering [lo, hi] (lo > 0). */
export function decadeTicks(lo: number, hi: number): number[] {
  if (!(lo > 0 && hi >= lo)) throw new RangeError(`decadeTicks: needs 0 < lo <= hi, got [${lo}, ${hi}]`);
  const out: number[] = [];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) out.push(10 ** k);
  return out;
}

const fmtTick = (v: number) =>
  v === 0 ? '0' : Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(0).replace('e+', 'e') : String(v);

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function header(f: Frame, title: string, subtitle: string | undefined): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${f.width}" height="${f.height}" viewBox="0 0 ${f.width} ${f.height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${f.width}" height="${f.height}" fill="#ffffff"/>`,
    `<text x="${f.width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    ...(subtitle
      ? [`<text x="${f.width / 2}" y="38" text-anchor="middle" fill="#444444">${escapeXml(subtitle)}</text>`]
      : []),
  ];
}

function legend(f: Frame, names: readonly string[], dashed: readonly boolean[] = []): string[] {
  const x = f.width - f.right + 16;
  return [
    '<g class="legend">',
    ...names.flatMap((n, i) => {
      const y = f.top + 8 + i * 18;
      return [
        `<line x1="${x}" y1="${y}" x2="${x + 18}" y2="${y}" stroke="${colour(i)}" stroke-width="6"${dashed[i] ? ' stroke-dasharray="4 2"' : ''}/>`,
        `<text x="${x + 24}" y="${y + 4}">${escapeXml(n)}</text>`,
      ];
    }),
    '</g>',
  ];
}

/** The y grid, y tick labels, the two axis lines (x axis at `baseY`) and the rotated y label. */
function yAxis(
  f: Frame,
  ticks: readonly number[],
  y: (v: number) => number,
  baseY: number,
  label: string,
  extra: readonly string[] = [],
): string[] {
  const plotW = f.width - f.left - f.right;
  const plotH = f.height - f.top - f.bottom;
  return [
    '<g class="axes" stroke="#999999">',
    ...ticks.flatMap((t) => {
      const ty = r2(y(t));
      return [
        `<line x1="${f.left}" y1="${ty}" x2="${f.left + plotW}" y2="${ty}" stroke="#e5e5e5"/>`,
        `<text x="${f.left - 6}" y="${ty + 4}" text-anchor="end" stroke="none" fill="#333333">${fmtTick(t)}</text>`,
      ];
    }),
    ...extra,
    `<line x1="${f.left}" y1="${f.top}" x2="${f.left}" y2="${f.top + plotH}"/>`,
    `<line x1="${f.left}" y1="${r2(baseY)}" x2="${f.left + plotW}" y2="${r2(baseY)}"/>`,
    '</g>',
    `<text transform="translate(16 ${f.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(label)}</text>`,
  ];
}

const legendWidth = (names: readonly string[]) => Math.min(360, 50 + 7 * Math.max(0, ...names.map((n) => n.length)));

/** A grouped bar chart (one group of bars per category, one bar per series), optionally on a log scale. */
export function barChart(spec: BarChartSpec): string {
  const log = spec.scale === 'log';
  const { categories, series } = spec;
  if (series.some((s) => s.values.length !== categories.length))
    throw new RangeError(`barChart "${spec.title}": every series needs one value per category`);
  const values = series.flatMap((s) =>
    s.values.flatMap((v, i) => (v === null || !Number.isFinite(v) ? [] : [v + (s.errors?.[i] ?? 0)])),
  );
  const positive = series.flatMap((s) => s.values.filter((v): v is number => v !== null && v > 0));
  if (log && values.some((v) => v < 0)) throw new RangeError(`barChart "${spec.title}": negative value on a log scale`);
  const frame: Frame = {
    width:
      Math.max(520, 120 + categories.length * Math.max(36, 14 * series.length + 16)) +
      legendWidth(series.map((s) => s.name)),
    height: 380,
    left: 70,
    right: legendWidth(series.map((s) => s.name)),
    top: spec.subtitle ? 56 : 40,
    bottom: 90,
  };
  const plotW = frame.width - frame.left - frame.right;
  const plotH = frame.height - frame.top - frame.bottom;
  let y: (v: number) => number;
  let ticks: number[];
  if (log) {
    const lo = positive.length ? Math.min(...positive) : 1;
    const hi = positive.length ? Math.max(...values, lo) : 10;
    ticks = decadeTicks(lo, hi);
    const a = Math.log10(ticks[0] as number);
    const b = Math.log10(ticks.at(-1) as number);
    const span = b - a || 1;
    y = (v) => frame.top + plotH * (1 - (Math.log10(v) - a) / span);
  } else {
    const [lo, hi] = spec.yDomain ?? [0, values.length ? Math.max(...values) : 1];
    ticks = niceTicks(lo, hi);
    const a = Math.min(lo, ticks[0] as number);
    const b = Math.max(hi, ticks.at(-1) as number);
    y = (v) => frame.top + plotH * (1 - (v - a) / (b - a || 1));
  }
  const base = log ? frame.top + plotH : y(Math.max(0, ticks[0] as number));
  const band = plotW / Math.max(1, categories.length);
  const barW = Math.max(2, (band - 12) / Math.max(1, series.length));
  const out = header(frame, spec.title, spec.subtitle);
  out.push(...yAxis(frame, ticks, y, base, `${spec.yLabel}${log ? ' (log scale)' : ''}`));
  categories.forEach((c, i) => {
    const cx = r2(frame.left + band * (i + 0.5));
    out.push(
      `<text transform="translate(${cx} ${frame.top + plotH + 14}) rotate(30)" text-anchor="start">${escapeXml(c)}</text>`,
    );
  });
  series.forEach((s, k) => {
    out.push(`<g class="series" data-series="${escapeXml(s.name)}" fill="${colour(k)}">`);
    s.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v) || (log && v <= 0)) return;
      const x = r2(frame.left + band * i + 6 + barW * k);
      const top = r2(y(v));
      const h = r2(Math.abs(base - top));
      out.push(
        `<rect x="${x}" y="${r2(Math.min(top, base))}" width="${r2(barW - 1)}" height="${h}" data-category="${escapeXml(categories[i] as string)}" data-value="${v}"><title>${escapeXml(`${s.name}, ${categories[i]}: ${v.toPrecision(4)}`)}</title></rect>`,
      );
      const e = s.errors?.[i];
      if (e !== undefined && e !== null && Number.isFinite(e) && e > 0) {
        const lo = log ? Math.max(v - e, v / 100) : v - e;
        const mx = r2(x + (barW - 1) / 2);
        out.push(`<line class="error" x1="${mx}" y1="${r2(y(lo))}" x2="${mx}" y2="${r2(y(v + e))}" stroke="#222222"/>`);
      }
    });
    out.push('</g>');
  });
  out.push(
    ...legend(
      frame,
      series.map((s) => s.name),
    ),
    '</svg>',
  );
  return `${out.join('\n')}\n`;
}

/** A line chart (ROC curves, training curves). */
export function lineChart(spec: LineChartSpec): string {
  const pts = spec.series.flatMap((s) => s.points.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b)));
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const [x0, x1] = spec.xDomain ?? [xs.length ? Math.min(...xs) : 0, xs.length ? Math.max(...xs) : 1];
  const [y0, y1] = spec.yDomain ?? [ys.length ? Math.min(...ys) : 0, ys.length ? Math.max(...ys) : 1];
  const xt = spec.integerX ? niceTicks(x0, x1).filter((t) => Number.isInteger(t)) : niceTicks(x0, x1);
  const yt = niceTicks(y0, y1);
  const xa = Math.min(x0, xt[0] ?? x0);
  const xb = Math.max(x1, xt.at(-1) ?? x1);
  const ya = Math.min(y0, yt[0] ?? y0);
  const yb = Math.max(y1, yt.at(-1) ?? y1);
  const names = spec.series.map((s) => s.name);
  const frame: Frame = {
    width: 520 + legendWidth(names),
    height: 400,
    left: 70,
    right: legendWidth(names),
    top: spec.subtitle ? 56 : 40,
    bottom: 56,
  };
  const plotW = frame.width - frame.left - frame.right;
  const plotH = frame.height - frame.top - frame.bottom;
  const X = (v: number) => r2(frame.left + (plotW * (v - xa)) / (xb - xa || 1));
  const Y = (v: number) => r2(frame.top + plotH * (1 - (v - ya) / (yb - ya || 1)));
  const out = header(frame, spec.title, spec.subtitle);
  out.push(
    ...yAxis(
      frame,
      yt,
      Y,
      frame.top + plotH,
      spec.yLabel,
      xt.flatMap((t) => [
        `<line x1="${X(t)}" y1="${frame.top}" x2="${X(t)}" y2="${frame.top + plotH}" stroke="#f0f0f0"/>`,
        `<text x="${X(t)}" y="${frame.top + plotH + 16}" text-anchor="middle" stroke="none" fill="#333333">${fmtTick(t)}</text>`,
      ]),
    ),
    `<text x="${frame.left + plotW / 2}" y="${frame.height - 14}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`,
  );
  if (spec.diagonal)
    out.push(
      `<line class="chance" x1="${X(Math.max(xa, ya))}" y1="${Y(Math.max(xa, ya))}" x2="${X(Math.min(xb, yb))}" y2="${Y(Math.min(xb, yb))}" stroke="#bbbbbb" stroke-dasharray="5 4"/>`,
    );
  spec.series.forEach((s, k) => {
    const finite = s.points.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
    out.push(`<g class="series" data-series="${escapeXml(s.name)}" data-points="${finite.length}">`);
    if (finite.length > 0)
      out.push(
        `<polyline fill="none" stroke="${colour(k)}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 3"' : ''} points="${finite.map(([a, b]) => `${X(a)},${Y(b)}`).join(' ')}"/>`,
      );
    if (s.markers ?? finite.length < 30)
      for (const [a, b] of finite) out.push(`<circle cx="${X(a)}" cy="${Y(b)}" r="3" fill="${colour(k)}"/>`);
    out.push('</g>');
  });
  out.push(
    ...legend(
      frame,
      names,
      spec.series.map((s) => s.dashed ?? false),
    ),
    '</svg>',
  );
  return `${out.join('\n')}\n`;
}
