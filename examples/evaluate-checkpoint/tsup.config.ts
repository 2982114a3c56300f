import { appConfig } from '../../config/tsup.base.ts';

export default appConfig();
