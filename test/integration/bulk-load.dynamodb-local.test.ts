import { afterAll, describe, expect, it } from 'vitest';
import { runBulkLoad } from '../../bench/bulk-load.ts';
import { population } from '../../bench/population.ts';
import { testDynamoDb, type TestDynamoDb } from '../helpers/dynamodb.ts';

let db: TestDynamoDb | undefined;
afterAll(async () => db?.stop());

/**
 * The bulk-load path at 60 accounts (npm run load:bulk runs it at 100,000): the broker's
 * export files validated by `margin-guard import`, loaded with BatchWriteItem, then the first sweep through
 * the real work-queue handler writes a state for every account.
 */
describe('bulk load on DynamoDB Local', () => {
  it('loads every row and the first sweep evaluates every account', async () => {
    db = await testDynamoDb();
    const result = await runBulkLoad({
      endpoint: db.endpoint,
      tablePrefix: db.prefix('bulk'),
      accounts: 60,
      positionsPerAccount: 2,
      sweep: true,
      segments: 3,
    });
    const rows = [
      ...population({ accounts: 60, positionsPerAccount: 2, instruments: 200 }).positions.values(),
    ];
    expect(result).toMatchObject({
      accounts: 60,
      positions: rows.flat().length,
      prices: 200,
      statesWritten: 60,
    });
    expect(result.loadRowsPerSecond).toBeGreaterThan(0);
  }, 120_000);
});
