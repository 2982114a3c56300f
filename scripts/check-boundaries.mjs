// Executable architecture rules (see README "Architecture"), checked on package.json AND on the imports of every
// library's source (packages/*/src: every `import`, `export … from`, `import()`, `import x = require()`, type import
// `import('x').T` and `/// <reference types>`, parsed with TypeScript's parser; an `import(name)` whose argument is a
// `const name = '…'` of the same file counts as importing that string, other computed specifiers are not packages):
//  - every package a library's source imports is declared in its dependencies or peerDependencies (devDependencies
//    are not installed for users), and every declared dependency or peer is imported somewhere in its source;
//  - the @fairclip dependencies of each library are those of the diagram (ALLOWED below), with no cycle;
//  - io is a leaf: no tensor engine and no other @fairclip package;
//  - fairness, datasets and io take plain typed arrays: no tensor engine, directly or through another package;
//  - only @fairclip/compute depends on or imports concrete tfjs backends or Dawn; other libraries never pick a backend;
//  - libraries never import the example apps, nor reach outside their own folder by a relative path;
//  - every library package has explicit exports with the source condition, sideEffects false and a README;
//  - the installed workspace has one copy of tfjs-core and of vitest.
// Prints "boundaries: ok", or each problem and exits 1.
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { join, relative, resolve, sep } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const ts = createRequire(join(root, 'package.json'))('typescript');
const errors = [];

const backendDeps = new Set([
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-backend-webgpu',
  '@tensorflow/tfjs-backend-webgl',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  'webgpu',
]);
const isTensorEngine = (name) => name.startsWith('@tensorflow/') || name === 'webgpu';
const tensorFree = new Set(['@fairclip/fairness', '@fairclip/datasets', '@fairclip/io']);
const leaves = new Set(['@fairclip/io']);
/** The README diagram: the @fairclip packages each library may depend on (and import). */
const ALLOWED = {
  '@fairclip/compute': ['@fairclip/io'],
  '@fairclip/io': [],
  '@fairclip/ot': ['@fairclip/compute', '@fairclip/io'],
  '@fairclip/clip': ['@fairclip/compute', '@fairclip/io'],
  '@fairclip/datasets': ['@fairclip/io'],
  '@fairclip/fairness': ['@fairclip/io'],
  '@fairclip/train': ['@fairclip/ot', '@fairclip/clip', '@fairclip/datasets', '@fairclip/fairness', '@fairclip/io'],
};
const builtins = new Set(builtinModules);

/** The package a bare specifier names ('@scope/name/sub' → '@scope/name'); undefined for relative, node: and #. */
function packageOf(spec) {
  if (/^(\.|\/|#|node:|data:|file:)/.test(spec) || /^[a-z]+:\/\//.test(spec)) return undefined;
  const name = spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');
  return builtins.has(name) ? undefined : name;
}

function sourceFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|tsx|mts|cts|js|mjs|cjs)$/.test(entry) && !entry.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Every module specifier `file` imports or re-exports, with its line. */
function importsOf(file) {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found = [];
  const add = (spec, node) =>
    found.push({ spec, line: node ? sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1 : 1 });
  // const name = '…' at any level of the file, for import(name).
  const constants = new Map();
  const literal = (e) => (e && (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) ? e.text : undefined);
  const collect = (node) => {
    if (
      ts.isVariableDeclaration(node) &&
      ts.isIdentifier(node.name) &&
      node.parent.flags & ts.NodeFlags.Const &&
      literal(node.initializer) !== undefined
    )
      constants.set(node.name.text, literal(node.initializer));
    ts.forEachChild(node, collect);
  };
  collect(sf);
  const visit = (node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      add(literal(node.moduleSpecifier), node);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(literal(node.moduleReference.expression), node);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      const spec = literal(arg) ?? (arg && ts.isIdentifier(arg) ? constants.get(arg.text) : undefined);
      if (spec !== undefined) add(spec, node);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(literal(node.argument.literal), node);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  for (const ref of sf.typeReferenceDirectives) found.push({ spec: ref.fileName, line: 1 });
  return found.filter((f) => f.spec !== undefined);
}

const libraries = new Map(); // name → { dir, pkg, declared, imports: Map<package, 'file:line'> }
for (const d of readdirSync(join(root, 'packages'))) {
  const dir = join(root, 'packages', d);
  const pj = join(dir, 'package.json');
  if (!existsSync(pj)) continue;
  const pkg = JSON.parse(readFileSync(pj, 'utf8'));
  const declared = new Set(Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies }));
  const imports = new Map();
  const srcDir = join(dir, 'src');
  for (const file of existsSync(srcDir) ? sourceFiles(srcDir) : []) {
    const rel = relative(root, file);
    for (const { spec, line } of importsOf(file)) {
      const at = `${rel}:${line}`;
      if (spec.startsWith('.')) {
        const target = resolve(file, '..', spec);
        if (!`${target}${sep}`.startsWith(`${dir}${sep}`))
          errors.push(`${at}: '${spec}' reaches outside ${pkg.name}'s folder (import the package by its name)`);
        if (`${target}${sep}`.startsWith(join(root, 'examples') + sep))
          errors.push(`${at}: libraries never import the example apps ('${spec}')`);
        continue;
      }
      const name = packageOf(spec);
      if (name === undefined || name === pkg.name) continue;
      if (!imports.has(name)) imports.set(name, at);
      if (!declared.has(name))
        errors.push(
          `${at}: ${pkg.name} imports '${spec}' but its package.json does not declare '${name}'` +
            ' (add it to dependencies or peerDependencies; devDependencies are not installed for users)',
        );
    }
  }
  libraries.set(pkg.name, { dir, pkg, declared, imports });
}

