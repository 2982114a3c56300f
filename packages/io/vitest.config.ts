import { sharedVitestConfig } from '../../config/vitest.shared.ts';

export default sharedVitestConfig();
