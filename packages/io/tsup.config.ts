import { libraryConfig } from '../../config/tsup.base.ts';

export default libraryConfig();
