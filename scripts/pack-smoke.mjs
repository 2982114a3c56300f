// Proves the published packages work as a user gets them, with plain Node: no bundler, no tsx, no vitest.
// Packs every publishable package (packages/* that are not private) with `pnpm pack` (which rewrites workspace: and
// catalog: specifiers), lints each tarball with publint and "are the types wrong" (attw, profile esm-only: the
// packages are ES modules only, see below), `npm install`s the tarballs into an empty temporary project (so every
// package must declare its real dependencies; npm installs the required peers, tfjs-core, but not the optional ones),
// then checks there, with plain `node`:
//   - (statically) that the modules of each package's entries (".", "./testing") import only the packages it declares,
//     and that the main entry does not import an optional peer (webgpu, vitest) eagerly;
//   - that no package pulls in Dawn (`webgpu`, an optional peer of @fairclip/compute) and that there is one tfjs-core;
//   - each package README's example: the first ```ts/```js block that imports the package and does more than import,
//     made JavaScript with TypeScript's transpileModule, run from the repository root (the examples read fixtures by
//     paths relative to it); where the block has `// → value` comments, what it logs must be those values (each
//     console.log's arguments as strings, joined by spaces, as the packages' readme tests read them);
//   - scripts/pack-smoke/gradients.mjs: tf.grad of tfjs-core ops (Sum, RealDiv, MatMul, Exp, Log, Softmax, …) against
//     their closed forms, on cpu and wasm, with no tfjs warning about duplicate registrations;
//   - scripts/pack-smoke/commonjs.cjs: the same from a CommonJS module (the packages are ES modules only).
// Then a CPU-only user of ot: a second project with only the ot, compute and io tarballs (no Dawn installed) runs ot's
// README example on cpu and wasm, and scripts/pack-smoke/webgpu-optional.mjs checks that backend 'webgpu' fails with
// one line naming the package to install while 'auto' falls back; after `npm install webgpu` there, the webgpu backend
// works (software adapters allowed; no adapter is a skip, or a failure under REQUIRE_WEBGPU=1) and ot's README
// example runs on it.
// Prints one line per check and a closing line "pack-smoke: N passed, M failed"; exits non-zero when one failed.
// Usage: node scripts/pack-smoke.mjs [--no-build] [--keep]   (the third-party dependencies come from npm's cache, else
// the registry). It builds the packages first (turbo, cached) unless --no-build; --keep keeps the temporary project.
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const root = new URL('..', import.meta.url).pathname;
const args = new Set(process.argv.slice(2));
const ts = createRequire(join(root, 'package.json'))('typescript');
const timeoutMs = 5 * 60_000;
const requireWebGPU = process.env.REQUIRE_WEBGPU === '1';

/** The README's example: the first ```ts/```js block importing `name` that has statements besides imports. */
function readmeExample(readme, name) {
  for (const [, lang, code] of readme.matchAll(/```(ts|js)\n([\s\S]*?)```/g)) {
    const sf = ts.createSourceFile(`example.${lang}`, code, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
    const imports = sf.statements.filter(ts.isImportDeclaration);
    const importsSelf = imports.some((s) => ts.isStringLiteral(s.moduleSpecifier) && s.moduleSpecifier.text === name);
    if (importsSelf && sf.statements.length > imports.length) return code;
  }
  return undefined;
}

/** The values a block says it prints, one per `// → value` comment, in order. */
function expectedOutput(code) {
  return code
    .split('\n')
    .filter((l) => l.includes('// → '))
    .map((l) => l.split('// → ')[1].trim());
}

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20, ...opts });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const failure = r.error ? r.error.message : r.status !== 0 ? `exit ${r.status ?? r.signal}` : undefined;
  return { ...r, output, failure };
}

function tail(text, lines = 25) {
  return text.trimEnd().split('\n').slice(-lines).join('\n').replace(/^/gm, '    ');
}

