import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  PutCommand,
  DeleteCommand,
} from '@aws-sdk/lib-dynamodb';
import { Decimal } from '../shared/decimal.ts';
import type { EventDetail } from '../shared/events/schemas.ts';
import { MODELS } from '../shared/margin/registry.ts';
import type { ModelName } from '../shared/schemas/account.ts';
import type { TableKey } from '../infra/table-definitions.ts';

type OrderRequest = EventDetail<'DeleverageRequested'>;

/**
 * Stands in for a broker's order system in local mode and tests: fills DeleverageRequested /
 * LiquidationRequested orders at their estimated price and fees, writing positions and cash back to the
 * tables (so the streams re-evaluate the account, as they would after real fills). An idempotency key
 * is filled at most once, as a real order system must.
 */
export class BrokerSimulator {
  private readonly doc: DynamoDBDocumentClient;
  private readonly filled = new Set<string>();

  constructor(
    client: DynamoDBClient,
    private readonly tables: Record<TableKey, string>,
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
  }

  async fill(request: OrderRequest): Promise<number> {
    const account = (
      await this.doc.send(
        new GetCommand({ TableName: this.tables.accounts, Key: { accountId: request.accountId } }),
      )
    ).Item;
    if (!account) return 0;
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
    let fills = 0;
    for (const order of request.orders) {
      if (this.filled.has(order.idempotencyKey)) continue;
      const position = positions.find((p) => p.instrument === order.instrument);
      if (!position) continue;
      this.filled.add(order.idempotencyKey);
      fills += 1;
      const multiplier = new Decimal((position.multiplier as string | undefined) ?? '1');
      const change =
        order.side === 'SELL' ? new Decimal(order.quantity).negated() : new Decimal(order.quantity);
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
      cash = cash.minus(order.estimatedFees);
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
    if (fills > 0)
      await this.doc.send(
        new PutCommand({ TableName: this.tables.accounts, Item: { ...account, cash: cash.toFixed() } }),
      );
    return fills;
  }
}
