import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { EventBridgeEvent } from 'aws-lambda';
import { Decimal } from '../../shared/decimal.ts';
import { parseBrokerEvent, type BrokerEvent } from '../../shared/events/broker-feedback.ts';
import { alertFor } from '../../shared/notify/alert.ts';
import { ActionsRepository, type AuditEntry } from '../lib/actions-repository.ts';
import type { Dispatcher } from '../lib/dispatcher.ts';
import { readEnv } from '../lib/env.ts';
import { awsDispatcher } from '../lib/notifications.ts';
import { InsuranceFundLedger } from '../lib/insurance-fund.ts';
import { adlQueue, TooManyHolders } from '../lib/adl-queue.ts';
import { EventBridgePublisher, type Publisher } from '../lib/event-publisher.ts';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { eventId, SCHEMA_VERSION } from '../../shared/events/schemas.ts';
import { OrdersRepository } from '../lib/orders-repository.ts';
import { RiskRepository } from '../lib/risk-repository.ts';
import { isFinal, type TrackedOrder } from '../../shared/deleverage/order-tracking.ts';
import { settleBankruptcy } from '../../shared/deleverage/insurance-fund.ts';
import { heldPositions } from '../../shared/pipeline/records.ts';
import { SqsDeadLetter, type DeadLetter } from '../lib/queues.ts';
import { withMetrics } from '../lib/runtime.ts';

export interface FeedbackDeps {
  orders: Pick<OrdersRepository, 'apply'>;
  audit: (entry: AuditEntry) => Promise<void>;
  deadLetter: DeadLetter;
  /** Pages when a liquidation order is refused: nothing else will retry it. */
  alerts: Pick<Dispatcher, 'dispatch'>;
  now: () => Date;
  /** Bankruptcy accounting once a liquidation is done: the account and the insurance-fund ledger. */
  bankruptcy?: {
    orders: Pick<OrdersRepository, 'forIncident'>;
    repo: Pick<RiskRepository, 'getAccount' | 'getPositions' | 'getPrices' | 'holders' | 'getRiskState'>;
    fund: Pick<InsuranceFundLedger, 'draw' | 'pendingAdl' | 'clearAdl'>;
    /** Where the ADL queues of the liquidated instruments are published for the venue. */
    publisher: Publisher;
  };
}

/**
 * When the last order of a liquidation is final and the account is flat with a negative balance, the
 * deficit is drawn from the insurance fund: never left as a silent negative balance. The draw writes its
 * audit entry and an outbox of the ADL queues to publish in the same transaction; the queues are then
 * published and the outbox cleared. Safe to run again for the same order (a redelivered event, a retry
 * after a failure): it draws once and publishes what the outbox still holds.
 */
async function settleIfBankrupt(d: FeedbackDeps, order: TrackedOrder): Promise<void> {
  if (!d.bankruptcy || !order.step.startsWith('liquidat') || !isFinal(order)) return;
  const { orders, repo, fund } = d.bankruptcy;
  const step = (await orders.forIncident(order.accountId, order.incidentId)).filter(
    (o) => o.step === order.step,
  );
  if (!step.every(isFinal)) return;
  const instruments = [...new Set(step.map((o) => o.instrument))];
  const [account, positions] = await Promise.all([
    repo.getAccount(order.accountId),
    repo.getPositions(order.accountId),
  ]);
  const balance = String(account?.cash ?? '0');
  const settlement =
    account && heldPositions(positions).length === 0
      ? settleBankruptcy(new Decimal(order.collateral ?? '0'), new Decimal(balance))
      : null;
  const outcome = settlement
    ? await fund.draw(
        order.accountId,
        order.incidentId,
        balance,
        settlement,
        d.now().toISOString(),
        instruments,
      )
    : null;
  // What this draw, or an earlier attempt's (its publish failed, or it died), still has to announce.
  const pending =
    outcome === 'drawn' ? instruments : await fund.pendingAdl(order.accountId, order.incidentId);
  if (!pending) return;
  // The fund took a loss: the venue's auto-deleveraging engine gets each liquidated instrument's queue.
  for (const instrument of pending) {
    const queue = await adlQueue(repo, instrument).catch((e: unknown) =>
      e instanceof TooManyHolders ? null : Promise.reject(e),
    );
    if (!queue) continue;
    await d.bankruptcy.publisher.publish([
      {
        detailType: 'AdlQueuePublished',
        detail: {
          schemaVersion: SCHEMA_VERSION,
          // The same id however often it is published (a retry repeats the event, never a new one).
          eventId: eventId('AdlQueuePublished', order.accountId, `${order.incidentId}:${instrument}`),
          accountId: order.accountId,
          occurredAt: d.now().toISOString(),
          incidentId: order.incidentId,
          ...queue,
        },
      },
    ]);
  }
  await fund.clearAdl(order.accountId, order.incidentId);
}

