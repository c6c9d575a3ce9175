import type { TestProject } from 'vitest/node';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JavaMissingError, startDynamoDbLocal } from '../local/dynamodb-local.ts';
import { definitions, STATE_MACHINES_FILE_ENV } from '../local/escalation-runner.ts';
import type {} from './helpers/dynamodb.ts'; // declares what is provided

/**
 * One DynamoDB Local for the whole run instead of one per test file and per local-mode system: each start
 * is a JVM start-up (about 3 CPU-seconds) and a cold JIT, and the suite had a dozen and a half of them.
 * Files create their own tables under a prefix of their own (test/helpers/dynamodb.ts), so nothing is
 * shared but the process. Without Java the run goes on: the files that need DynamoDB Local fail on their
 * own with JavaMissingError's message, the rest pass.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The synthesized state machines, once for the run (local/escalation-runner.ts reads them from here);
  // the workers inherit the environment.
  const dir = mkdtempSync(join(tmpdir(), 'mg-state-machines-'));
  const file = join(dir, 'state-machines.json');
  writeFileSync(file, JSON.stringify(definitions()));
  process.env[STATE_MACHINES_FILE_ENV] = file;
  const removeDefinitions = () => rmSync(dir, { recursive: true, force: true });
  try {
    const db = await startDynamoDbLocal();
    project.provide('dynamoDbEndpoint', db.endpoint);
    return async () => {
      await db.stop();
      removeDefinitions();
    };
  } catch (e) {
    if (!(e instanceof JavaMissingError)) throw e;
    project.provide('dynamoDbEndpoint', '');
    return async () => removeDefinitions();
  }
}
