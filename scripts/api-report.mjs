#!/usr/bin/env node
// Public API reports: every name exported by each package's src/index.ts, with its kind and its declared signature
// (the text of its .d.ts declaration, comments dropped), sorted by name, one markdown file per package
// (packages/<pkg>/api-report.md).
//
//   node scripts/api-report.mjs           writes the reports
//   node scripts/api-report.mjs --check   exits 1 when a committed report differs from the sources, naming the
//                                         package and the changed lines (scripts/test.sh runs it, so CI shows every
//                                         change to a public API in review)
//
// The signatures come from TypeScript's own declaration emit (the same text as dist/index.d.ts), so inferred types
// are written out.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPORT_FILE = 'api-report.md';
const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--check');
if (unknown.length > 0) {
  console.error(`api-report: unknown argument ${unknown[0]}; usage: node scripts/api-report.mjs [--check]`);
  process.exit(2);
}
const check = args.includes('--check');

const packagesDir = join(ROOT, 'packages');
const packages = readdirSync(packagesDir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(packagesDir, d.name, 'src', 'index.ts')))
  .map((d) => {
    const dir = join(packagesDir, d.name);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    return { dir, name: pkg.name, index: join(dir, 'src', 'index.ts') };
  })
  .sort((a, b) => a.name.localeCompare(b.name));

// One program over every index (the packages share the base tsconfig), declarations emitted in memory.
const configPath = join(ROOT, 'config', 'tsconfig.base.json');
const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic });
const options = {
  ...config.options,
  noEmit: false,
  declaration: true,
  emitDeclarationOnly: true,
  declarationMap: false,
  sourceMap: false,
  outDir: join(ROOT, '.api-report-out'),
  rootDir: ROOT,
};
const program = ts.createProgram({ rootNames: packages.map((p) => p.index), options });
const errors = ts.getPreEmitDiagnostics(program).filter((d) => d.category === ts.DiagnosticCategory.Error);
if (errors.length > 0) fail(errors);
const checker = program.getTypeChecker();
/** @type {Map<string, ts.SourceFile>} source file name -> its parsed declaration file */
const declarations = new Map();
const emit = program.emit(
  undefined,
  (_name, text, _bom, _onError, sources) => {
    for (const source of sources ?? []) {
      declarations.set(source.fileName, ts.createSourceFile('x.d.ts', text, ts.ScriptTarget.Latest, true));
    }
  },
  undefined,
  true,
);
const emitErrors = emit.diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
if (emitErrors.length > 0) fail(emitErrors);

/** @type {Set<ts.Symbol> | undefined} every package's exported declarations (filled on first use) */
let allExportedCache;
const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed });

let stale = 0;
for (const pkg of packages) {
  const text = report(pkg);
  const file = join(pkg.dir, REPORT_FILE);
  const where = relative(ROOT, file);
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (check) {
    if (old !== text) {
      stale += 1;
      console.error(`api-report: ${pkg.name}: ${where} is out of date (the public API changed):`);
      console.error(diff(old, text).join('\n'));
    }
  } else if (old !== text) {
    writeFileSync(file, text);
    console.log(`api-report: wrote ${where}`);
  }
}
if (check) {
  if (stale > 0) {
    console.error(
      `api-report: ${stale} report(s) out of date; run \`node scripts/api-report.mjs\` and commit the reports ` +
        '(review the change: it is a change to a public API, and needs a changeset).',
    );
    process.exit(1);
  }
  console.log(`api-report: ${packages.length} reports up to date`);
}

