import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { startDynamoDbLocal } from '../../local/dynamodb-local.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's shared DynamoDB Local (test/global-setup.ts), or '' when it could not start. */
    dynamoDbEndpoint: string;
  }
}

export interface TestDynamoDb {
  readonly endpoint: string;
  /** A table prefix no other file (or run of this one) uses: `name` and a random suffix. */
  prefix(name: string): string;
  /** Stops DynamoDB Local if this file started one of its own; the run's shared one outlives the file. */
  stop(): Promise<void>;
}

const prefixOf = (name: string) => `${name}-${randomBytes(4).toString('hex')}`;

/**
 * DynamoDB Local for a test file: the run's shared one (test/global-setup.ts), or, when there is none
 * (a run without the global setup), one of the file's own. Create the file's tables under
 * `db.prefix(name)`: on the shared one, other files' tables sit beside them.
 */
export async function testDynamoDb(): Promise<TestDynamoDb> {
  const shared = inject('dynamoDbEndpoint');
  if (shared) return { endpoint: shared, prefix: prefixOf, stop: async () => {} };
  const own = await startDynamoDbLocal();
  return { endpoint: own.endpoint, prefix: prefixOf, stop: () => own.stop() };
}

/**
 * For runLocal / startLocalSystem: the run's shared DynamoDB Local with tables of this system's own, or
 * undefined (the system then starts its own, as `npm start` does).
 */
export function sharedLocalDynamoDb(name: string): { endpoint: string; tablePrefix: string } | undefined {
  const shared = inject('dynamoDbEndpoint');
  return shared ? { endpoint: shared, tablePrefix: prefixOf(name) } : undefined;
}
