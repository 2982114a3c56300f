import { libraryConfig } from '../../config/tsup.base.ts';

export default libraryConfig({ index: 'src/index.ts' }, { platform: 'node' });
