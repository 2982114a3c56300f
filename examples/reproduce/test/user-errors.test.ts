// Every user mistake is one line on stderr and exit code 2 (the shared suite of examples/common/test/user-errors.ts).
import { fileURLToPath } from 'node:url';
import { userErrorSuite } from '../../common/test/user-errors.ts';
import { runApp } from '../src/app.ts';

userErrorSuite({
  app: 'fairclip-reproduce',
  runApp,
  appDir: fileURLToPath(new URL('..', import.meta.url)),
  entry: 'src/main.ts',
});
