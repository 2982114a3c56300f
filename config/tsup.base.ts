// The one shared tsup configuration: every package's tsup.config.ts calls libraryConfig(); an example app's, appConfig().
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { defineConfig, type Options } from 'tsup';
import ts from 'typescript';

type Plugin = NonNullable<Options['esbuildPlugins']>[number];

export function libraryConfig(entry: Record<string, string> = { index: 'src/index.ts' }, extra: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm'],
    target: 'node20',
    platform: 'neutral',
    dts: true,
    sourcemap: true,
    clean: true,
    splitting: false,
    treeshake: true,
    ...extra,
  });
}

/**
 * An example app's CLI: one node entry with a shebang. The shared app code (@fairclip/example-common, from its source,
 * so it needs no build of its own) is bundled in; the libraries stay external (resolved from their dist/), tfjs-core's
 * gradients included (@fairclip/compute's initCompute registers them, see its src/gradients.ts).
 */
export function appConfig(entry: Record<string, string> = { cli: 'src/cli.ts' }) {
  return libraryConfig(entry, {
    platform: 'node',
    dts: false,
    banner: { js: '#!/usr/bin/env node' },
    noExternal: [/@fairclip\/example-common/],
    esbuildOptions(options) {
      options.conditions = ['@fairclip/source'];
    },
  });
}

/**
 * An esbuild plugin for bundling files of tfjs-core's ES build (dist/*.js, e.g. `register_all_gradients`, which plain
 * Node cannot load: extensionless imports) with as little of tfjs-core copied as possible. Each import between two
 * tfjs-core files is redirected to `@tensorflow/tfjs-core` itself (left external) when every binding it imports is
 * reachable from tfjs-core's public API as the very same binding: a top-level export that re-exports it, a member
 * of a public namespace (`util`, `backend_util`, …) that is that module, or a public zero-argument getter that
 * returns it (`engine()` returns `ENGINE`). Anything else (the gradient configs, ops tfjs-core does not export) is
 * bundled. The re-export chains are read from tfjs-core's files (TypeScript's parser), so nothing is listed by
 * hand and a tfjs-core upgrade is handled or falls back to bundling.
 */
export function tfjsCorePublicApiPlugin(): Plugin {
  const marker = `${sep}@tensorflow${sep}tfjs-core${sep}dist${sep}`;
  const analyses = new Map<string, PublicApi>();
  return {
    name: 'tfjs-core-public-api',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        const at = args.importer.indexOf(marker);
        if (args.namespace !== 'file' || at < 0) return undefined;
        const dist = args.importer.slice(0, at + marker.length - 1);
        const api = analyses.get(dist) ?? new PublicApi(dist);
        analyses.set(dist, api);
        const target = api.fileOf(args.importer, args.path);
        if (!target) return undefined;
        const names = api.redirect(args.importer, target);
        if (!names) return undefined; // bundled
        return {
          path: `${relative(dist, target)}?${[...names.keys()].join(',')}`,
          namespace: 'tfjs-core-public-api',
          pluginData: [...names.values()],
        };
      });
      build.onLoad({ filter: /.*/, namespace: 'tfjs-core-public-api' }, (args) => ({
        contents: `import * as __tf from '@tensorflow/tfjs-core';\n${(args.pluginData as string[]).join('\n')}\n`,
        loader: 'js',
      }));
    },
  };
}

interface ModuleFacts {
  imports: Map<string, { src: string; name: string }>; // local name → imported binding ('*': namespace)
  locals: Map<string, string>; // exported name → local name
  reexports: Map<string, { src: string; name: string }>; // `export { name as exported } from src`
  stars: string[]; // `export * from src`
  getters: Map<string, string>; // `export function f() { return X; }`: f → X
}

/** What tfjs-core's public API (dist/index.js) exports, traced back to the module and binding that define it. */
class PublicApi {
  private readonly modules = new Map<string, ModuleFacts>();
  /** origin ('file#name', or 'file#*' for a module namespace object) → public expression or top-level name. */
  private readonly access = new Map<string, { name: string } | { expr: string }>();

  constructor(dist: string) {
    const index = join(dist, 'index.js');
    const top = this.exportNames(index);
    const origins = top.map((n) => [n, this.origin(index, n)] as const);
    for (const [n, o] of origins) if (o && !this.access.has(o)) this.access.set(o, { name: n });
    for (const [n, o] of origins) {
      if (!o?.endsWith('#*')) continue; // members of public namespaces (util, backend_util, …)
      const ns = o.slice(0, -2);
      for (const k of this.exportNames(ns)) {
        const ok = this.origin(ns, k);
        if (ok && !this.access.has(ok)) this.access.set(ok, { expr: `__tf.${n}.${k}` });
      }
    }
    for (const [n, o] of origins) {
      if (!o || o.endsWith('#*')) continue; // public getters: engine() → ENGINE
      const [file, fn] = o.split('#') as [string, string];
      const returned = this.facts(file).getters.get(fn);
      if (returned === undefined) continue;
      const imp = this.facts(file).imports.get(returned);
      const from = imp && imp.name !== '*' ? this.fileOf(file, imp.src) : undefined;
      const target = imp ? from && this.origin(from, imp.name) : `${file}#${returned}`;
      if (target && !this.access.has(target)) this.access.set(target, { expr: `__tf.${n}()` });
    }
  }

