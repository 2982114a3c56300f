import { libraryConfig } from '../../config/tsup.base.ts';

// The CLI: one node entry with a shebang; @fairclip/fairness stays an external import (resolved from its dist/).
export default libraryConfig(
  { cli: 'src/cli.ts' },
  { platform: 'node', dts: false, banner: { js: '#!/usr/bin/env node' } },
);
