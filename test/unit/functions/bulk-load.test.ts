import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { bulkPut } from '../../../functions/lib/bulk-load.ts';

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const ddb = mockClient(doc);
const tools = { sleep: async () => {}, random: () => 0 };
const items = Array.from({ length: 60 }, (_, i) => ({ accountId: `A${i}` }));

beforeEach(() => ddb.reset());

describe('bulkPut', () => {
  it('writes every item, 25 a call', async () => {
    ddb.on(BatchWriteCommand).resolves({});
    expect(await bulkPut(doc, 'Accounts', items, { tools })).toEqual({ items: 60, calls: 3 });
    const sent = ddb
      .commandCalls(BatchWriteCommand)
      .flatMap((c) => c.args[0].input.RequestItems!.Accounts!.map((r) => r.PutRequest!.Item!.accountId));
    expect(sent.sort()).toEqual(items.map((i) => i.accountId).sort());
  });

  it('a chunk that stays throttled fails the load, saying how many items did not load', async () => {
    ddb.on(BatchWriteCommand).callsFake((input) => {
      const requests = input.RequestItems.Accounts;
      // The chunk holding A30 is never processed; the others are.
      const stuck = requests.some(
        (r: { PutRequest: { Item: { accountId: string } } }) => r.PutRequest.Item.accountId === 'A30',
      );
      return stuck ? { UnprocessedItems: { Accounts: requests } } : {};
    });
    await expect(bulkPut(doc, 'Accounts', items, { tools })).rejects.toThrow(
      /^25 of 60 items did not load into Accounts \(1 failed BatchWriteItem chunks; first: 25 items still unprocessed after 8 BatchWriteItem calls\); loading again is safe$/,
    );
  });
});
