/**
 * `npm start`: evaluates every example book in examples/ and prints each as a table.
 * (Local mode on DynamoDB Local grows out of this entry point.)
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../cli/main.ts';

const dir = join(import.meta.dirname, '..', 'examples');
let failed = 0;
for (const name of readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()) {
  const result = runCli(['evaluate', join(dir, name), '--format', 'table']);
  console.log(`\n=== ${name} ===\n${result.stdout}${result.stderr}`);
  if (result.code !== 0) failed += 1;
}
process.exitCode = failed === 0 ? 0 : 1;
