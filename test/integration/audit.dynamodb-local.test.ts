import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionsRepository } from '../../functions/lib/actions-repository.ts';
import { createTables, localClient } from '../../local/tables.ts';
import { testDynamoDb, type TestDynamoDb } from '../helpers/dynamodb.ts';

let db: TestDynamoDb;
let client: DynamoDBClient;
let tables: Awaited<ReturnType<typeof createTables>>;

beforeAll(async () => {
  db = await testDynamoDb();
  client = localClient(db.endpoint);
  tables = await createTables(client, db.prefix('audit'));
}, 120_000);
afterAll(async () => db?.stop());

describe('audit entries on DynamoDB Local', () => {
  it('two processes auditing one account in the same millisecond keep both entries (no key collides)', async () => {
    const at = new Date('2026-11-24T12:00:00.000Z');
    // Each Lambda container has its own repository; both start counting from the same place.
    const containers = Array.from(
      { length: 4 },
      () => new ActionsRepository(client, tables.actions, () => at),
    );
    await Promise.all(
      containers.flatMap((repo, c) =>
        Array.from({ length: 5 }, (_, i) =>
          repo.audit({
            accountId: 'AUD1',
            action: 'notification',
            actor: 'notifications',
            details: { c, i },
          }),
        ),
      ),
    );
    const entries = await containers[0]!.listAudit('AUD1', 100);
    expect(entries).toHaveLength(20);
    expect(new Set(entries.map((e) => JSON.stringify(e.details))).size).toBe(20);
    // Still in time order (the key starts with the time), one process's entries in the order written.
    const fromFirst = entries.filter((e) => (e.details as { c: number }).c === 0).reverse();
    expect(fromFirst.map((e) => (e.details as { i: number }).i)).toEqual([0, 1, 2, 3, 4]);
  });
});
