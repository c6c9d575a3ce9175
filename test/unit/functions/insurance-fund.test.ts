import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { InsuranceFundLedger } from '../../../functions/lib/insurance-fund.ts';
import { Decimal } from '../../../shared/decimal.ts';

const ddb = mockClient(DynamoDBDocumentClient);
beforeEach(() => ddb.reset());

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
const settlement = {
  loss: new Decimal('4530.21'),
  fromCollateral: new Decimal('3000'),
  fromFund: new Decimal('1530.21'),
};
const sleeps: number[] = [];
const ledger = () =>
  new InsuranceFundLedger(
    new DynamoDBClient({}),
    { actions: 'actions', accounts: 'accounts' },
    { sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 },
  );
const draw = () =>
  ledger().draw('A1', 'A1:risk:1', '-1530.21', settlement, '2026-03-12T00:00:00.000Z', ['BTC-PERP']);

describe('insurance-fund draws told apart by cancellation reason', () => {
  it('throttled or conflicting: retried with backoff, then drawn — never taken for "already settled"', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled('None', 'None', 'ThrottlingError', 'None'))
      .rejectsOnce(cancelled('TransactionConflict', 'None', 'None', 'None'))
      .resolves({});
    expect(await draw()).toBe('drawn');
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(3);
  });

  it('still throttled after the retries: a RetryLaterError for the event’s retry, not a skipped deficit', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled('ThrottlingError', 'None', 'None', 'None'));
    await expect(draw()).rejects.toMatchObject({ name: 'RetryLaterError', code: 'transaction-contended' });
  });

  it('the idempotency item exists: already drawn; only the balance moved: not drawn (cash arrived)', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled('ConditionalCheckFailed', 'ConditionalCheckFailed', 'None', 'None'))
      .rejectsOnce(cancelled('ConditionalCheckFailed', 'None', 'None', 'None'));
    expect(await draw()).toBe('already-drawn');
    expect(await draw()).toBe('balance-moved');
  });

  it('one transaction writes the balance, the ledger entry, its audit entry and the ADL outbox', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    await draw();
    const items = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(items.map((i) => (i.Update ?? i.Put)!.TableName)).toEqual([
      'accounts',
      'actions',
      'actions',
      'actions',
    ]);
    expect(items[1]!.Put!.Item).toMatchObject({
      accountId: '#insurance-fund',
      actionKey: 'DRAW#A1:risk:1#A1',
    });
    expect(items[2]!.Put!.Item).toMatchObject({
      accountId: 'A1',
      action: 'insurance-fund-draw',
      actionKey: expect.stringMatching(/^AUDIT#2026-03-12T00:00:00\.000Z#/),
      details: { loss: '4530.21', fromCollateral: '3000', fromFund: '1530.21', balanceBefore: '-1530.21' },
    });
    expect(items[3]!.Put!.Item).toMatchObject({
      accountId: '#insurance-fund',
      actionKey: 'ADL#A1:risk:1#A1',
      instruments: ['BTC-PERP'],
    });
    for (const i of items.slice(1))
      expect(i.Put!.ConditionExpression).toBe('attribute_not_exists(actionKey)');
  });
});
