/**
 * tfjs-core's gradient functions. tfjs-core registers none at import (the `@tensorflow/tfjs` union package does it),
 * so without them tf.grad fails ("gradient function not found for Sum"). The configs live in tfjs-core's
 * `dist/register_all_gradients`, ES-module source with extensionless imports that plain Node cannot load, and no
 * prebuilt tfjs-core bundle contains them. So:
 * - from source (vitest, vite, tsx, bundlers) the import below loads that file from tfjs-core;
 * - in this package's dist, tsup bundles it into a lazily loaded chunk (config/tsup.base.ts,
 *   `tfjsCorePublicApiPlugin`): the gradient configs and the few internal ops they need are copied, every other
 *   tfjs-core module they import comes from `@tensorflow/tfjs-core`'s public API. The configs register into
 *   tfjs-core's gradient registry, which tfjs-core keeps on the global namespace, so they serve whichever copy of
 *   tfjs-core (its CommonJS `main` in plain Node, its ES build under a bundler) runs the ops.
 */
import * as tf from '@tensorflow/tfjs-core';

let gradientsState: Promise<boolean> | undefined;

/**
 * Registers tfjs-core's gradient functions once (initCompute calls it unless `registerGradients: false`). Resolves
 * to whether they are registered; if loading fails (a broken install) it warns once, naming the error, and
 * tf.grad works only for ops whose gradients someone else registered.
 */
export function registerGradientsOnce(): Promise<boolean> {
  gradientsState ??= import('@tensorflow/tfjs-core/dist/register_all_gradients').then(
    () => true,
    (err: unknown) => {
      if (tf.getGradient('Sum') !== undefined) return true; // registered by someone else
      console.warn(
        `[@fairclip/compute] could not load tfjs-core's gradient functions (${(err as Error).message.split('\n')[0]}); ` +
          'tf.grad will fail for ops without a registered gradient. Fix: reinstall @fairclip/compute and ' +
          '@tensorflow/tfjs-core, or import @tensorflow/tfjs (which registers them) before initCompute.',
      );
      return false;
    },
  );
  return gradientsState;
}
