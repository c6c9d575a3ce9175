import { parseArgs } from 'node:util';
import { InputError } from '../shared/errors.ts';
import { runEvaluate } from './evaluate-command.ts';
import { runImport } from './import-command.ts';
import { runReplay } from './replay-command.ts';

const USAGE = `usage:
  margin-guard evaluate FILE.json [--model gross|reg-t|cash|tiered|portfolio] [--format json|table]
  margin-guard replay --portfolio FILE.json --prices PRICES.csv [--model NAME] [--policy full|monitor]
                      [--strategy proportional|risk-based|liquidity-aware|time-based]
                      [--priority risk|size|liquidity|time] [--target-ratio R] [--instrument NAME]
                      [--format json|table]
  margin-guard import --accounts FILE --positions FILE [--prices FILE] [--out DIR]
                      (FILE: .jsonl or .csv; validates every row; --out writes DynamoDB import files)

Exit codes: 0 success, 2 invalid input (the field is named on stderr), 1 unexpected failure.`;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function usageError(message: string): CliResult {
  return { code: 2, stdout: '', stderr: `${message}\n\n${USAGE}\n` };
}

/** A misused command line (a stray argument): exit 2 with the usage. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A command's `--name value` options (all strings), with no positional arguments. */
function optionsOnly(
  command: string,
  args: string[],
  names: readonly string[],
): Record<string, string | undefined> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: Object.fromEntries(names.map((o) => [o, { type: 'string' as const }])),
  });
  if (positionals.length > 0)
    throw new UsageError(`${command}: unexpected argument ${JSON.stringify(positionals[0])}`);
  return values as Record<string, string | undefined>;
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
      const stdout = runEvaluate({
        file: positionals[0]!,
        model: values.model,
        format: formatOption(values.format),
      });
      return { code: 0, stdout: `${stdout}\n`, stderr: '' };
    }
    if (command === 'replay') {
      const values = optionsOnly('replay', rest, [
        'portfolio',
        'prices',
        'model',
        'instrument',
        'policy',
        'strategy',
        'priority',
        'target-ratio',
        'format',
      ]);
      if (!values.portfolio || !values.prices)
        return usageError('replay: --portfolio and --prices are required');
      const stdout = runReplay({
        portfolio: values.portfolio,
        prices: values.prices,
        model: values.model,
        instrument: values.instrument,
        policy: values.policy,
        strategy: values.strategy,
        priority: values.priority,
        targetRatio: values['target-ratio'],
        format: formatOption(values.format),
      });
      return { code: 0, stdout: `${stdout}\n`, stderr: '' };
    }
    if (command === 'import') {
      const values = optionsOnly('import', rest, ['accounts', 'positions', 'prices', 'out']);
      if (!values.accounts || !values.positions)
        return usageError('import: --accounts and --positions are required');
      const stdout = runImport({
        accounts: values.accounts,
        positions: values.positions,
        prices: values.prices,
        out: values.out,
      });
      return { code: 0, stdout: `${stdout}\n`, stderr: '' };
    }
    if (command === undefined || command === '--help' || command === '-h')
      return {
        code: command ? 0 : 2,
        stdout: command ? `${USAGE}\n` : '',
        stderr: command ? '' : `${USAGE}\n`,
      };
    return usageError(`unknown command ${JSON.stringify(command)}`);
  } catch (e) {
    if (e instanceof UsageError) return usageError(e.message);
    if (e instanceof InputError)
      return {
        code: 2,
        stdout: '',
        stderr: `invalid input:\n${e.issues.map((i) => `  ${i.field}: ${i.message}`).join('\n')}\n`,
      };
    if (e instanceof TypeError && (e as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
      return usageError(e.message);
    return { code: 1, stdout: '', stderr: `unexpected failure: ${(e as Error).stack ?? String(e)}\n` };
  }
}

export function main(argv: string[]): void {
  const result = runCli(argv);
  if (result.stdout) process.stdout.write(result.stdout);
  if (result.stderr) process.stderr.write(result.stderr);
  process.exitCode = result.code;
}
