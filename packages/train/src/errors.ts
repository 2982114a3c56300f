// Errors raised while a valid configuration runs (the configuration's own errors are ConfigError, config.ts).

export type TrainErrorCode = 'NON_FINITE_LOSS' | 'NO_CAPTION' | 'TEXT_TOO_LONG' | 'BAD_DATA';

/** A problem found while running (the configuration itself was valid). */
export class TrainError extends Error {
  readonly code: TrainErrorCode;
  constructor(code: TrainErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TrainError';
    this.code = code;
  }
}
