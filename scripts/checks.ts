/**
 * The static checks of `npm test`, side by side (`npm run check`): the two type-checks (the project with
 * its browser tests, and the console), eslint, prettier and the import layers (.dependency-cruiser.cjs).
 * Each is single-threaded, so on a 2-core CI box two at a time take about half the time of one after
 * another. Every check runs to the end; each one's output is printed in one piece when it is done, and
 * the exit code is non-zero if any failed.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { delimiter, join } from 'node:path';

/** Longest first (measured here), so the short ones fill in behind them. */
const CHECKS = [
  'tsc --noEmit',
  'prettier --check .',
  'eslint .',
  'tsc --noEmit -p console',
  'depcruise shared client functions infra local bench cli scripts console test --config .dependency-cruiser.cjs',
];

const root = join(import.meta.dirname, '..');
const env = { ...process.env, PATH: [join(root, 'node_modules', '.bin'), process.env.PATH].join(delimiter) };

function run(command: string): Promise<boolean> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, { cwd: root, env, shell: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => output.push(b));
    child.stderr.on('data', (b: Buffer) => output.push(b));
    child.on('error', (e) => output.push(Buffer.from(`${e.message}\n`)));
    child.on('close', (code) => {
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const ok = code === 0;
      process.stdout.write(`\n> ${command}: ${ok ? 'ok' : `failed (exit ${code})`} in ${seconds} s\n`);
      process.stdout.write(Buffer.concat(output));
      resolve(ok);
    });
  });
}

const queue = [...CHECKS];
const results: boolean[] = [];
const worker = async () => {
  for (let command = queue.shift(); command; command = queue.shift()) results.push(await run(command));
};
await Promise.all(Array.from({ length: Math.max(2, availableParallelism()) }, worker));
if (results.some((ok) => !ok)) process.exit(1);
