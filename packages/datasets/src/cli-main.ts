// The `fairclip-data` command: `synth` writes a synthetic Harvard-FairVLMed, `stats` prints a dataset table.
import { parseArgs } from 'node:util';
import { isFairclipError } from '@fairclip/io';
import { isDatasetError } from './errors.ts';
import { computeStats, formatStats, statsToJson } from './fairvlmed/stats.ts';
import { SYNTH_VERSION, synthesizeFairVlmed } from './fairvlmed/synth.ts';

export const USAGE = `Usage:
  fairclip-data synth <dir> --train N --val N --test N [--seed S] [--bias B] [--image-shape 664x512] [--test-folder Test|Testing] [--force]
      Write a synthetic Harvard-FairVLMed (real on-disk format) into <dir>; records synth.json there.
      <dir> must be empty or absent; --force overwrites the generated files of a non-empty one.
      --bias in [0, 1] (default 0.5) weakens the image label signal for Black/Asian/Hispanic patients.
  fairclip-data stats <dir> [--json]
      Counts per split, attribute group and label (before/after the official filter), and a check of
      data_summary.csv against the npz files.
  fairclip-data --help
`;

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const defaultIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

class UsageError extends Error {}

function int(name: string, value: string | undefined, required: boolean): number | undefined {
  if (value === undefined) {
    if (required) throw new UsageError(`--${name} is required`);
    return undefined;
  }
  if (!/^-?\d+$/.test(value)) throw new UsageError(`--${name} must be an integer, got "${value}"`);
  return Number(value);
}

/**
 * Runs the CLI with `argv` (without node and the script); returns the exit code: 0 ok, 2 for every user error (a
 * bad option, bad or missing data, a non-empty output folder), printed as one line. Anything else is a bug and
 * propagates with its stack.
 */
export async function runCli(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      io.out(USAGE);
      return command === undefined ? 2 : 0;
    }
    if (command === 'synth') {
      const { values, positionals } = parseArgs({
        args: [...rest],
        allowPositionals: true,
        options: {
          train: { type: 'string' },
          val: { type: 'string' },
          test: { type: 'string' },
          seed: { type: 'string' },
          bias: { type: 'string' },
          'image-shape': { type: 'string' },
          'test-folder': { type: 'string' },
          force: { type: 'boolean' },
        },
      });
      if (positionals.length !== 1) throw new UsageError('synth needs exactly one <dir>');
      const dir = positionals[0]!;
      const bias = values.bias === undefined ? undefined : Number(values.bias);
      if (bias !== undefined && !Number.isFinite(bias))
        throw new UsageError(`--bias must be a number, got "${values.bias}"`);
      let imageShape: [number, number] | undefined;
      if (values['image-shape'] !== undefined) {
        const m = /^(\d+)x(\d+)$/.exec(values['image-shape']);
        if (!m) throw new UsageError(`--image-shape must look like 664x512, got "${values['image-shape']}"`);
        imageShape = [Number(m[1]), Number(m[2])];
      }
      const tf = values['test-folder'];
      if (tf !== undefined && tf !== 'Test' && tf !== 'Testing')
        throw new UsageError('--test-folder must be Test or Testing');
      const options = {
        train: int('train', values.train, true)!,
        val: int('val', values.val, true)!,
        test: int('test', values.test, true)!,
        seed: int('seed', values.seed, false) ?? 0,
        ...(bias === undefined ? {} : { bias }),
        ...(imageShape === undefined ? {} : { imageShape }),
        ...(tf === undefined ? {} : { testFolder: tf as 'Test' | 'Testing' }),
      };
      const command = ['fairclip-data', 'synth', ...argv.slice(1)].join(' ');
      const samples = synthesizeFairVlmed(dir, options, { command, force: values.force === true });
      io.out(
        `wrote ${samples.length} samples (synthetic FairVLMed v${SYNTH_VERSION}, seed ${options.seed}) to ${dir}\n`,
      );
      return 0;
    }
    if (command === 'stats') {
      const { values, positionals } = parseArgs({
        args: [...rest],
        allowPositionals: true,
        options: { json: { type: 'boolean' } },
      });
      if (positionals.length !== 1) throw new UsageError('stats needs exactly one <dir>');
      const stats = computeStats(positionals[0]!);
      io.out(values.json ? `${JSON.stringify(statsToJson(stats), null, 2)}\n` : formatStats(stats));
      return 0;
    }
    throw new UsageError(`unknown command "${command}"`);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`fairclip-data: ${oneLine((e as Error).message)} (see fairclip-data --help)\n`);
      return 2;
    }
    if (isDatasetError(e) || isFairclipError(e)) {
      io.err(`fairclip-data: ${oneLine(e.message)}\n`);
      return 2;
    }
    throw e;
  }
}

/** A message on one line (line ends shown as spaces). */
function oneLine(message: string): string {
  return message.replace(/\s*[\r\n]+\s*/g, ' ');
}