for (const [name, { dir, pkg, declared, imports }] of libraries) {
  // Declared but never imported: a dependency every user installs for nothing. Optional peers are exempt (never
  // installed for users; e.g. train's image workers load tsx from a string only when run from source).
  const optionalPeers = new Set(
    Object.entries(pkg.peerDependenciesMeta ?? {})
      .filter(([, meta]) => meta?.optional)
      .map(([n]) => n),
  );
  for (const d of declared)
    if (!imports.has(d) && !optionalPeers.has(d))
      errors.push(`${name} declares '${d}' but its src/ never imports it (remove it, or move it to devDependencies)`);
  // Dependencies (package.json) and imports (source), checked by the same rules.
  const uses = [
    ...[...declared].map((d) => ({ d, where: `${name} (package.json)`, verb: 'depend on' })),
    ...[...imports].map(([d, at]) => ({ d, where: at, verb: 'import' })),
  ];
  for (const { d, where, verb } of uses) {
    if (d.startsWith('@fairclip/example-')) errors.push(`${where}: libraries never ${verb} the example apps (${d})`);
    else if (d.startsWith('@fairclip/') && d !== '@fairclip/test-fixtures') {
      const allowed = ALLOWED[name];
      if (allowed === undefined) errors.push(`${name}: not in the architecture table of scripts/check-boundaries.mjs`);
      else if (!allowed.includes(d))
        errors.push(
          `${where}: ${name} must not ${verb} ${d} (README "Architecture": ${name} → ${allowed.join(', ') || 'nothing'})`,
        );
    }
    if (leaves.has(name) && d.startsWith('@fairclip/'))
      errors.push(`${where}: ${name} is a leaf and must not ${verb} ${d}`);
    if (tensorFree.has(name) && (isTensorEngine(d) || d === '@fairclip/compute'))
      errors.push(`${where}: ${name} takes plain typed arrays and must not ${verb} ${d}`);
    if (name !== '@fairclip/compute' && backendDeps.has(d))
      errors.push(
        `${where}: ${name} must not ${verb} the backend ${d} (only @fairclip/compute and apps pick backends)`,
      );
  }
  if (pkg.sideEffects !== false) errors.push(`${name}: "sideEffects": false is required`);
  const dot = pkg.exports?.['.'];
  if (!dot?.['@fairclip/source'] || !dot.types || !dot.import)
    errors.push(`${name}: exports["."] needs "@fairclip/source", "types" and "import"`);
  if (!existsSync(join(dir, 'README.md'))) errors.push(`${name}: README.md missing`);
}

// Through other @fairclip packages: a tensor-free package must not reach a tensor engine indirectly, and the
// dependency graph has no cycle.
const edges = (name) => [...(libraries.get(name)?.declared ?? [])].filter((d) => libraries.has(d));
function pathTo(from, accept, seen = new Set()) {
  for (const d of edges(from)) {
    if (accept(d)) return [d];
    if (seen.has(d)) continue;
    seen.add(d);
    const rest = pathTo(d, accept, seen);
    if (rest) return [d, ...rest];
  }
  return undefined;
}
for (const name of libraries.keys()) {
  const engine = [...libraries.get(name).declared].find(isTensorEngine);
  if (tensorFree.has(name) && !engine) {
    const path = pathTo(name, (d) => [...(libraries.get(d)?.declared ?? [])].some(isTensorEngine));
    if (path) errors.push(`${name} takes plain typed arrays but reaches a tensor engine via ${path.join(' → ')}`);
  }
  const cycle = pathTo(name, (d) => d === name);
  if (cycle) errors.push(`dependency cycle: ${[name, ...cycle].join(' → ')}`);
}

// One copy of each singleton in the installed workspace: tfjs-core keeps one global engine (a second copy has no
// backends or kernels), and @fairclip/compute/testing's `vitest` must be the runner's. pnpm gives a package with peer
// dependencies one copy per set of resolved peers, so e.g. compute's optional vitest peer can resolve to another
// copy than the root's (then pin what differs in compute's devDependencies, as its esbuild is).
const projects = [
  root,
  ...['packages', 'examples'].flatMap((d) => readdirSync(join(root, d)).map((p) => join(root, d, p))),
];
for (const name of ['@tensorflow/tfjs-core', 'vitest']) {
  const copies = new Map();
  for (const dir of [...projects, join(root, 'test-fixtures')]) {
    const link = join(dir, 'node_modules', ...name.split('/'));
    if (!existsSync(link)) continue;
    const real = realpathSync(link);
    copies.set(real, [...(copies.get(real) ?? []), relative(root, dir) || '.']);
  }
  if (copies.size > 1)
    errors.push(
      `${copies.size} copies of ${name} in the workspace: ${[...copies]
        .map(([real, users]) => `${relative(root, real)} (${users.join(', ')})`)
        .join('; ')}`,
    );
}

if (errors.length) {
  console.error(`boundaries: ${errors.length} problem(s)\n  ${errors.join('\n  ')}`);
  process.exit(1);
}
const importCount = [...libraries.values()].reduce((n, l) => n + l.imports.size, 0);
console.log(`boundaries: ok (${libraries.size} packages, ${importCount} imported packages checked)`);
