import { TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import {
  accountOfBoundKey,
  crossingQueries,
  isIndexPartition,
  rowItemKeys,
  summaryKey,
  watchPartition,
  type BandItemKey,
  type BandQuery,
} from '../../shared/bands/band-keys.ts';
import type { BandSummary, BandWritePlan } from '../../shared/bands/band-rows.ts';
import type { Decimal } from '../../shared/decimal.ts';
import { forEachLimit } from './concurrency.ts';
import { pagesOf } from './pages.ts';
import { transactWrite } from './transactions.ts';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * Another evaluation rewrote the account's bands first: evaluate again. `written`: index items this
 * write put ahead of the summary (an account with more items than one transaction holds); they may not
 * be what the winner's summary says, so the retry rewrites every row and deletes those of them it does
 * not keep.
 */
export class BandConflict extends Error {
  constructor(
    accountId: string,
    readonly written: readonly BandItemKey[] = [],
  ) {
    super(`guard bands of ${accountId} changed under us`);
    this.name = 'BandConflict';
  }

  get partial(): boolean {
    return this.written.length > 0;
  }
}

/** A transaction holds at most 100 items. */
const TRANSACTION_ITEMS = 100;
/** Band-index queries of one tick in flight at once. */
const QUERY_CONCURRENCY = 16;

const itemId = (k: BandItemKey) => `${k.partition}\u0000${k.sk}`;

/** What one tick's crossing search needs: the new price and the range prices covered since the last tick. */
export interface TickRange {
  instrument: string;
  price: Decimal | string;
  lowest: Decimal | string;
  highest: Decimal | string;
}

/** What a tick found: accounts whose bound it crossed, and unbanded accounts holding the instrument. */
export interface CrossedAccounts {
  bounded: string[];
  unbanded: string[];
}

/** The index items a plan deletes and puts (pure; exported for the in-memory adapters and tests). */
export function bandItemChanges(
  plan: BandWritePlan,
  orphans: readonly BandItemKey[] = [],
): { puts: BandItemKey[]; deletes: BandItemKey[] } {
  const { accountId, shard } = plan;
  const keep = new Map<string, BandItemKey>();
  const drop = new Map<string, BandItemKey>();
  const before = (instrument: string) => {
    const old = plan.previous[instrument];
    return old ? rowItemKeys(instrument, accountId, shard, old) : [];
  };
  for (const row of plan.puts) {
    const fresh = rowItemKeys(row.instrument, accountId, shard, row);
    const old = new Set(before(row.instrument).map(itemId));
    for (const k of before(row.instrument)) drop.set(itemId(k), k);
    for (const k of fresh) {
      drop.delete(itemId(k));
      if (plan.rewriteAll || !old.has(itemId(k))) keep.set(itemId(k), k);
    }
  }
  for (const instrument of plan.deletes) for (const k of before(instrument)) drop.set(itemId(k), k);
  // Items a lost race put ahead of its summary, unless this plan's rows keep them.
  const kept = new Set(
    Object.entries(plan.summary.rows).flatMap(([instrument, row]) =>
      rowItemKeys(instrument, accountId, shard, row).map(itemId),
    ),
  );
  for (const k of orphans) if (!kept.has(itemId(k))) drop.set(itemId(k), k);
  return { puts: [...keep.values()], deletes: [...drop.values()] };
}

/** The guard-band table (shared/bands/band-keys.ts describes the layout). */
export class BandRepository {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    /** Keys one price bucket is split over (the account's shard picks one). */
    readonly shards: number,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async getBandSummary(accountId: string): Promise<BandSummary | null> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: summaryKey(accountId), ConsistentRead: true }),
    );
    if (!out.Item) return null;
    const { version, basis, always, rows, seen } = out.Item as BandSummary;
    return {
      accountId,
      version: Number(version),
      basis: basis ?? '',
      always: always ?? null,
      rows: rows ?? {},
      ...(seen ? { seen } : {}),
    };
  }

  /**
   * Index items, watch entry and summary; the summary is written last and only if no other evaluation has
   * written since this one read it. Up to 100 items this is one transaction; throttled or conflicting
   * transactions are retried with backoff.
   */
  async writeBands(plan: BandWritePlan, orphans: readonly BandItemKey[] = []): Promise<void> {
    const { accountId, shard } = plan;
    const changes = bandItemChanges(plan, orphans);
    const items: TransactItem[] = [
      ...changes.deletes.map((Key) => ({ Delete: { TableName: this.table, Key } })),
      ...changes.puts.map((Item) => ({ Put: { TableName: this.table, Item } })),
    ];
    if (plan.watch)
      items.push({
        Put: {
          TableName: this.table,
          Item: { partition: watchPartition(shard), sk: accountId, reason: plan.watch.reason },
        },
      });
    if (plan.unwatch)
      items.push({
        Delete: { TableName: this.table, Key: { partition: watchPartition(shard), sk: accountId } },
      });
    const summary: TransactItem = {
      Put: {
        TableName: this.table,
        Item: { ...summaryKey(accountId), ...plan.summary },
        ConditionExpression: plan.expectedVersion === 0 ? 'attribute_not_exists(#p)' : '#v = :v',
        ExpressionAttributeNames: plan.expectedVersion === 0 ? { '#p': 'partition' } : { '#v': 'version' },
        ...(plan.expectedVersion === 0 ? {} : { ExpressionAttributeValues: { ':v': plan.expectedVersion } }),
      },
    };
    // An account with more items than fit beside the summary writes them ahead, in full transactions.
    const written: BandItemKey[] = [];
    while (items.length > TRANSACTION_ITEMS - 1) {
      const chunk = items.splice(0, TRANSACTION_ITEMS);
      await transactWrite(this.doc, { TransactItems: chunk });
      for (const item of chunk) {
        // Only index items can be orphaned: the watch row is the plan's own, re-put or deleted by the retry.
        const put = item.Put?.Item as BandItemKey | undefined;
        if (put && isIndexPartition(put.partition)) written.push(put);
      }
    }
    const last = [...items, summary];
    try {
      await transactWrite(this.doc, { TransactItems: last });
    } catch (e) {
      const reasons = e instanceof TransactionCanceledException ? (e.CancellationReasons ?? []) : [];
      if (reasons[last.length - 1]?.Code === 'ConditionalCheckFailed')
        throw new BandConflict(accountId, written);
      throw e;
    }
  }

  /**
   * Accounts whose band for the instrument a tick moved across (and the unbanded ones holding it), with
   * strongly consistent reads of the buckets between, in parallel. Null when the move spans too many
   * buckets to query (the caller fans out to every holder). Duplicates removed.
   */
  async crossedAccounts(tick: TickRange): Promise<CrossedAccounts | null> {
    const queries = crossingQueries(tick.instrument, tick.price, tick.lowest, tick.highest, this.shards);
    if (queries === null) return null;
    const bounded = new Set<string>();
    const unbanded = new Set<string>();
    const failures = await forEachLimit(queries, QUERY_CONCURRENCY, async (q) => {
      const into = q.partition.startsWith('x#') ? unbanded : bounded;
      for await (const page of this.query(q)) page.forEach((id) => into.add(id));
    });
    if (failures.length > 0) throw failures[0]!.error;
    return { bounded: [...bounded].sort(), unbanded: [...unbanded].sort() };
  }

  /** Accounts that cannot be banded: the minute sweep evaluates them. */
  async *watchedAccounts(): AsyncGenerator<string[]> {
    for (let shard = 0; shard < this.shards; shard++) yield* this.query({ partition: watchPartition(shard) });
  }

  private async *query(q: BandQuery): AsyncGenerator<string[]> {
    const condition = q.from !== undefined ? ' AND sk >= :b' : q.below !== undefined ? ' AND sk < :b' : '';
    const bound = q.from ?? q.below;
    const bounded = q.partition.startsWith('l#') || q.partition.startsWith('h#');
    for await (const page of pagesOf(this.doc, {
      kind: 'query',
      TableName: this.table,
      KeyConditionExpression: `#p = :p${condition}`,
      ExpressionAttributeNames: { '#p': 'partition' },
      ExpressionAttributeValues: { ':p': q.partition, ...(bound === undefined ? {} : { ':b': bound }) },
      ProjectionExpression: 'sk',
      ConsistentRead: true,
    }))
      yield page.map((i) => (bounded ? accountOfBoundKey(i.sk as string) : (i.sk as string)));
  }
}
