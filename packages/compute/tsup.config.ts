import { libraryConfig } from '../../config/tsup.base.ts';

// vitest and fast-check are test-time peers of the ./testing entry: never bundle them.
export default libraryConfig(
  { index: 'src/index.ts', testing: 'src/testing.ts' },
  { external: ['vitest', 'fast-check', 'webgpu'], splitting: true }, // one shared chunk: index and testing share module state
);
