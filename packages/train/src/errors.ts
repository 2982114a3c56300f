// Errors raised while a valid configuration runs (the configuration's own errors are ConfigError, config.ts).

import { FairclipError } from '@fairclip/io';
export type TrainErrorCode = 'NON_FINITE_LOSS' | 'NO_CAPTION' | 'TEXT_TOO_LONG' | 'BAD_DATA';

/** A problem found while running (the configuration itself was valid). */
export class TrainError extends FairclipError {
  override readonly code: TrainErrorCode;
  constructor(code: TrainErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'TrainError';
    this.code = code;
  }
}
