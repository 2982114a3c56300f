/**
 * End to end: the CLI logic on the shipped example file (table complete, numbers equal to the library's on the
 * same data parsed independently here), JSON output, and the user errors.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fairnessReport } from '@fairclip/fairness';
import { FAIRVLMED_GROUP_NAMES } from '@fairclip/io';
import { describe, expect, test } from 'vitest';
import { EXAMPLE_FILE, parseArgs, runCli } from '../src/app.ts';

function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = runCli(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

/** The example file parsed with a plain split, independently of the app's reader. */
function parseExample() {
  const [header, ...rows] = readFileSync(EXAMPLE_FILE, 'utf8').trim().split('\n');
  expect(header).toBe('score,label,race,gender,ethnicity,language');
  const cols = rows.map((r) => r.split(',').map(Number));
  return {
    scores: cols.map((c) => c[0]!),
    labels: cols.map((c) => c[1]!),
    attributes: {
      race: cols.map((c) => c[2]!),
      gender: cols.map((c) => c[3]!),
      ethnicity: cols.map((c) => c[4]!),
      language: cols.map((c) => c[5]!),
    },
  };
}

const x100 = (v: number | null) => (v === null ? '–' : (v * 100).toFixed(2));

function tempCsv(text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'fairness-report-')), 'scores.csv');
  writeFileSync(p, text);
  return p;
}

describe('the shipped example', () => {
  const d = parseExample();
  const lib = fairnessReport(d.labels, d.scores, d.attributes, { groupNames: FAIRVLMED_GROUP_NAMES });

  test('has a few hundred rows with every FairVLMed group present', () => {
    expect(d.scores.length).toBeGreaterThanOrEqual(300);
    expect(d.scores.length).toBeLessThanOrEqual(1000);
    expect([...new Set(d.attributes.race)].sort()).toEqual([0, 1, 2]);
    expect([...new Set(d.attributes.language)].sort()).toEqual([0, 1, 2]);
    // The built-in bias is visible: group AUCs differ within every attribute.
    for (const a of Object.values(lib.attributes)) {
      const aucs = a.groups.map((g) => g.auc.value);
      expect(new Set(aucs).size).toBe(aucs.length);
    }
  });

  test('no argument: the table has every attribute row and its numbers equal the library output ×100', () => {
    const r = run([]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toContain('example-scores.csv');
    expect(lines[1]).toContain(`n = ${d.scores.length}`);
    expect(r.stdout).toContain(`AUC ${x100(lib.auc.value)}   Acc ${x100(lib.accuracy)}`);
    for (const [name, a] of Object.entries(lib.attributes)) {
      const row = lines.find((l) => l.startsWith(`${name} `));
      expect(row, `row for ${name}`).toBeDefined();
      const cells = row!.split(/\s{2,}/);
      expect(cells.slice(0, 6)).toEqual([
        name,
        x100(lib.auc.value),
        x100(a.esAuc.value),
        x100(a.dpd),
        x100(a.eod.value),
        x100(a.esAcc),
      ]);
      for (const g of a.groups) expect(row).toContain(`${g.name} ${x100(g.auc.value)} (${g.n})`);
    }
    expect(lines.filter((l) => /^(race|gender|ethnicity|language) /.test(l))).toHaveLength(4);
  });

  test("the README's sample output is what the CLI prints", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const sample = /```\n(FairCLIP fairness report: [\s\S]*?)```/.exec(readme)?.[1];
    expect(sample, 'README has the sample output block').toBeDefined();
    const printed = run([]).stdout.replace(EXAMPLE_FILE, '…/examples/fairness-report/data/example-scores.csv');
    expect(`${printed}\n`).toBe(sample);
  });

  test('--json prints the same report as the library', () => {
    const r = run(['--json']);
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.stdout);
    expect(parsed.file).toBe(EXAMPLE_FILE);
    expect(parsed.droppedUnknown).toBe(0);
    expect(parsed.report).toEqual(JSON.parse(JSON.stringify(lib)));
  });

  test('--mode fairlearn, --threshold and --alpha reach the library', () => {
    const r = run([EXAMPLE_FILE, '--json', '--mode=fairlearn', '--threshold', '0.52', '--alpha', '2']);
    const opts = { groupNames: FAIRVLMED_GROUP_NAMES, mode: 'fairlearn', threshold: 0.52, alpha: 2 } as const;
    expect(JSON.parse(r.stdout).report).toEqual(
      JSON.parse(JSON.stringify(fairnessReport(d.labels, d.scores, d.attributes, opts))),
    );
  });
});

