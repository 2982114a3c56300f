// Shared vitest configuration. Packages call sharedVitestConfig() in their vitest.config.ts.
// Tests import workspace packages from source through the "@fairclip/source" export condition.
import { fileURLToPath } from 'node:url';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

const setupFile = fileURLToPath(new URL('./vitest.setup.ts', import.meta.url));
const conditions = ['@fairclip/source', 'import', 'module', 'node', 'default'];

export function sharedVitestConfig(
  overrides: { testTimeout?: number; include?: string[]; benchInclude?: string[] } = {},
): ViteUserConfig {
  return defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@fairclip/source'] } },
    test: {
      include: overrides.include ?? ['test/**/*.test.ts'],
      setupFiles: [setupFile],
      testTimeout: overrides.testTimeout ?? 60_000,
      hookTimeout: 120_000,
      reporters: ['default', ['json', { outputFile: '.test-results/vitest.json' }]],
      pool: 'forks',
      benchmark: { include: overrides.benchInclude ?? ['bench/**/*.bench.ts'] },
    },
  });
}