const packages = readdirSync(join(root, 'packages'))
  .map((d) => join(root, 'packages', d))
  .filter((d) => existsSync(join(d, 'package.json')))
  .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
  .filter(({ pkg }) => !pkg.private);

if (!args.has('--no-build')) {
  // Cached by turbo: rebuilds only what changed, so the tarballs never hold a stale dist/.
  const filters = packages.map(({ pkg }) => `--filter=${pkg.name}`);
  const b = run('pnpm', ['exec', 'turbo', 'run', 'build', ...filters, '--output-logs=errors-only'], {
    cwd: root,
    timeout: 3 * timeoutMs, // a cold build of every package on a busy machine
  });
  if (b.failure) {
    console.log(`pack-smoke: build failed (${b.failure})\n${tail(b.output)}\npack-smoke: 0 passed, 1 failed`);
    process.exit(1);
  }
}

const work = mkdtempSync(join(tmpdir(), 'fairclip-pack-smoke-'));
const tarballs = join(work, 'tarballs');
const app = join(work, 'app');
mkdirSync(tarballs);
mkdirSync(app);
let passed = 0;
let failed = 0;
const report = (ok, what, detail) => {
  if (ok) passed++;
  else failed++;
  console.log(`pack-smoke: ${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `\n${detail}` : ''}`);
};
const finish = () => {
  if (!args.has('--keep')) rmSync(work, { recursive: true, force: true });
  else console.log(`pack-smoke: kept ${work}`);
  console.log(`pack-smoke: ${passed} passed, ${failed} failed`);
  process.exit(failed > 0 || passed === 0 ? 1 : 0);
};

// 1. Pack, and lint each tarball as published.
for (const { dir, pkg } of packages) {
  const p = run('pnpm', ['pack', '--pack-destination', tarballs], { cwd: dir });
  if (p.failure) report(false, `pnpm pack ${pkg.name} (${p.failure})`, tail(p.output));
}
const files = readdirSync(tarballs).filter((f) => f.endsWith('.tgz'));
if (failed > 0 || files.length !== packages.length) {
  report(false, `packed ${files.length} of ${packages.length} packages`);
  finish();
}
/** The tarball of a package: pnpm pack names it <scope>-<name>-<version>.tgz. */
const tarballOf = (pkg) => join(tarballs, `${pkg.name.replace('@', '').replace('/', '-')}-${pkg.version}.tgz`);

for (const { pkg } of packages) {
  const tgz = tarballOf(pkg);
  // publint: package.json against the packed files (exports, types, formats, files); every message counts, from
  // suggestions up.
  const buf = readFileSync(tgz);
  const lint = await publint({
    pack: { tarball: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) },
    level: 'suggestion',
    strict: true,
  });
  report(
    lint.messages.length === 0,
    `${pkg.name}: publint${lint.messages.length > 0 ? ` (${lint.messages.length} problem(s))` : ''}`,
    lint.messages.map((m) => `    ${m.type}: ${formatMessage(m, lint.pkg, { color: false })}`).join('\n') || undefined,
  );
  // attw: each entry's types against its JavaScript under every resolution TypeScript users may have. Profile
  // esm-only: the packages ship ES modules only (type "module", no CommonJS build), so it skips the two resolutions
  // that cannot apply: node10 (moduleResolution "node", which ignores `exports`, so no subpath such as ./testing) and
  // node16 from CommonJS, where a require() resolving to an ES module (CJSResolvesToESM) is what ESM-only means
  // (Node >= 20.19 / 22.12 can require() them; commonjs.cjs below checks that and `await import()` at run time).
  const attw = run(join(root, 'node_modules', '.bin', 'attw'), [
    tgz,
    '--profile',
    'esm-only',
    '--format',
    'ascii',
    '--no-color',
    '--no-emoji',
  ]);
  report(
    !attw.failure,
    `${pkg.name}: are the types wrong (attw --profile esm-only)`,
    attw.failure && tail(attw.output),
  );
}

