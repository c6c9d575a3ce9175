import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ActionsRepository } from '../../../functions/lib/actions-repository.ts';

const ddb = mockClient(DynamoDBDocumentClient);
beforeEach(() => ddb.reset());

describe('the audit writer', () => {
  it('puts conditionally on a new key; a collision takes a fresh id instead of overwriting', async () => {
    ddb
      .on(PutCommand)
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }))
      .resolves({});
    const repo = new ActionsRepository(
      new DynamoDBClient({}),
      'actions',
      () => new Date('2026-11-24T12:00:00Z'),
    );
    await repo.audit({ accountId: 'A1', action: 'page', actor: 'notifications' });
    const puts = ddb.commandCalls(PutCommand).map((c) => c.args[0].input);
    expect(puts).toHaveLength(2);
    for (const put of puts) {
      expect(put.ConditionExpression).toBe('attribute_not_exists(actionKey)');
      expect(put.Item!.actionKey).toMatch(/^AUDIT#2026-11-24T12:00:00\.000Z#[0-9a-z]{8}[0-9a-f]{16}#page$/);
    }
    expect(puts[0]!.Item!.actionKey).not.toBe(puts[1]!.Item!.actionKey);
  });
});
