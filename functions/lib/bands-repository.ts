import { TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  NumberValue,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { BandRow, BandSummary, BandWritePlan } from '../../shared/bands/band-rows.ts';
import { pagesOf } from './pages.ts';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * Another evaluation rewrote the account's bands first: evaluate again. `partial`: rows were written
 * ahead of the summary (an account with more rows than one transaction holds), so they may no longer
 * be what the summary says and must all be rewritten.
 */
export class BandConflict extends Error {
  constructor(
    accountId: string,
    readonly partial: boolean,
  ) {
    super(`guard bands of ${accountId} changed under us`);
    this.name = 'BandConflict';
  }
}

const rowPartition = (instrument: string, shard: number) => `i#${instrument}#${shard}`;
const summaryPartition = (accountId: string) => `a#${accountId}`;
const watchPartition = (shard: number) => `w#${shard}`;

/** A transaction holds at most 100 items. */
const TRANSACTION_ITEMS = 100;

/** The guard-band table (shared/bands/band-rows.ts describes the layout). */
export class BandRepository {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    readonly shards: number,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async getBandSummary(accountId: string): Promise<BandSummary | null> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { partition: summaryPartition(accountId), accountId },
        ConsistentRead: true,
      }),
    );
    if (!out.Item) return null;
    const { version, basis, always, rows } = out.Item as BandSummary;
    return {
      accountId,
      version: Number(version),
      basis: basis ?? '',
      always: always ?? null,
      rows: rows ?? {},
    };
  }

  /**
   * Rows, watch entry and summary; the summary is written last and only if no other evaluation has
   * written since this one read it. Up to 100 items this is one transaction.
   */
  async writeBands(plan: BandWritePlan): Promise<void> {
    const { accountId, shard } = plan;
    const items: TransactItem[] = [
      ...plan.puts.map((row) => ({ Put: { TableName: this.table, Item: this.rowItem(row) } })),
      ...plan.deletes.map((instrument) => ({
        Delete: { TableName: this.table, Key: { partition: rowPartition(instrument, shard), accountId } },
      })),
    ];
    if (plan.watch)
      items.push({
        Put: {
          TableName: this.table,
          Item: { partition: watchPartition(shard), accountId, reason: plan.watch.reason },
        },
      });
    if (plan.unwatch)
      items.push({ Delete: { TableName: this.table, Key: { partition: watchPartition(shard), accountId } } });
    items.push({
      Put: {
        TableName: this.table,
        Item: { partition: summaryPartition(accountId), ...plan.summary },
        ConditionExpression: plan.expectedVersion === 0 ? 'attribute_not_exists(#p)' : '#v = :v',
        ExpressionAttributeNames: plan.expectedVersion === 0 ? { '#p': 'partition' } : { '#v': 'version' },
        ...(plan.expectedVersion === 0 ? {} : { ExpressionAttributeValues: { ':v': plan.expectedVersion } }),
      },
    });
    const summary = items.pop()!;
    // An account with more rows than fit beside the summary writes them ahead, in full transactions.
    const partial = items.length > TRANSACTION_ITEMS - 1;
    while (items.length > TRANSACTION_ITEMS - 1) {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items.splice(0, TRANSACTION_ITEMS) }));
    }
    const last = [...items, summary];
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: last }));
    } catch (e) {
      const reasons = e instanceof TransactionCanceledException ? (e.CancellationReasons ?? []) : [];
      if (reasons[last.length - 1]?.Code === 'ConditionalCheckFailed')
        throw new BandConflict(accountId, partial);
      throw e;
    }
  }

  private rowItem(row: BandRow): Record<string, unknown> {
    return {
      partition: rowPartition(row.instrument, row.shard),
      accountId: row.accountId,
      instrument: row.instrument,
      ...(row.low === null ? {} : { low: NumberValue.from(row.low) }),
      ...(row.high === null ? {} : { high: NumberValue.from(row.high) }),
    };
  }

  /**
   * Accounts whose band for `instrument` does not contain `price` (and the unbanded ones holding it),
   * with strongly consistent reads over every shard. Pages of account ids, duplicates removed.
   */
  async *crossedAccounts(instrument: string, price: string): AsyncGenerator<string[]> {
    const seen = new Set<string>();
    const value = NumberValue.from(price);
    for (let shard = 0; shard < this.shards; shard++) {
      for (const [index, condition] of [
        ['byLow', '#k >= :price'],
        ['byHigh', '#k <= :price'],
      ] as const) {
        for await (const page of this.query(rowPartition(instrument, shard), {
          IndexName: index,
          KeyConditionExpression: `#p = :p AND ${condition}`,
          ExpressionAttributeNames: { '#p': 'partition', '#k': index === 'byLow' ? 'low' : 'high' },
          ExpressionAttributeValues: { ':price': value },
        })) {
          const fresh = page.filter((id) => !seen.has(id));
          fresh.forEach((id) => seen.add(id));
          if (fresh.length > 0) yield fresh;
        }
      }
    }
  }

  /** Accounts that cannot be banded: the minute sweep evaluates them. */
  async *watchedAccounts(): AsyncGenerator<string[]> {
    for (let shard = 0; shard < this.shards; shard++) {
      yield* this.query(watchPartition(shard), {
        KeyConditionExpression: '#p = :p',
        ExpressionAttributeNames: { '#p': 'partition' },
        ExpressionAttributeValues: {},
      });
    }
  }

  private async *query(
    partition: string,
    input: {
      IndexName?: string;
      KeyConditionExpression: string;
      ExpressionAttributeNames: Record<string, string>;
      ExpressionAttributeValues: Record<string, unknown>;
    },
  ): AsyncGenerator<string[]> {
    for await (const page of pagesOf(this.doc, {
      kind: 'query',
      TableName: this.table,
      ...input,
      ExpressionAttributeValues: { ...input.ExpressionAttributeValues, ':p': partition },
      ProjectionExpression: 'accountId',
      ConsistentRead: true,
    }))
      yield page.map((i) => i.accountId as string);
  }
}
