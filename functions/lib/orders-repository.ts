import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { EventDetail } from '../../shared/events/schemas.ts';
import type { BrokerEvent } from '../../shared/events/broker-feedback.ts';
import { applyFeedback, type TrackedOrder } from '../../shared/deleverage/order-tracking.ts';
import { pagesOf } from './pages.ts';
import { conditionFailed } from './conditional.ts';

/**
 * Requested orders and what the broker reported, in the Actions table (`ORDER#<idempotency key>` under
 * the account): recorded once when requested, moved on by each feedback event under a version condition.
 */
export class OrdersRepository {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  /** Records a request's orders (each once: a republished request changes nothing). */
  async recordRequested(
    request: EventDetail<'DeleverageRequested'>,
    at: string,
    /** The account's collateral when the orders were planned (for bankruptcy accounting). */
    collateral?: string,
  ): Promise<void> {
    for (const o of request.orders) {
      const order: TrackedOrder = {
        idempotencyKey: o.idempotencyKey,
        accountId: request.accountId,
        incidentId: request.incidentId,
        step: request.step,
        instrument: o.instrument,
        side: o.side,
        requested: o.quantity,
        filled: '0',
        filledNotional: '0',
        fees: '0',
        status: 'requested',
        requestedAt: at,
        updatedAt: at,
        seen: [],
        ...(collateral !== undefined ? { collateral } : {}),
      };
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...order, actionKey: `ORDER#${o.idempotencyKey}`, version: 1 },
            ConditionExpression: 'attribute_not_exists(actionKey)',
          }),
        );
      } catch (e) {
        if (!conditionFailed(e)) throw e;
      }
    }
  }

  async get(accountId: string, idempotencyKey: string): Promise<(TrackedOrder & { version: number }) | null> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { accountId, actionKey: `ORDER#${idempotencyKey}` },
        ConsistentRead: true,
      }),
    );
    return (out.Item as (TrackedOrder & { version: number }) | undefined) ?? null;
  }

  /** Applies a broker event to its order; null if no such order was requested (the caller dead-letters). */
  async apply(e: BrokerEvent): Promise<{ before: TrackedOrder; after: TrackedOrder } | null> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const current = await this.get(e.detail.accountId, e.detail.idempotencyKey);
      if (!current) return null;
      const { version, ...before } = current;
      const after = applyFeedback(before, e);
      if (after === before) return { before, after };
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...after, actionKey: `ORDER#${after.idempotencyKey}`, version: version + 1 },
            ConditionExpression: 'version = :v',
            ExpressionAttributeValues: { ':v': version },
          }),
        );
        return { before, after };
      } catch (err) {
        if (!conditionFailed(err)) throw err;
      }
    }
    throw new Error(`order ${e.detail.idempotencyKey} kept changing under us`);
  }

  /** Every order of an incident (all its steps and re-plans), every page. */
  async forIncident(accountId: string, incidentId: string): Promise<TrackedOrder[]> {
    const orders: TrackedOrder[] = [];
    for await (const page of pagesOf(this.doc, {
      kind: 'query',
      TableName: this.table,
      KeyConditionExpression: 'accountId = :a AND begins_with(actionKey, :p)',
      FilterExpression: 'incidentId = :i',
      ExpressionAttributeValues: { ':a': accountId, ':p': 'ORDER#', ':i': incidentId },
      ConsistentRead: true,
    }))
      orders.push(...(page as unknown as TrackedOrder[]));
    return orders;
  }
}
