import { TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { transactWrite } from './transactions.ts';
import {
  DynamoDBDocumentClient,
  GetCommand,
  NumberValue,
  ScanCommand,
  UpdateCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import type { AccountItem, PositionItem, PriceItem } from '../../shared/pipeline/records.ts';
import type { HistoryItem, StoredRiskState } from '../../shared/pipeline/stored-state.ts';
import type { TableKey } from './table-definitions.ts';
import { overviewAttributes } from '../../shared/console/overview.ts';
import { batchGetAll, pagesOf } from './pages.ts';
import { conditionFailed } from './conditional.ts';

/** The state with the overview index's keys: written in the same put, so the index never lags the state. */
function withOverview(state: StoredRiskState) {
  const { ratioKey, callDistanceKey, ...rest } = overviewAttributes(state);
  return {
    ...state,
    ...rest,
    ratioKey: NumberValue.from(ratioKey),
    callDistanceKey: NumberValue.from(callDistanceKey),
  };
}

/** Thrown when another evaluation wrote the account's state first: re-read and try again. */
export class VersionConflict extends Error {
  constructor(accountId: string, expected: number) {
    super(`risk state of ${accountId} changed under us (expected version ${expected})`);
    this.name = 'VersionConflict';
  }
}

export type Key = Record<string, unknown>;

/** Everything the evaluator reads and writes, over DynamoDB. */
export class RiskRepository {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tables: Record<TableKey, string>,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async getAccount(accountId: string): Promise<AccountItem | null> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tables.accounts, Key: { accountId }, ConsistentRead: true }),
    );
    return (out.Item as AccountItem | undefined) ?? null;
  }

  async getPositions(accountId: string): Promise<PositionItem[]> {
    const items: PositionItem[] = [];
    for await (const page of pagesOf(this.doc, {
      kind: 'query',
      TableName: this.tables.positions,
      KeyConditionExpression: 'accountId = :a',
      ExpressionAttributeValues: { ':a': accountId },
      ConsistentRead: true,
    }))
      items.push(...(page as PositionItem[]));
    return items;
  }

  /** Latest prices (strongly consistent: a tick just written must be seen); BatchGet's unprocessed keys are retried with backoff, never dropped. */
  async getPrices(
    instruments: readonly string[],
    options?: { fresh?: boolean; eventual?: boolean },
  ): Promise<Map<string, PriceItem>> {
    const keys = [...new Set(instruments)].map((instrument) => ({ instrument }));
    const consistent = options?.fresh === true || options?.eventual !== true;
    const items = (await batchGetAll(
      this.doc,
      this.tables.prices,
      keys,
      consistent,
    )) as unknown as PriceItem[];
    return new Map(items.map((item) => [item.instrument, item]));
  }

  async getRiskState(accountId: string): Promise<StoredRiskState | null> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tables.riskState, Key: { accountId }, ConsistentRead: true }),
    );
    return (out.Item as StoredRiskState | undefined) ?? null;
  }

  /** State and its history entry in one transaction, only if the state is still at `expectedVersion`. */
  async saveRiskState(
    state: StoredRiskState,
    expectedVersion: number,
    history: HistoryItem | null,
  ): Promise<void> {
    try {
      await transactWrite(this.doc, {
        TransactItems: [
          {
            Put: {
              TableName: this.tables.riskState,
              Item: withOverview(state),
              ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(accountId)' : 'version = :v',
              ...(expectedVersion === 0 ? {} : { ExpressionAttributeValues: { ':v': expectedVersion } }),
            },
          },
          ...(history ? [{ Put: { TableName: this.tables.riskHistory, Item: history } }] : []),
        ],
      });
    } catch (e) {
      if (
        e instanceof TransactionCanceledException &&
        e.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
      ) {
        throw new VersionConflict(state.accountId, expectedVersion);
      }
      throw e;
    }
  }

  /** Empties the outbox once its events are published; a no-op if the state moved on meanwhile. */
  async clearOutbox(accountId: string, version: number, published: number): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tables.riskState,
          Key: { accountId },
          UpdateExpression: 'SET outbox = :empty',
          ConditionExpression: 'version = :v AND size(outbox) = :n',
          ExpressionAttributeValues: { ':empty': [], ':v': version, ':n': published },
        }),
      );
    } catch (e) {
      if (!conditionFailed(e)) throw e;
    }
  }

  /** Accounts holding an instrument, a page at a time (the holdings index). */
  async *holders(instrument: string): AsyncGenerator<string[]> {
    for await (const page of pagesOf(this.doc, {
      kind: 'query',
      TableName: this.tables.positions,
      IndexName: 'byInstrument',
      KeyConditionExpression: 'instrument = :i',
      ExpressionAttributeValues: { ':i': instrument },
    }))
      yield page.map((i) => i.accountId as string);
  }

  /** One page of one parallel-scan segment of the accounts table (ids only). */
  async scanAccounts(
    segment: number,
    totalSegments: number,
    start?: Key,
  ): Promise<{ accountIds: string[]; next?: Key }> {
    const out = await this.doc.send(
      new ScanCommand({
        TableName: this.tables.accounts,
        Segment: segment,
        TotalSegments: totalSegments,
        ProjectionExpression: 'accountId',
        ExclusiveStartKey: start,
      }),
    );
    return { accountIds: (out.Items ?? []).map((i) => i.accountId as string), next: out.LastEvaluatedKey };
  }

  /**
   * Every stored price, a page at a time (the prices table holds one item per instrument): what the watch
   * sweep needs to find newly stale prices in market time, so the `session` too (a reserved word).
   */
  async *scanPrices(): AsyncGenerator<PriceItem[]> {
    yield* pagesOf(this.doc, {
      kind: 'scan',
      TableName: this.tables.prices,
      ProjectionExpression: 'instrument, priceTime, #s',
      ExpressionAttributeNames: { '#s': 'session' },
    }) as AsyncGenerator<PriceItem[]>;
  }

  /** Stores a price only if it is newer than the stored one: late ticks never overwrite fresh ones. */
  async putPriceIfNewer(price: PriceItem): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tables.prices,
          Item: price,
          ConditionExpression: 'attribute_not_exists(instrument) OR priceTime < :t',
          ExpressionAttributeValues: { ':t': price.priceTime },
        }),
      );
      return true;
    } catch (e) {
      if (conditionFailed(e)) return false;
      throw e;
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
