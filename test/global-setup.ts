import type { TestProject } from 'vitest/node';
import { JavaMissingError, startDynamoDbLocal } from '../local/dynamodb-local.ts';
import type {} from './helpers/dynamodb.ts'; // declares what is provided

/**
 * One DynamoDB Local for the whole run instead of one per test file and per local-mode system: each start
 * is a JVM start-up (about 3 CPU-seconds) and a cold JIT, and the suite had a dozen and a half of them.
 * Files create their own tables under a prefix of their own (test/helpers/dynamodb.ts), so nothing is
 * shared but the process. Without Java the run goes on: the files that need DynamoDB Local fail on their
 * own with JavaMissingError's message, the rest pass.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  try {
    const db = await startDynamoDbLocal();
    project.provide('dynamoDbEndpoint', db.endpoint);
    return () => db.stop();
  } catch (e) {
    if (!(e instanceof JavaMissingError)) throw e;
    project.provide('dynamoDbEndpoint', '');
    return async () => {};
  }
}
