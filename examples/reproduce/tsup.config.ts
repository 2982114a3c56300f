import { libraryConfig } from '../../config/tsup.base.ts';

// The CLI: one node entry with a shebang. The shared app code (from its source, so it needs no build of its own) and
// tfjs-core's gradient registrations (ES-module source that plain Node cannot load, see @fairclip/compute) are
// bundled in; the libraries stay external (resolved from their dist/).
export default libraryConfig(
  { main: 'src/main.ts' },
  {
    platform: 'node',
    dts: false,
    banner: { js: '#!/usr/bin/env node' },
    noExternal: [/@fairclip\/example-common/, /register_all_gradients/],
    esbuildOptions(options) {
      options.conditions = ['@fairclip/source'];
    },
  },
);
