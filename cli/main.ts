import { parseArgs } from 'node:util';
import { InputError } from '../shared/errors.ts';
import { runEvaluate } from './evaluate-command.ts';

const USAGE = `usage:
  margin-guard evaluate FILE.json [--model gross|reg-t|cash|tiered|portfolio] [--format json|table]

Exit codes: 0 success, 2 invalid input (the field is named on stderr), 1 unexpected failure.`;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function usageError(message: string): CliResult {
  return { code: 2, stdout: '', stderr: `${message}\n\n${USAGE}\n` };
}

function formatOption(value: string | undefined): 'json' | 'table' {
  if (value === undefined || value === 'json' || value === 'table') return value ?? 'json';
  throw InputError.single('--format', `expected json or table, got ${JSON.stringify(value)}`);
}

/** The whole CLI as a function of its arguments, so tests need no child process. */
export function runCli(argv: string[]): CliResult {
  const [command, ...rest] = argv;
  try {
    if (command === 'evaluate') {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { model: { type: 'string' }, format: { type: 'string' } },
      });
      if (positionals.length !== 1) return usageError('evaluate: expected exactly one FILE.json');
      const stdout = runEvaluate({ file: positionals[0]!, model: values.model, format: formatOption(values.format) });
      return { code: 0, stdout: `${stdout}\n`, stderr: '' };
    }
    if (command === undefined || command === '--help' || command === '-h') return { code: command ? 0 : 2, stdout: command ? `${USAGE}\n` : '', stderr: command ? '' : `${USAGE}\n` };
    return usageError(`unknown command ${JSON.stringify(command)}`);
  } catch (e) {
    if (e instanceof InputError) return { code: 2, stdout: '', stderr: `invalid input:\n${e.issues.map((i) => `  ${i.field}: ${i.message}`).join('\n')}\n` };
    if (e instanceof TypeError && (e as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return usageError(e.message);
    return { code: 1, stdout: '', stderr: `unexpected failure: ${(e as Error).stack ?? String(e)}\n` };
  }
}

export function main(argv: string[]): void {
  const result = runCli(argv);
  if (result.stdout) process.stdout.write(result.stdout);
  if (result.stderr) process.stderr.write(result.stderr);
  process.exitCode = result.code;
}