  fileOf(from: string, spec: string): string | undefined {
    const base = resolve(dirname(from), spec);
    return [`${base}.js`, base, join(base, 'index.js')].find((f) => f.endsWith('.js') && existsSync(f));
  }

  /**
   * For each binding `importer` imports from `target`, the line of a module that takes it from the public API;
   * undefined when one has no public equivalent (then `target` is bundled).
   */
  redirect(importer: string, target: string): Map<string, string> | undefined {
    const names = new Set<string>();
    for (const imp of this.facts(importer).imports.values()) {
      if (this.fileOf(importer, imp.src) !== target) continue;
      for (const n of imp.name === '*' ? this.exportNames(target) : [imp.name]) names.add(n);
    }
    const lines = new Map<string, string>();
    for (const n of [...names].sort()) {
      const origin = this.origin(target, n);
      const a = origin === undefined ? undefined : this.access.get(origin);
      if (!a) return undefined;
      // Re-exports keep live bindings; namespace members and getter results are constants (functions, ENGINE).
      lines.set(
        n,
        'name' in a ? `export { ${a.name} as ${n} } from '@tensorflow/tfjs-core';` : `export const ${n} = ${a.expr};`,
      );
    }
    return lines.size > 0 ? lines : undefined;
  }

  private facts(file: string): ModuleFacts {
    const known = this.modules.get(file);
    if (known) return known;
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
    const m: ModuleFacts = {
      imports: new Map(),
      locals: new Map(),
      reexports: new Map(),
      stars: [],
      getters: new Map(),
    };
    for (const s of sf.statements) {
      if (ts.isImportDeclaration(s) && s.importClause && ts.isStringLiteral(s.moduleSpecifier)) {
        const src = s.moduleSpecifier.text;
        const { name, namedBindings: nb } = s.importClause;
        if (name) m.imports.set(name.text, { src, name: 'default' });
        if (nb && ts.isNamespaceImport(nb)) m.imports.set(nb.name.text, { src, name: '*' });
        if (nb && ts.isNamedImports(nb))
          for (const e of nb.elements) m.imports.set(e.name.text, { src, name: (e.propertyName ?? e.name).text });
      } else if (ts.isExportDeclaration(s)) {
        const src = s.moduleSpecifier && ts.isStringLiteral(s.moduleSpecifier) ? s.moduleSpecifier.text : undefined;
        if (!s.exportClause) {
          if (src) m.stars.push(src);
        } else if (ts.isNamespaceExport(s.exportClause)) {
          if (src) m.reexports.set(s.exportClause.name.text, { src, name: '*' });
        } else {
          for (const e of s.exportClause.elements) {
            const local = (e.propertyName ?? e.name).text;
            if (src) m.reexports.set(e.name.text, { src, name: local });
            else m.locals.set(e.name.text, local);
          }
        }
      } else if (ts.canHaveModifiers(s) && ts.getModifiers(s)?.some((x) => x.kind === ts.SyntaxKind.ExportKeyword)) {
        if (ts.isVariableStatement(s)) {
          for (const d of s.declarationList.declarations)
            if (ts.isIdentifier(d.name)) m.locals.set(d.name.text, d.name.text);
        } else if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s) || ts.isEnumDeclaration(s)) && s.name) {
          m.locals.set(s.name.text, s.name.text);
          const only = ts.isFunctionDeclaration(s) && s.parameters.length === 0 ? s.body?.statements : undefined;
          const r = only?.length === 1 ? only[0] : undefined;
          if (r && ts.isReturnStatement(r) && r.expression && ts.isIdentifier(r.expression))
            m.getters.set(s.name.text, r.expression.text);
        }
      }
    }
    this.modules.set(file, m);
    return m;
  }

  /** Where export `name` of `file` is defined: 'file#binding', or 'file#*' for a module namespace object. */
  private origin(file: string, name: string, seen = new Set<string>()): string | undefined {
    const key = `${file}#${name}`;
    if (seen.has(key)) return undefined;
    seen.add(key);
    const m = this.facts(file);
    const via = (src: string, n: string) => {
      const f = this.fileOf(file, src);
      return f && (n === '*' ? `${f}#*` : this.origin(f, n, seen));
    };
    const re = m.reexports.get(name);
    if (re) return via(re.src, re.name);
    const local = m.locals.get(name);
    if (local !== undefined) {
      const imp = m.imports.get(local);
      return imp ? via(imp.src, imp.name) : `${file}#${local}`;
    }
    if (name === 'default') return undefined;
    for (const src of m.stars) {
      const o = via(src, name);
      if (o) return o;
    }
    return undefined;
  }

  private exportNames(file: string, seen = new Set<string>()): string[] {
    if (seen.has(file)) return [];
    seen.add(file);
    const m = this.facts(file);
    const names = new Set([...m.locals.keys(), ...m.reexports.keys()]);
    for (const src of m.stars) {
      const f = this.fileOf(file, src);
      if (f) for (const n of this.exportNames(f, seen)) if (n !== 'default') names.add(n);
    }
    return [...names];
  }
}
