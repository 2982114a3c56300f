// The one shared tsup configuration: every package's tsup.config.ts calls libraryConfig().
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
