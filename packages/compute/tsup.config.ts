import { libraryConfig, tfjsCorePublicApiPlugin } from '../../config/tsup.base.ts';

// vitest and fast-check are test-time peers of the ./testing entry: never bundle them.
// tfjs-core's register_all_gradients (imported lazily by src/gradients.ts) is bundled into its own chunk, taking
// from @tensorflow/tfjs-core's public API every tfjs-core module that it exports, so plain Node gets gradients.
export default libraryConfig(
  { index: 'src/index.ts', testing: 'src/testing.ts' },
  {
    external: ['vitest', 'fast-check', 'webgpu'],
    noExternal: [/^@tensorflow\/tfjs-core\/dist\/register_all_gradients$/],
    esbuildPlugins: [tfjsCorePublicApiPlugin()],
    splitting: true, // shared chunks: index and testing share module state; the gradients load on demand
  },
);
