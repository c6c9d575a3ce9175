import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  PutCommand,
  DeleteCommand,
} from '@aws-sdk/lib-dynamodb';
import { Decimal } from '../shared/decimal.ts';
import type { BrokerEvent } from '../shared/events/broker-feedback.ts';
import type { EventDetail } from '../shared/events/schemas.ts';
import { MODELS } from '../shared/margin/registry.ts';
import type { ModelName } from '../shared/schemas/account.ts';
import type { TableKey } from '../functions/lib/table-definitions.ts';

type OrderRequest = EventDetail<'DeleverageRequested'>;
type RequestedOrder = OrderRequest['orders'][number];

/** How the simulated broker treats the n-th order it receives (from 0): by default it fills everything. */
export interface BrokerBehaviour {
  /** A reason to reject the order, or null to work it. */
  reject?: (order: RequestedOrder, n: number) => string | null;
  /** The fraction of the order filled (IOC: the rest is cancelled), in (0, 1]. */
  fillFraction?: (order: RequestedOrder, n: number) => Decimal;
}

/**
 * Stands in for a broker's order system in local mode and tests: answers DeleverageRequested /
 * LiquidationRequested orders with the broker's events (accepted, filled in full or in part, rejected),
 * fills at the estimated price and fees, and writes positions and cash back to the tables (so the streams
 * re-evaluate the account, as they would after real fills). An idempotency key is worked at most once,
 * as a real order system must; a second submission of a key is counted, and must never happen.
 */
export class BrokerSimulator {
  private readonly doc: DynamoDBDocumentClient;
  private readonly filled = new Set<string>();
  private received = 0;
  /** Keys submitted again after they were worked (the escalation must never do this). */
  resubmitted = 0;

  constructor(
    client: DynamoDBClient,
    private readonly tables: Record<TableKey, string>,
    private readonly behaviour: BrokerBehaviour = {},
    private readonly now: () => Date = () => new Date(),
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
  }

  /** Works a request's orders; returns the broker's events and the number of orders filled (in part or whole). */
  async respond(request: OrderRequest): Promise<{ events: BrokerEvent[]; fills: number }> {
    const events: BrokerEvent[] = [];
    const plan: { order: RequestedOrder; quantity: Decimal }[] = [];
    const at = this.now().toISOString();
    const base = (o: RequestedOrder, kind: string) => ({
      schemaVersion: '1' as const,
      eventId: `${o.idempotencyKey}:${kind}`,
      accountId: request.accountId,
      idempotencyKey: o.idempotencyKey,
      occurredAt: at,
    });
    for (const order of request.orders) {
      if (this.filled.has(order.idempotencyKey)) {
        this.resubmitted += 1;
        continue;
      }
      const n = this.received++;
      this.filled.add(order.idempotencyKey);
      events.push({
        detailType: 'OrderAccepted',
        detail: { ...base(order, 'accepted'), brokerOrderId: `SIM-${n}` },
      });
      const reason = this.behaviour.reject?.(order, n) ?? null;
      if (reason) {
        events.push({ detailType: 'OrderRejected', detail: { ...base(order, 'rejected'), reason } });
        continue;
      }
      const fraction = this.behaviour.fillFraction?.(order, n) ?? new Decimal(1);
      // A part fill is whole units; a full fill is the order as it stands (fractional crypto included).
      const quantity = fraction.greaterThanOrEqualTo(1)
        ? new Decimal(order.quantity)
        : new Decimal(order.quantity).times(fraction).toDecimalPlaces(0, Decimal.ROUND_DOWN);
      if (quantity.isZero()) {
        events.push({
          detailType: 'OrderCancelled',
          detail: { ...base(order, 'cancelled'), reason: 'no liquidity', cumulativeQuantity: '0' },
        });
        continue;
      }
      plan.push({ order, quantity });
      events.push({
        detailType: 'OrderFilled',
        detail: {
          ...base(order, 'filled'),
          quantity: quantity.toFixed(),
          cumulativeQuantity: quantity.toFixed(),
          price: new Decimal(order.estimatedPrice).toFixed(),
          fees: new Decimal(order.estimatedFees).times(quantity).dividedBy(order.quantity).toFixed(),
          final: true,
        },
      });
    }
    await this.apply(request, plan);
    return { events, fills: plan.length };
  }

  /** Fills every order whole (the plain broker of earlier runs). */
  async fill(request: OrderRequest): Promise<number> {
    return (await this.respond(request)).fills;
  }

  private async apply(
    request: OrderRequest,
    work: { order: RequestedOrder; quantity: Decimal }[],
  ): Promise<void> {
    if (work.length === 0) return;
    const account = (
      await this.doc.send(
        new GetCommand({ TableName: this.tables.accounts, Key: { accountId: request.accountId } }),
      )
    ).Item;
    if (!account) return;
    const valuation = MODELS[account.model as ModelName]?.valuation ?? 'spot';
    const positions =
      (
        await this.doc.send(
          new QueryCommand({
            TableName: this.tables.positions,
            KeyConditionExpression: 'accountId = :a',
            ExpressionAttributeValues: { ':a': request.accountId },
          }),
        )
      ).Items ?? [];
    let cash = new Decimal(account.cash as string);
    for (const { order, quantity } of work) {
      const position = positions.find((p) => p.instrument === order.instrument);
      if (!position) continue;
      const multiplier = new Decimal((position.multiplier as string | undefined) ?? '1');
      const change = order.side === 'SELL' ? quantity.negated() : quantity;
      const traded = change.times(multiplier);
      const price = new Decimal(order.estimatedPrice);
      cash =
        valuation === 'spot'
          ? cash.minus(traded.times(price))
          : cash.plus(
              traded
                .negated()
                .times(
                  price.minus(new Decimal((position.avgCost as string | undefined) ?? order.referencePrice)),
                ),
            );
      cash = cash.minus(new Decimal(order.estimatedFees).times(quantity).dividedBy(order.quantity));
      const remaining = new Decimal(position.quantity as string).plus(change);
      if (remaining.isZero()) {
        await this.doc.send(
          new DeleteCommand({
            TableName: this.tables.positions,
            Key: { accountId: request.accountId, instrument: order.instrument },
          }),
        );
      } else {
        await this.doc.send(
          new PutCommand({
            TableName: this.tables.positions,
            Item: { ...position, quantity: remaining.toFixed() },
          }),
        );
      }
    }
    await this.doc.send(
      new PutCommand({ TableName: this.tables.accounts, Item: { ...account, cash: cash.toFixed() } }),
    );
  }
}
