// Every package's errors share one base class (io's FairclipError) with a stable `code`, so an app can tell a user's
// mistake (print one line, exit 2) from a bug by one instanceof.
import { ClipModelError, PreprocessError, TokenizerError, WeightsError } from '@fairclip/clip';
import { ComputeError, InvalidArgumentError } from '@fairclip/compute';
import { DatasetError } from '@fairclip/datasets';
import { FairnessInputError } from '@fairclip/fairness';
import { FairclipError, IoError, isFairclipError } from '@fairclip/io';
import { OtInputError } from '@fairclip/ot';
import { describe, expect, it } from 'vitest';
import { CheckpointError, ConfigError, TrainError } from '../src/index.ts';

describe('one error base class', () => {
  const cases: [string, Error, string][] = [
    ['io', new IoError('CSV_PARSE', 'line 2: 5 fields', { file: 'a.csv' }), 'CSV_PARSE'],
    ['datasets', new DatasetError('NOT_FOUND', 'no such file', { file: 'x.npz' }), 'NOT_FOUND'],
    ['fairness', new FairnessInputError('INVALID_LABEL', 'labels must be 0/1'), 'INVALID_LABEL'],
    ['ot', new OtInputError('INVALID_OPTION', 'p must be >= 1'), 'INVALID_OPTION'],
    ['compute', new ComputeError('WEBGPU_UNAVAILABLE', 'no navigator.gpu'), 'WEBGPU_UNAVAILABLE'],
    ['compute subclass', new InvalidArgumentError('bad backend'), 'INVALID_ARGUMENT'],
    ['clip model', new ClipModelError('BAD_CONFIG', 'width 0'), 'BAD_CONFIG'],
    ['clip weights', new WeightsError('TRUNCATED', 'ends early', { file: 'w.pt' }), 'TRUNCATED'],
    ['clip tokenizer', new TokenizerError('VOCAB_FORMAT', 'empty'), 'VOCAB_FORMAT'],
    ['clip preprocess', new PreprocessError('NON_FINITE', 'NaN pixel'), 'NON_FINITE'],
    ['train', new TrainError('NON_FINITE_LOSS', 'loss NaN'), 'NON_FINITE_LOSS'],
    ['train config', new ConfigError('training.epochs', 'must be >= 1'), 'CONFIG'],
    ['train checkpoint', new CheckpointError('ckpt/epoch-0001', 'unreadable'), 'CHECKPOINT'],
  ];
  for (const [where, err, code] of cases) {
    it(`${where}: ${err.name} is a FairclipError with code ${code}, its own name and message`, () => {
      expect(err).toBeInstanceOf(FairclipError);
      expect(err).toBeInstanceOf(Error);
      expect(isFairclipError(err)).toBe(true);
      expect(isFairclipError(err, code)).toBe(true);
      expect((err as FairclipError).code).toBe(code);
      expect(err.name).not.toBe('FairclipError');
      expect(err.message.length).toBeGreaterThan(0);
    });
  }
  it('a plain Error (a bug) is not a FairclipError', () => {
    expect(isFairclipError(new RangeError('x'))).toBe(false);
    expect(isFairclipError({ code: 'CONFIG', message: 'duck' })).toBe(false);
  });
});