describe('undefined values and unknown attributes', () => {
  test('a one-class group is shown as "–" with a footnote; rows with -1 are dropped and counted', () => {
    const csv = [
      'label,score,race,gender,ethnicity,language,extra',
      '1,0.9,0,0,0,0,x',
      '0,0.2,0,1,0,0,x',
      '1,0.6,1,0,0,1,x',
      '1,0.7,1,1,0,1,x',
      '0,0.4,2,0,1,0,x',
      '1,0.8,2,1,1,0,x',
      '0,0.3,-1,0,0,0,x',
    ].join('\n');
    const r = run([tempCsv(csv)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('1 rows with unknown (-1) attributes dropped');
    expect(r.stdout).toContain('n = 6');
    expect(r.stdout).toMatch(/Black –\[1\] \(2\)/);
    expect(r.stdout).toMatch(/\[1\] race Black AUC: race group 1 has only positive samples/);
    expect(r.stdout).toContain('ES-AUC for race leaves out groups 1');
    expect(r.stdout).toMatch(/Spanish –\[\d\] \(2\)/);
  });
});

describe('user errors', () => {
  test('a missing file names the path; exit code 2', () => {
    const r = run(['/nonexistent/scores.csv']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('scores file not found: /nonexistent/scores.csv');
  });

  test('a missing column names the column and the file', () => {
    const p = tempCsv('score,label,race,gender,ethnicity\n0.5,1,0,0,0\n');
    const r = run([p]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`CSV_MISSING_COLUMN: ${p}: missing column 'language'`);
    expect(r.stderr).toContain('the header needs score,label,race,gender,ethnicity,language');
  });

  test('a required column named twice is an error naming it (not the first of the two)', () => {
    const p = tempCsv('score,label,race,gender,ethnicity,language,Race\n0.5,1,0,0,0,0,2\n');
    const r = run([p]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `CSV_DUPLICATE_COLUMN: ${p}: column 'race' appears 2 times in the header (columns 3, 7)`,
    );
  });

  test('quoted fields and CRLF line ends are read as RFC 4180 says', () => {
    const rows = ['1,0.9,0,0,0,0', '0,0.2,0,1,0,0', '1,0.6,1,0,0,1', '0,0.4,1,1,1,0'];
    const plain = run([tempCsv(['label,score,race,gender,ethnicity,language', ...rows].join('\n'))]);
    const quoted = run([
      tempCsv(
        ['"label","score",race,gender,ethnicity,"language"', ...rows.map((r) => r.replace(/^(\d),/, '"$1",'))].join(
          '\r\n',
        ),
      ),
    ]);
    expect(plain.code).toBe(0);
    expect(quoted.code).toBe(0);
    const body = (s: string) => s.split('\n').slice(1).join('\n');
    expect(body(quoted.stdout)).toBe(body(plain.stdout));
    expect(quoted.stdout).toContain('n = 4');
  });

  test.each([
    ['score,label,race,gender,ethnicity,language\n0.5,2,0,0,0,0\n', /:2: label "2" must be 0 or 1/],
    ['score,label,race,gender,ethnicity,language\nabc,1,0,0,0,0\n', /:2: score "abc" is not a finite decimal number/],
    ['score,label,race,gender,ethnicity,language\n0.5,1,0,0,0\n', /line 2: 5 fields, the header \(line 1\) has 6/],
    ['score,label,race,gender,ethnicity,language\n0.5,1,0.5,0,0,0\n', /:2: race "0.5" must be an integer/],
    ['score,label,race,gender,ethnicity,language\n', /no data rows/],
    ['', /is empty/],
  ])('bad content %#', (csv, message) => {
    const r = run([tempCsv(csv)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  test('a duplicated score column is an error naming it, not the first of the two', () => {
    const p = tempCsv('score,label,race,gender,ethnicity,language,score\n0.5,1,0,0,0,0,0.9\n');
    const r = run([p]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `fairclip-fairness-report: CSV_DUPLICATE_COLUMN: ${p}: column 'score' appears 2 times in the header (columns 1, 7); rename or remove the extra one`,
    );
  });

  test.each(['0x1', '0b1', '0o7', 'Infinity', '1e999', '1_0'])(
    'numbers are strict decimals: %s is refused in every numeric column and option',
    (text) => {
      const header = 'score,label,race,gender,ethnicity,language';
      const score = run([tempCsv(`${header}\n${text},1,0,0,0,0\n`)]);
      expect(score.code).toBe(2);
      expect(score.stderr).toMatch(
        new RegExp(`:2: score "${text}" is not a finite decimal number \\(e\\.g\\. 0\\.73\\)$`),
      );
      const race = run([tempCsv(`${header}\n0.5,1,${text},0,0,0\n`)]);
      expect(race.code).toBe(2);
      expect(race.stderr).toMatch(new RegExp(`:2: race "${text}" must be an integer group code`));
      const opt = run(['--threshold', text]);
      expect(opt.code).toBe(2);
      expect(opt.stderr).toBe(
        `fairclip-fairness-report: --threshold needs a finite decimal number (e.g. 0.5), got "${text}"`,
      );
    },
  );

  test('a cell holding a line break or a very long value is printed on one line, cut', () => {
    const header = 'score,label,race,gender,ethnicity,language';
    const r = run([tempCsv(`${header}\n"0.5\n${'9'.repeat(500)}",1,0,0,0,0\n`)]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/\n/);
    expect(r.stderr.length).toBeLessThan(300);
    expect(r.stderr).toMatch(/score "0\.5\\n9+…" is not a finite decimal number/);
  });

  test('bad options', () => {
    expect(run(['--threshold', 'x']).stderr).toContain('--threshold needs a finite decimal number (e.g. 0.5), got "x"');
    expect(run(['--mode', 'sklearn']).stderr).toContain('--mode must be strict or fairlearn');
    expect(run(['--frobnicate']).stderr).toContain('unknown option --frobnicate');
    expect(run(['a.csv', 'b.csv']).code).toBe(2);
    expect(parseArgs([]).file).toBe(EXAMPLE_FILE);
    expect(run(['--help']).stdout).toContain('Usage: fairclip-fairness-report');
  });
});