// 2. Install into an empty project, as a user would.
function npmInstall(dir, specs) {
  const t0 = Date.now();
  const r = run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error', ...specs], {
    cwd: dir,
  });
  return { ...r, took: `${((Date.now() - t0) / 1000).toFixed(0)} s` };
}
writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'pack-smoke', private: true }, null, 2)}\n`);
const install = npmInstall(
  app,
  files.map((f) => join(tarballs, f)),
);
report(
  !install.failure,
  `npm install of ${files.length} tarballs into an empty project (${install.took})` +
    (install.failure ? ` (${install.failure})` : ''),
  install.failure ? tail(install.output) : undefined,
);
if (install.failure) finish();

/** Every installed copy of package `name` under dir/node_modules, nested ones included. */
function copiesOf(dir, name, found = []) {
  const nm = join(dir, 'node_modules');
  if (!existsSync(nm)) return found;
  if (existsSync(join(nm, ...name.split('/'), 'package.json'))) found.push(join(nm, ...name.split('/')));
  for (const entry of readdirSync(nm)) {
    if (entry.startsWith('.')) continue;
    const scoped = entry.startsWith('@') ? readdirSync(join(nm, entry)).map((e) => join(entry, e)) : [entry];
    for (const e of scoped) copiesOf(join(nm, e), name, found);
  }
  return found;
}
/** No package of the project pulled in Dawn, and there is exactly one tfjs-core (it keeps one global engine). */
function checkInstalledSet(dir, what) {
  const dawn = copiesOf(dir, 'webgpu');
  report(
    dawn.length === 0,
    `${what}: Dawn (webgpu) is not installed${dawn.length ? ` (found ${dawn.join(', ')})` : ''}`,
  );
  const cores = copiesOf(dir, '@tensorflow/tfjs-core');
  report(
    cores.length === 1,
    `${what}: one copy of @tensorflow/tfjs-core (${cores.length} found${cores.length > 1 ? `: ${cores.join(', ')}` : ''})`,
  );
}
checkInstalledSet(app, 'all packages');

// 3. npm hoists dependencies, so a package could import one it does not declare and still run here: check
// statically that every package that the modules of each entry import (statically or by import()) is declared, and
// that the main entry imports no optional peer eagerly (CPU users do not install Dawn; vitest is for ./testing).
const builtins = new Set(builtinModules);
const packageName = (spec) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');
for (const { pkg } of packages) {
  const installed = join(app, 'node_modules', ...pkg.name.split('/'));
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  const declared = new Set(Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }));
  const optional = new Set(
    Object.entries(manifest.peerDependenciesMeta ?? {})
      .filter(([, meta]) => meta?.optional)
      .map(([name]) => name),
  );
  const entries = Object.entries(manifest.exports ?? { '.': manifest.main })
    .map(([subpath, target]) => [subpath, typeof target === 'string' ? target : target?.import])
    .filter(([, target]) => typeof target === 'string' && target.endsWith('.js'));
  for (const [subpath, target] of entries) {
    const seen = new Set();
    const undeclared = new Set();
    const eager = new Set();
    const queue = [join(installed, target)];
    while (queue.length > 0) {
      const file = queue.pop();
      if (seen.has(file)) continue;
      seen.add(file);
      const src = readFileSync(file, 'utf8');
      // from '…' and import '…' load eagerly; import('…') on demand.
      const specs = src.matchAll(
        /\bfrom\s*['"]([^'"]+)['"]|\bimport\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]/g,
      );
      for (const [, from, bare, dynamic] of specs) {
        const spec = from ?? bare ?? dynamic;
        if (spec.startsWith('.')) queue.push(join(dirname(file), spec));
        else if (!spec.startsWith('node:') && !builtins.has(packageName(spec))) {
          const name = packageName(spec);
          if (!declared.has(name)) undeclared.add(name);
          if (subpath === '.' && optional.has(name) && dynamic === undefined) eager.add(name);
        }
      }
    }
    report(
      undeclared.size === 0 && eager.size === 0,
      `${pkg.name}: its entry "${subpath}" (${seen.size} file${seen.size === 1 ? '' : 's'}) imports only declared dependencies` +
        (subpath === '.' && optional.size > 0 ? `, optional peers (${[...optional].join(', ')}) only on demand` : '') +
        (undeclared.size > 0 ? ` (undeclared: ${[...undeclared].join(', ')})` : '') +
        (eager.size > 0 ? ` (imports the optional ${[...eager].join(', ')} eagerly)` : ''),
    );
  }
}

// 4. Run each README example and the gradient checks with plain node.
const checks = [];
/** A package's README example as an ES module file written to `dir` (undefined when the README has none). */
function writeReadmeExample({ dir, pkg }, into, rewrite = (code) => code, suffix = '') {
  const readme = existsSync(join(dir, 'README.md')) ? readFileSync(join(dir, 'README.md'), 'utf8') : '';
  const source = readmeExample(readme, pkg.name);
  if (source === undefined) return undefined;
  const code = rewrite(source);
  if (code === undefined) return undefined;
  const js = ts.transpileModule(code, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
  }).outputText;
  const expected = expectedOutput(code);
  // `// → value` means console.log's arguments as strings, joined by spaces (as the packages' readme tests read it).
  const log = "console.log = (...a) => process.stdout.write(a.map(String).join(' ') + '\\n');\n";
  const file = join(into, `readme-${pkg.name.split('/').pop()}${suffix}.mjs`);
  writeFileSync(file, expected.length > 0 ? log + js : js);
  return { file, expected };
}
for (const p of packages) {
  const example = writeReadmeExample(p, app);
  if (example === undefined) {
    report(false, `${p.pkg.name}: README.md has no \`\`\`ts/\`\`\`js example that imports ${p.pkg.name}`);
    continue;
  }
  checks.push({ what: `${p.pkg.name} README example`, argv: [example.file], expected: example.expected });
}
for (const f of readdirSync(join(root, 'scripts', 'pack-smoke')))
  copyFileSync(join(root, 'scripts', 'pack-smoke', f), join(app, f));
