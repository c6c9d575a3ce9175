/**
 * `npm run bench:evaluator [-- --accounts N] [--runs N] [--no-write]`: the evaluator end to end alone
 * (bench/evaluator-e2e.ts; 1,000 accounts, or BENCH_EVALUATOR_ACCOUNTS), printed against the "before"
 * figure (each phase the median of --runs runs, default 1), and bench/evaluator-cpu.json written (unless
 * --no-write). `npm run bench` runs the same (one run) after the engine benchmark.
 */
import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  EVALUATOR_ACCOUNTS,
  evaluatorCpuJson,
  medianRun,
  type EvaluatorE2EResult,
  printEvaluatorE2E,
  runEvaluatorE2E,
  warmEvaluator,
} from './evaluator-e2e.ts';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};

export async function evaluatorBench(
  options: { accounts?: number; runs?: number; write?: boolean } = {},
): Promise<void> {
  await warmEvaluator();
  const accounts =
    options.accounts ??
    Number.parseInt(process.env.BENCH_EVALUATOR_ACCOUNTS ?? String(EVALUATOR_ACCOUNTS), 10);
  const runs: EvaluatorE2EResult[] = [];
  for (let i = 0; i < (options.runs ?? 1); i++) runs.push(await runEvaluatorE2E({ accounts }));
  const result = medianRun(runs);
  printEvaluatorE2E(result);
  if (options.write === false) return;
  let tree = 'unknown';
  try {
    tree = execSync('git describe --always --dirty', { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout: the figure still stands, without its commit
  }
  // npm runs the bundle from the repo root.
  const path = join(process.cwd(), 'bench', 'evaluator-cpu.json');
  writeFileSync(path, `${JSON.stringify(evaluatorCpuJson(result, tree), null, 2)}\n`);
  console.log(`  written: ${path}`);
}

if (process.argv[1]?.endsWith('evaluator.mjs') || process.argv[1]?.endsWith('evaluator-main.ts'))
  await evaluatorBench({
    ...(flag('accounts') ? { accounts: Number(flag('accounts')) } : {}),
    ...(flag('runs') ? { runs: Number(flag('runs')) } : {}),
    write: !args.includes('--no-write'),
  });