/** The markdown report of one package. */
function report(pkg) {
  const sourceFile = program.getSourceFile(pkg.index);
  const moduleSymbol = checker.getSymbolAtLocation(sourceFile);
  const exported = moduleSymbol ? checker.getExportsOfModule(moduleSymbol) : [];
  const entries = [];
  const exportedTargets = new Set();
  for (const symbol of exported) {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    exportedTargets.add(target);
    entries.push({ name: symbol.name, decls: declarationsOf(target, symbol.name) });
  }
  entries.sort((a, b) => compare(a.name, b.name));
  const unexported = namedButNotExported(exported, exportedTargets);

  const lines = [
    `# API report: ${pkg.name}`,
    '',
    '<!-- Generated by `node scripts/api-report.mjs` from src/index.ts; do not edit. `--check` (run by scripts/test.sh)',
    '     fails when this file differs from the sources: regenerate it and commit it with the change. -->',
    '',
    `${entries.length} exported names.`,
    '',
    '| name | kind |',
    '| ---- | ---- |',
    ...entries.map((e) => `| \`${e.name}\` | ${[...new Set(e.decls.map((d) => d.kind))].join(', ')} |`),
    '',
  ];
  for (const e of entries) {
    lines.push(`## \`${e.name}\``, '', '```ts', ...e.decls.map((d) => d.text), '```', '');
  }
  if (unexported.length > 0) {
    lines.push(
      '## Named by the exports but not exported',
      '',
      'Types that the signatures above name, which users cannot import from any package:',
      '',
      ...unexported.map((u) => `- \`${u.name}\` (${u.file}), named by ${u.by.map((b) => `\`${b}\``).join(', ')}`),
      '',
    );
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

/**
 * Declarations of this repository's sources that the exported declarations name in their written types (parameters,
 * results, members, type arguments, heritage), but that no package's index exports. Bodies, initialisers and private
 * members are not part of the API and are skipped; inferred types are not seen.
 */
function namedButNotExported(exported, exportedTargets) {
  const allExported = exportedTargetsOfAll();
  /** @type {Map<ts.Symbol, { name: string, file: string, by: Set<string> }>} */
  const found = new Map();
  for (const symbol of exported) {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    for (const decl of target.declarations ?? []) visit(decl, symbol.name);
  }
  function visit(node, by) {
    if (ts.isTypeReferenceNode(node) || ts.isExpressionWithTypeArguments(node) || ts.isTypeQueryNode(node)) {
      const name = ts.isTypeReferenceNode(node)
        ? node.typeName
        : ts.isTypeQueryNode(node)
          ? node.exprName
          : node.expression;
      let ref = checker.getSymbolAtLocation(ts.isQualifiedName(name) ? name.right : name);
      if (ref && ref.flags & ts.SymbolFlags.Alias) ref = checker.getAliasedSymbol(ref);
      const decl = ref?.declarations?.[0];
      const file = decl?.getSourceFile().fileName;
      if (
        ref &&
        file &&
        !file.includes('/node_modules/') &&
        file.startsWith(ROOT) &&
        !ts.isTypeParameterDeclaration(decl) &&
        !exportedTargets.has(ref) &&
        !allExported.has(ref)
      ) {
        const entry = found.get(ref) ?? { name: ref.name, file: relative(ROOT, file), by: new Set() };
        entry.by.add(by);
        found.set(ref, entry);
      }
    }
    if (
      (ts.isMethodDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node)) &&
      (node.modifiers?.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword) || ts.isPrivateIdentifier(node.name))
    ) {
      return;
    }
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      for (const child of [...(node.typeParameters ?? []), ...node.parameters]) visit(child, by);
      if (node.type) visit(node.type, by);
      return;
    }
    if (ts.isParameter(node) || ts.isPropertyDeclaration(node) || ts.isVariableDeclaration(node)) {
      if (node.modifiers?.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword)) return;
      if (node.name && ts.isPrivateIdentifier(node.name)) return;
      if (node.type) visit(node.type, by);
      return;
    }
    ts.forEachChild(node, (child) => visit(child, by));
  }
  return [...found.values()]
    .map((e) => ({ ...e, by: [...e.by].sort(compare) }))
    .sort((a, b) => compare(a.name, b.name));
}

function exportedTargetsOfAll() {
  if (!allExportedCache) {
    allExportedCache = new Set();
    for (const pkg of packages) {
      const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(pkg.index));
      for (const symbol of moduleSymbol ? checker.getExportsOfModule(moduleSymbol) : []) {
        allExportedCache.add(symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol);
      }
    }
  }
  return allExportedCache;
}

/** Kind and declared text of each declaration of a symbol, from the emitted .d.ts of its module. */
function declarationsOf(symbol, exportedName) {
  const out = [];
  const seen = new Set();
  for (const decl of symbol.declarations ?? []) {
    const statement = decl.kind === ts.SyntaxKind.VariableDeclaration ? decl.parent.parent : decl;
    const source = decl.getSourceFile();
    const dts = declarations.get(source.fileName);
    const name = symbol.name;
    let text;
    if (dts) {
      const found = findDeclaration(dts, name, statement.kind);
      if (found.length > 0) text = found.map((n) => printDeclaration(n, dts)).join('\n');
    }
    if (text === undefined) {
      // A declaration outside this program's sources (a re-exported dependency): the checker's view of it.
      text = `${kindOf(statement)} ${name}: ${checker.typeToString(
        checker.getTypeOfSymbolAtLocation(symbol, decl),
        undefined,
        ts.TypeFormatFlags.NoTruncation,
      )}`;
    }
    if (exportedName !== name) text = `${text}\n// exported as ${exportedName}`;
    const key = `${kindOf(statement)}\0${text}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ kind: kindOf(statement), text });
  }
  if (out.length === 0) out.push({ kind: 'unknown', text: `// ${exportedName}: no declaration found` });
  return out;
}

/** The top-level statements of a .d.ts declaring `name` with the same syntax kind (overloads give several). */
function findDeclaration(dts, name, kind) {
  const found = [];
  for (const statement of dts.statements) {
    if (statement.kind !== kind) continue;
    if (ts.isVariableStatement(statement)) {
      const match = statement.declarationList.declarations.find((d) => ts.isIdentifier(d.name) && d.name.text === name);
      if (match) {
        found.push(
          ts.factory.updateVariableStatement(
            statement,
            statement.modifiers,
            ts.factory.updateVariableDeclarationList(statement.declarationList, [match]),
          ),
        );
      }
    } else if (statement.name && ts.isIdentifier(statement.name) && statement.name.text === name) {
      found.push(statement);
    }
  }
  return found;
}

function printDeclaration(node, dts) {
  // `export` and `declare` modifiers say nothing here: every entry is exported, every .d.ts entry is declared.
  const text = printer.printNode(ts.EmitHint.Unspecified, node, dts);
  return text.replace(/^export (default )?/, '').replace(/^declare /, '');
}

function kindOf(node) {
  switch (node.kind) {
    case ts.SyntaxKind.FunctionDeclaration:
      return 'function';
    case ts.SyntaxKind.ClassDeclaration:
      return 'class';
    case ts.SyntaxKind.InterfaceDeclaration:
      return 'interface';
    case ts.SyntaxKind.TypeAliasDeclaration:
      return 'type';
    case ts.SyntaxKind.EnumDeclaration:
      return 'enum';
    case ts.SyntaxKind.ModuleDeclaration:
      return 'namespace';
    case ts.SyntaxKind.VariableStatement:
      return node.declarationList.flags & ts.NodeFlags.Const ? 'const' : 'let';
    default:
      return ts.SyntaxKind[node.kind];
  }
}

function compare(a, b) {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : a < b ? -1 : a > b ? 1 : 0;
}

/** A unified-style line diff (longest common subsequence), changed lines with 2 lines of context. */
function diff(oldText, newText) {
  const a = oldText === '' ? [] : oldText.replace(/\n$/, '').split('\n');
  const b = newText.replace(/\n$/, '').split('\n');
  if (a.length === 0) return ['  (no committed report)', ...b.slice(0, 20).map((l) => `+ ${l}`)];
  const n = a.length;
  const m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  /** @type {{ op: ' ' | '-' | '+', line: string, at: number }[]} */
  const ops = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ op: ' ', line: a[i], at: j + 1 });
      i++;
      j++;
    } else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      ops.push({ op: '-', line: a[i], at: j + 1 });
      i++;
    } else {
      ops.push({ op: '+', line: b[j], at: j + 1 });
      j++;
    }
  }
  const keep = new Set();
  ops.forEach((o, k) => {
    if (o.op === ' ') return;
    for (let c = Math.max(0, k - 2); c <= Math.min(ops.length - 1, k + 2); c++) keep.add(c);
  });
  const out = [];
  let last = -2;
  for (let k = 0; k < ops.length; k++) {
    if (!keep.has(k)) continue;
    if (k !== last + 1) out.push(`@@ line ${ops[k].at} @@`);
    out.push(`${ops[k].op} ${ops[k].line}`);
    last = k;
  }
  return out;
}

function fail(diagnostics) {
  console.error(
    ts.formatDiagnosticsWithColorAndContext(diagnostics.slice(0, 20), {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => ROOT,
      getNewLine: () => '\n',
    }),
  );
  console.error(`api-report: the sources do not typecheck (${diagnostics.length} errors); fix them first`);
  process.exit(2);
}

function onUnRecoverableConfigFileDiagnostic(d) {
  fail([d]);
}
