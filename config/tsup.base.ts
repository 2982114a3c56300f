// The one shared tsup configuration: every package's tsup.config.ts calls libraryConfig(); an example app's, appConfig().
import { defineConfig, type Options } from 'tsup';

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
 * so it needs no build of its own) and tfjs-core's gradient registrations (ES-module source that plain Node cannot
 * load, see @fairclip/compute) are bundled in; the libraries stay external (resolved from their dist/).
 */
export function appConfig(entry: Record<string, string> = { cli: 'src/cli.ts' }) {
  return libraryConfig(entry, {
    platform: 'node',
    dts: false,
    banner: { js: '#!/usr/bin/env node' },
    noExternal: [/@fairclip\/example-common/, /register_all_gradients/],
    esbuildOptions(options) {
      options.conditions = ['@fairclip/source'];
    },
  });
}
