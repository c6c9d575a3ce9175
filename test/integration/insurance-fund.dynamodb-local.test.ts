import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleBrokerFeedback, type FeedbackDeps } from '../../functions/broker-feedback/handler.ts';
import { ActionsRepository } from '../../functions/lib/actions-repository.ts';
import { InsuranceFundLedger } from '../../functions/lib/insurance-fund.ts';
import { OrdersRepository } from '../../functions/lib/orders-repository.ts';
import { createTables, localClient } from '../../local/tables.ts';
import { testDynamoDb, type TestDynamoDb } from '../helpers/dynamodb.ts';
import { SCHEMA_VERSION } from '../../shared/events/schemas.ts';
import { CapturedDeadLetter, CapturedPublisher } from '../helpers/capture.ts';

let db: TestDynamoDb;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let tables: Awaited<ReturnType<typeof createTables>>;

beforeAll(async () => {
  db = await testDynamoDb();
  client = localClient(db.endpoint);
  doc = DynamoDBDocumentClient.from(client);
  tables = await createTables(client, db.prefix('fund'));
}, 120_000);
afterAll(async () => db?.stop());

const AT = '2026-03-12T00:00:00.000Z';

/**
 * A liquidation's last order, filled: the account is flat at -1,530.21 with 3,000 of collateral consumed.
 * The real broker-feedback handler, the real ledger and orders on DynamoDB Local; the market reads stubbed.
 */
async function bankrupt(accountId: string) {
  await doc.send(new PutCommand({ TableName: tables.accounts, Item: { accountId, cash: '-1530.21' } }));
  const orders = new OrdersRepository(client, tables.actions);
  await orders.recordRequested(
    {
      schemaVersion: SCHEMA_VERSION,
      eventId: `liq-${accountId}`,
      accountId,
      occurredAt: AT,
      incidentId: `${accountId}:risk:1`,
      step: 'liquidate',
      orders: [{ idempotencyKey: `${accountId}-k1`, instrument: 'BTC-PERP', side: 'SELL', quantity: '1' }],
    } as never,
    AT,
    '3000',
  );
  const fill = {
    'detail-type': 'OrderFilled',
    detail: {
      schemaVersion: SCHEMA_VERSION,
      eventId: `fill-${accountId}`,
      accountId,
      idempotencyKey: `${accountId}-k1`,
      occurredAt: AT,
      quantity: '1',
      cumulativeQuantity: '1',
      price: '4970.79',
      fees: '0',
      final: true,
    },
  };
  return { orders, fill };
}

function deps(orders: OrdersRepository, publisher: CapturedPublisher, audit?: FeedbackDeps['audit']) {
  const actions = new ActionsRepository(client, tables.actions, () => new Date(AT));
  return {
    actions,
    deps: {
      orders,
      audit: audit ?? ((e) => actions.audit(e)),
      deadLetter: new CapturedDeadLetter(),
      alerts: { dispatch: async () => ({ sent: true }) },
      now: () => new Date(AT),
      bankruptcy: {
        orders,
        repo: {
          getAccount: async (id: string) =>
            (
              await doc.send(
                new GetCommand({ TableName: tables.accounts, Key: { accountId: id }, ConsistentRead: true }),
              )
            ).Item as never,
          getPositions: async () => [],
          getPrices: async () =>
            new Map([['BTC-PERP', { instrument: 'BTC-PERP', price: '4970.79' }]]) as never,
          holders: async function* () {
            yield [] as string[];
          },
          getRiskState: async () => null,
        },
        fund: new InsuranceFundLedger(client, tables),
        publisher,
      },
    } satisfies FeedbackDeps,
  };
}

describe('insurance fund: the draw, its audit and the ADL publish survive a failure between them', () => {
  it('the bus failing after the draw: the redelivered event publishes the ADL queue; one draw, one audit', async () => {
    const { orders, fill } = await bankrupt('F1');
    const publisher = new CapturedPublisher();
    publisher.failNext = 1;
    const { deps: d, actions } = deps(orders, publisher);
    await expect(handleBrokerFeedback(fill, d)).rejects.toThrow(/bus unavailable/);
    // EventBridge's retry of the Lambda: the same event again.
    await handleBrokerFeedback(fill, d);
    expect(publisher.types()).toEqual(['AdlQueuePublished']);
    const fund = new InsuranceFundLedger(client, tables);
    expect(await fund.draws()).toMatchObject([
      { accountId: 'F1', fromFund: '1530.21', fromCollateral: '3000' },
    ]);
    const audit = (await actions.listAudit('F1', 50)).filter((a) => a.action === 'insurance-fund-draw');
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).toMatchObject({
      loss: '4530.21',
      balanceBefore: '-1530.21',
      balanceAfter: '0',
    });
    // Once published, a third delivery publishes nothing more.
    await handleBrokerFeedback(fill, d);
    expect(publisher.types()).toEqual(['AdlQueuePublished']);
  });

  it('the audit write failing after the draw cannot happen apart from it: the draw is audited', async () => {
    const { orders, fill } = await bankrupt('F2');
    const publisher = new CapturedPublisher();
    let failed = false;
    const { deps: d, actions } = deps(orders, publisher, async (entry) => {
      if (entry.action === 'insurance-fund-draw' && !failed) {
        failed = true;
        throw new Error('DynamoDB throttled the audit');
      }
      await actions.audit(entry);
    });
    await handleBrokerFeedback(fill, d).catch(() => {});
    await handleBrokerFeedback(fill, d);
    const audit = (await actions.listAudit('F2', 50)).filter((a) => a.action === 'insurance-fund-draw');
    expect(audit).toHaveLength(1);
    expect(publisher.types()).toEqual(['AdlQueuePublished']);
  });

  it('a balance that moved (cash arrived) is not drawn; one already drawn is not drawn twice', async () => {
    const { orders, fill } = await bankrupt('F3');
    const publisher = new CapturedPublisher();
    const { deps: d } = deps(orders, publisher);
    await handleBrokerFeedback(fill, d);
    const fund = new InsuranceFundLedger(client, tables);
    const settlement = { loss: '4530.21', fromCollateral: '3000', fromFund: '1530.21' };
    const s = Object.fromEntries(
      Object.entries(settlement).map(([k, v]) => [k, { toFixed: () => v }]),
    ) as never;
    expect(await fund.draw('F3', 'F3:risk:1', '-1530.21', s, AT, ['BTC-PERP'])).toBe('already-drawn');
    await doc.send(new PutCommand({ TableName: tables.accounts, Item: { accountId: 'F4', cash: '-10' } }));
    expect(await fund.draw('F4', 'F4:risk:1', '-20', s, AT, ['BTC-PERP'])).toBe('balance-moved');
    const drawn = (await fund.draws()).map((x) => x.accountId);
    expect(drawn.filter((id) => id === 'F3' || id === 'F4')).toEqual(['F3']);
  });
});