for (const backend of ['cpu', 'wasm']) {
  checks.push({ what: `tfjs-core gradients on ${backend} (ES module)`, argv: [join(app, 'gradients.mjs'), backend] });
}
checks.push({ what: 'tfjs-core gradients from CommonJS', argv: [join(app, 'commonjs.cjs')] });

function runCheck(c) {
  const t0 = Date.now();
  // From the repository root: the README examples read test-fixtures/ by relative paths.
  const r = run(process.execPath, c.argv, { cwd: root, env: { ...process.env, NODE_OPTIONS: '' } });
  const took = `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  if (c.skipStatus !== undefined && r.status === c.skipStatus && !r.error) {
    const why = r.stdout.trim().split('\n').pop();
    if (requireWebGPU) report(false, `${c.what}: ${why} (REQUIRE_WEBGPU=1, ${took})`);
    else console.log(`pack-smoke: skip ${c.what}: ${why} (REQUIRE_WEBGPU=1 makes this a failure)`);
    return false;
  }
  if (r.failure) {
    report(false, `${c.what} (${r.failure}, ${took})`, tail(r.output));
    return false;
  }
  // tfjs warns (and goes on) when a second copy of tfjs-core code registers a platform, flag, kernel or backend.
  const dup = r.output.split('\n').find((l) => /already (been )?(set|registered)|Overriding|could not load/i.test(l));
  if (dup) {
    report(false, `${c.what}: unexpected warning (${took})`, `    ${dup}`);
    return false;
  }
  if (c.expected?.length) {
    const printed = r.stdout.trimEnd().split('\n');
    const same = printed.length === c.expected.length && printed.every((l, i) => l === c.expected[i]);
    if (!same) {
      const diff = c.expected
        .map((e, i) => (e === printed[i] ? '' : `    expected ${e}\n    printed  ${printed[i] ?? '(nothing)'}\n`))
        .join('')
        .concat(printed.length > c.expected.length ? `    and ${printed.length - c.expected.length} more lines\n` : '')
        .trimEnd();
      report(false, `${c.what}: printed values differ from its // → comments (${took})`, diff);
      return false;
    }
  }
  const said = c.echo ? `: ${r.stdout.trim().split('\n').pop()}` : '';
  report(true, `${c.what} (${took})${said}`);
  return true;
}
for (const c of checks) runCheck(c);

