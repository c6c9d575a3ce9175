import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  accountOfBoundKey,
  crossingQueries,
  stripeOf,
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
import { batchPut } from './transactions.ts';

/**
 * Another evaluation rewrote the account's bands first: evaluate again. `written`: the index items this
 * write put ahead of its summary; the retry deletes those of them its own summary does not list.
 */
export class BandConflict extends Error {
  constructor(
    accountId: string,
    readonly written: readonly BandItemKey[] = [],
  ) {
    super(`guard bands of ${accountId} changed under us`);
    this.name = 'BandConflict';
  }
}

/** Conditional deletes of one band write in flight at once. */
const DELETE_CONCURRENCY = 8;
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
    const previous = before(row.instrument);
    const old = new Set(previous.map(itemId));
    for (const k of previous) drop.set(itemId(k), k);
    for (const k of fresh) {
      drop.delete(itemId(k));
      if (!old.has(itemId(k))) keep.set(itemId(k), k);
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
  /** The index's stripes (band-keys.ts stripeOf); one table unless striped. */
  private readonly tables: readonly string[];

  constructor(
    client: DynamoDBClient,
    tables: string | readonly string[],
    /** Keys one price bucket is split over (the account's shard picks one). */
    readonly shards: number,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.tables = typeof tables === 'string' ? [tables] : tables;
    if (this.tables.length === 0) throw new RangeError('the band index needs at least one table');
    if (this.tables.length > shards)
      throw new RangeError(`${this.tables.length} band tables need at least as many shards (${shards})`);
  }

  /** The table an item of the index lives in. */
  private tableOf(partition: string): string {
    return this.tables[stripeOf(partition, this.tables.length, this.shards)]!;
  }

  async getBandSummary(accountId: string): Promise<BandSummary | null> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableOf(summaryKey(accountId).partition),
        Key: summaryKey(accountId),
        ConsistentRead: true,
      }),
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
   * Index items, watch entry and summary, without a transaction (a transaction costs twice the write
   * units, and at crash scale band writes are what binds the table): new items are put first, then the
   * summary — only if no other evaluation has written since this one read it — then the items the summary
   * no longer lists are deleted. At every moment the index holds at least the current summary's items, so
   * a tick that leaves the current box always finds the account; a left-over item (a crash between the
   * steps) only finds it once more for nothing. Every item carries the summary version that wrote it, and
   * a delete is conditional on an older one: an item a later evaluation has put again is never taken away.
   */
  async writeBands(plan: BandWritePlan, orphans: readonly BandItemKey[] = []): Promise<void> {
    const { accountId, shard } = plan;
    const version = plan.summary.version;
    const changes = bandItemChanges(plan, orphans);
    const puts: Record<string, unknown>[] = changes.puts.map((k) => ({ ...k, v: version }));
    if (plan.watch)
      puts.push({ partition: watchPartition(shard), sk: accountId, reason: plan.watch.reason, v: version });
    const byTable = new Map<string, Record<string, unknown>[]>();
    for (const item of puts) {
      const table = this.tableOf(item.partition as string);
      const items = byTable.get(table);
      if (items) items.push(item);
      else byTable.set(table, [item]);
    }
    await Promise.all([...byTable].map(([table, items]) => batchPut(this.doc, table, items)));
    const written = changes.puts;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableOf(summaryKey(accountId).partition),
          Item: { ...summaryKey(accountId), ...plan.summary },
          ConditionExpression: plan.expectedVersion === 0 ? 'attribute_not_exists(#p)' : '#v = :v',
          ExpressionAttributeNames: plan.expectedVersion === 0 ? { '#p': 'partition' } : { '#v': 'version' },
          ...(plan.expectedVersion === 0
            ? {}
            : { ExpressionAttributeValues: { ':v': plan.expectedVersion } }),
        }),
      );
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw new BandConflict(accountId, written);
      throw e;
    }
    const deletes = [...changes.deletes];
    if (plan.unwatch) deletes.push({ partition: watchPartition(shard), sk: accountId });
    const failures = await forEachLimit(deletes, DELETE_CONCURRENCY, async (Key) => {
      try {
        await this.doc.send(
          new DeleteCommand({
            TableName: this.tableOf(Key.partition),
            Key,
            ConditionExpression: 'attribute_not_exists(#v) OR #v < :v',
            ExpressionAttributeNames: { '#v': 'v' },
            ExpressionAttributeValues: { ':v': version },
          }),
        );
      } catch (e) {
        // Put again by a later evaluation (or already gone): not ours to delete.
        if (!(e instanceof ConditionalCheckFailedException)) throw e;
      }
    });
    // The summary is written: a failed delete leaves an extra item (one needless find), never a gap.
    if (failures.length > 0) throw failures[0]!.error;
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
      TableName: this.tableOf(q.partition),
      KeyConditionExpression: `#p = :p${condition}`,
      ExpressionAttributeNames: { '#p': 'partition' },
      ExpressionAttributeValues: { ':p': q.partition, ...(bound === undefined ? {} : { ':b': bound }) },
      ProjectionExpression: 'sk',
      ConsistentRead: true,
    }))
      yield page.map((i) => (bounded ? accountOfBoundKey(i.sk as string) : (i.sk as string)));
  }
}
