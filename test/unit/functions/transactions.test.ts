import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { batchPut, TRANSACTION_RETRY, transactWrite } from '../../../functions/lib/transactions.ts';

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const ddb = mockClient(doc);
const sleeps: number[] = [];
const tools = { sleep: async (ms: number) => void sleeps.push(ms), random: () => 1 };
const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

beforeEach(() => {
  ddb.reset();
  sleeps.length = 0;
});

describe('transactWrite', () => {
  it('retries a throttled or conflicting transaction with capped, growing backoff', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled('None', 'ThrottlingError'))
      .rejectsOnce(cancelled('TransactionConflict'))
      .resolves({});
    await transactWrite(doc, { TransactItems: [] }, tools);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(3);
    expect(sleeps).toEqual([25, 50]); // base · 2^(attempt − 1), full jitter at its ceiling (random = 1)
  });

  it('a failed condition is thrown at once: retrying cannot change it', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'ThrottlingError'));
    await expect(transactWrite(doc, { TransactItems: [] }, tools)).rejects.toThrow('cancelled');
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('gives up after the last attempt, throwing the last cancellation', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled('ThrottlingError'));
    await expect(transactWrite(doc, { TransactItems: [] }, tools)).rejects.toThrow('cancelled');
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(TRANSACTION_RETRY.attempts);
    expect(Math.max(...sleeps)).toBe(TRANSACTION_RETRY.capMs);
  });
});

describe('batchPut', () => {
  const items = Array.from({ length: 30 }, (_, i) => ({ partition: 'p', sk: String(i) }));

  it('writes 25 items a call and sends the unprocessed ones again', async () => {
    ddb
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { T: [{ PutRequest: { Item: items[3]! } }] } })
      .resolves({});
    await batchPut(doc, 'T', items, tools);
    const calls = ddb.commandCalls(BatchWriteCommand).map((c) => c.args[0].input.RequestItems!.T!.length);
    expect(calls).toEqual([25, 1, 5]);
    expect(sleeps).toEqual([25]);
  });

  it('items still unprocessed after the last attempt are an error, not dropped', async () => {
    ddb.on(BatchWriteCommand).resolves({ UnprocessedItems: { T: [{ PutRequest: { Item: items[0]! } }] } });
    await expect(batchPut(doc, 'T', items.slice(0, 2), tools)).rejects.toThrow(
      `1 items still unprocessed after ${TRANSACTION_RETRY.attempts} BatchWriteItem calls`,
    );
  });
});
