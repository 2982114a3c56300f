/**
 * The SVG charts: well-formed XML (checked by fast-xml-parser's validator, an independent parser),
 * one series group per series, escaping, scales.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, test } from 'vitest';
import { barChart, decadeTicks, escapeXml, lineChart, niceTicks } from '../src/svg.ts';

export function svgSeries(svg: string): { names: string[]; root: Record<string, unknown> } {
  const valid = XMLValidator.validate(svg);
  if (valid !== true) throw new Error(`invalid SVG: ${JSON.stringify(valid.err)}`);
  const root = new XMLParser({ ignoreAttributes: false }).parse(svg) as Record<string, unknown>;
  const names = [...svg.matchAll(/<g class="series" data-series="([^"]*)"/g)].map((m) => m[1] as string);
  return { names, root };
}

describe('charts', () => {
  test('bar chart: valid SVG, one series group per series, bars only for defined values, escaped names', () => {
    const svg = barChart({
      title: 'AUC <per> group & "attribute"',
      yLabel: 'AUC',
      categories: ['Asian', 'Black', 'White'],
      yDomain: [0, 1],
      series: [
        { name: 'CLIP & co', values: [0.7, null, 0.6], errors: [0.05, null, 0] },
        { name: 'FairCLIP', values: [0.72, 0.5, 0.61] },
      ],
    });
    const { names, root } = svgSeries(svg);
    expect(names).toEqual([escapeXml('CLIP & co'), 'FairCLIP']);
    expect(root.svg).toBeDefined();
    expect(svg.match(/<rect [^>]*data-value=/g)).toHaveLength(5);
    expect(svg.match(/class="error"/g)).toHaveLength(1);
    expect(svg).toContain('<title>AUC &lt;per&gt; group &amp; &quot;attribute&quot;</title>');
  });

  test('log-scale bars: decade ticks span the data; non-positive values are refused', () => {
    const svg = barChart({
      title: 'd',
      yLabel: 'distance',
      scale: 'log',
      categories: ['a', 'b'],
      series: [{ name: 's', values: [0.0237, 63285] }],
    });
    svgSeries(svg);
    for (const t of ['0.01', '1e5']) expect(svg).toContain(`>${t}</text>`);
    expect(() =>
      barChart({ title: 'x', yLabel: 'y', scale: 'log', categories: ['a'], series: [{ name: 's', values: [-1] }] }),
    ).toThrow(/negative/);
    expect(() =>
      barChart({ title: 'x', yLabel: 'y', categories: ['a', 'b'], series: [{ name: 's', values: [1] }] }),
    ).toThrow(/one value per category/);
  });

  test('line chart: a polyline per non-empty series, the chance diagonal, empty series kept in the legend', () => {
    const svg = lineChart({
      title: 'ROC',
      xLabel: 'FPR',
      yLabel: 'TPR',
      xDomain: [0, 1],
      yDomain: [0, 1],
      diagonal: true,
      series: [
        {
          name: 'a',
          points: [
            [0, 0],
            [0.5, 0.8],
            [1, 1],
          ],
        },
        { name: 'b (one class)', points: [] },
      ],
    });
    const { names } = svgSeries(svg);
    expect(names).toEqual(['a', 'b (one class)']);
    expect(svg.match(/<polyline/g)).toHaveLength(1);
    expect(svg).toContain('class="chance"');
  });

  test('ticks: nice steps cover the range; decades', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(1, 10, 5)).toEqual([2, 4, 6, 8, 10]);
    expect(decadeTicks(0.02, 300)).toEqual([0.01, 0.1, 1, 10, 100, 1000]);
    expect(() => decadeTicks(0, 1)).toThrow(RangeError);
  });
});