/**
 * A broker's order event: validated, applied to its order (idempotently), and written to the audit trail
 * as requested vs filled. An invalid event, or one about an order never requested, is dead-lettered.
 */
export async function handleBrokerFeedback(
  event: { 'detail-type': string; detail: unknown },
  d: FeedbackDeps,
) {
  const parsed = parseBrokerEvent(event?.['detail-type'], event?.detail);
  if (!parsed.ok) {
    await d.deadLetter.send('broker-event-invalid', event, parsed.issues);
    return { applied: false };
  }
  const e = parsed.event;
  const result = await d.orders.apply(e);
  if (!result) {
    await d.deadLetter.send(
      'broker-event-unknown-order',
      event,
      `no order ${e.detail.idempotencyKey} was requested`,
    );
    return { applied: false };
  }
  const { before, after } = result;
  if (after === before) {
    // Applied already (a redelivery, or the retry of an attempt that failed further on): what follows
    // from the order being final is finished, idempotently — the settlement, and a rejection's page.
    await settleIfBankrupt(d, after);
    await pageIfLiquidationRejected(d, e, after);
    return { applied: false };
  }
  const filled = new Decimal(after.filled);
  await d.audit({
    accountId: after.accountId,
    incidentId: after.incidentId,
    action: `order-${after.status}`,
    actor: 'broker',
    details: {
      idempotencyKey: after.idempotencyKey,
      step: after.step,
      order: `${after.side} ${after.requested} ${after.instrument}`,
      requested: after.requested,
      filled: after.filled,
      ...(filled.isZero()
        ? {}
        : { averagePrice: new Decimal(after.filledNotional).dividedBy(filled).toDecimalPlaces(8).toFixed() }),
      ...(e.detailType === 'OrderRejected' || e.detailType === 'OrderCancelled'
        ? { reason: e.detail.reason }
        : {}),
    },
  });
  await settleIfBankrupt(d, after);
  await pageIfLiquidationRejected(d, e, after);
  return { applied: true };
}

/** A rejected liquidation pages at once (automation does not resubmit one); the alert's id makes it once. */
async function pageIfLiquidationRejected(d: FeedbackDeps, e: BrokerEvent, after: TrackedOrder) {
  if (e.detailType === 'OrderRejected' && after.step.startsWith('liquidat'))
    await d.alerts.dispatch({
      ...alertFor(
        'failure',
        {
          accountId: after.accountId,
          incidentId: after.incidentId,
          level: 'LIQUIDATION',
          marginRatio: null,
          callMove: null,
          done: `liquidation order ${after.side} ${after.requested} ${after.instrument} REJECTED: ${e.detail.reason}`,
          next: 'a person must close the position: automation does not resubmit a liquidation',
        },
        'critical',
        d.now().toISOString(),
        true,
      ),
      id: `${after.accountId}:${after.incidentId}:liquidation-rejected:${after.idempotencyKey}`,
    });
}

let deps: FeedbackDeps | undefined;
export const handler = withMetrics(async (event: EventBridgeEvent<string, unknown>) => {
  if (!deps) {
    const env = readEnv();
    const client = new DynamoDBClient({});
    const actions = new ActionsRepository(client, env.tables.actions);
    deps = {
      orders: new OrdersRepository(client, env.tables.actions),
      audit: (entry) => actions.audit(entry),
      deadLetter: new SqsDeadLetter(new SQSClient({}), env.deadLetterQueueUrl),
      alerts: awsDispatcher(),
      now: () => new Date(),
      bankruptcy: {
        orders: new OrdersRepository(client, env.tables.actions),
        repo: new RiskRepository(client, env.tables),
        fund: new InsuranceFundLedger(client, env.tables),
        publisher: new EventBridgePublisher(new EventBridgeClient({}), env.busName),
      },
    };
  }
  return handleBrokerFeedback(event, deps);
});
