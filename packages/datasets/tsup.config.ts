import { libraryConfig } from '../../config/tsup.base.ts';

// dist/cli.js keeps the `#!/usr/bin/env node` line of src/cli.ts (esbuild preserves an entry's hashbang).
export default libraryConfig({ index: 'src/index.ts', cli: 'src/cli.ts' });