// 5. A CPU-only user of ot: only the ot, compute and io tarballs (what ot needs), so no Dawn; then the same project
// with Dawn added.
const ot = packages.find(({ pkg }) => pkg.name === '@fairclip/ot');
const compute = packages.find(({ pkg }) => pkg.name === '@fairclip/compute');
const io = packages.find(({ pkg }) => pkg.name === '@fairclip/io');
const otApp = join(work, 'app-ot');
mkdirSync(otApp);
writeFileSync(join(otApp, 'package.json'), `${JSON.stringify({ name: 'pack-smoke-ot', private: true }, null, 2)}\n`);
const otInstall = npmInstall(otApp, [tarballOf(ot.pkg), tarballOf(compute.pkg), tarballOf(io.pkg)]);
report(
  !otInstall.failure,
  `npm install of the ot, compute and io tarballs alone (${otInstall.took})` +
    (otInstall.failure ? ` (${otInstall.failure})` : ''),
  otInstall.failure ? tail(otInstall.output) : undefined,
);
if (otInstall.failure) finish();
checkInstalledSet(otApp, 'ot and compute alone');
copyFileSync(join(root, 'scripts', 'pack-smoke', 'webgpu-optional.mjs'), join(otApp, 'webgpu-optional.mjs'));
/** ot's README example with its initCompute({ backend: 'cpu' }) switched to `backend`. */
function otExample(backend) {
  const options =
    backend === 'webgpu' ? "{ backend: 'webgpu', allowSoftwareAdapter: true }" : `{ backend: '${backend}' }`;
  const example = writeReadmeExample(
    ot,
    otApp,
    (code) => {
      const call = /initCompute\(\{\s*backend:\s*'cpu'\s*\}\)/;
      return call.test(code) ? code.replace(call, `initCompute(${options})`) : undefined;
    },
    `-${backend}`,
  );
  if (example === undefined) report(false, "ot's README example no longer calls initCompute({ backend: 'cpu' })");
  return example && { what: `${ot.pkg.name} README example on ${backend}`, argv: [example.file], expected: [] };
}
for (const backend of ['cpu', 'wasm']) {
  const c = otExample(backend);
  if (c) runCheck(c);
}
runCheck({
  what: "without Dawn: backend 'webgpu' and 'auto'",
  argv: [join(otApp, 'webgpu-optional.mjs'), 'missing'],
  echo: true,
});

const webgpuRange = JSON.parse(
  readFileSync(join(otApp, 'node_modules', '@fairclip', 'compute', 'package.json'), 'utf8'),
).peerDependencies?.webgpu;
if (!webgpuRange) report(false, '@fairclip/compute declares no peer dependency on webgpu');
else {
  const dawn = npmInstall(otApp, [`webgpu@${webgpuRange}`]);
  report(
    !dawn.failure,
    `npm install webgpu@${webgpuRange} next to them (${dawn.took})${dawn.failure ? ` (${dawn.failure})` : ''}`,
    dawn.failure ? tail(dawn.output) : undefined,
  );
  if (!dawn.failure) {
    const works = runCheck({
      what: "with Dawn: backend 'webgpu'",
      argv: [join(otApp, 'webgpu-optional.mjs'), 'present'],
      skipStatus: 3,
      echo: true,
    });
    const c = works ? otExample('webgpu') : undefined;
    if (c) runCheck(c);
  }
}
finish();
