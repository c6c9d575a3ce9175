import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import {
  OVERVIEW_LEVELS,
  OVERVIEW_SHARDS,
  overviewPartition,
  type OverviewLevel,
} from '../../shared/console/overview.ts';
import { allDone, mergeShards, type ShardCursor } from '../../shared/console/shard-merge.ts';
import type { OverviewRow } from '../../shared/console/summary.ts';
import type { Hold } from './actions-repository.ts';
import { batchGetAll, pagesOf } from './pages.ts';

export type OverviewSort = 'ratio' | 'distance';
type Key = Record<string, unknown>;
type IndexRow = OverviewRow & Key;

export interface OverviewQuery {
  /** Only these levels; all of them, worst first, when absent. */
  levels?: readonly OverviewLevel[];
  sort: OverviewSort;
  order: 'asc' | 'desc';
  limit: number;
  /** The `next` token of the previous page. */
  next?: string;
}

interface Token {
  level: number;
  cursors: ShardCursor<Key>[];
}

export class InvalidPageToken extends Error {}

const INDEX: Record<OverviewSort, { name: string; key: string }> = {
  ratio: { name: 'byLevelRatio', key: 'ratioKey' },
  distance: { name: 'byLevelCallDistance', key: 'callDistanceKey' },
};

/** The overview indexes on the risk state, and the audit trail's day index. */
export class OverviewRepository {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tables: { riskState: string; actions: string },
    private readonly shards: number = OVERVIEW_SHARDS,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  /** One page: a merge of each level's shards, levels in order; never a scan. */
  async list(q: OverviewQuery): Promise<{ rows: OverviewRow[]; next: string | null }> {
    const levels = q.levels ?? OVERVIEW_LEVELS;
    const index = INDEX[q.sort];
    const sign = q.order === 'asc' ? 1 : -1;
    const compare = (a: IndexRow, b: IndexRow) =>
      sign * ((a[index.key] as number) - (b[index.key] as number)) ||
      sign * (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0);
    const keyOf = (r: IndexRow): Key => ({
      accountId: r.accountId,
      overviewPartition: r.overviewPartition,
      [index.key]: r[index.key],
    });
    let token = q.next ? decodeToken(q.next, levels.length, this.shards) : freshToken(0, this.shards);
    const rows: OverviewRow[] = [];
    while (rows.length < q.limit && token.level < levels.length) {
      const need = q.limit - rows.length;
      const reads = await Promise.all(
        token.cursors.map(async (cursor, shard) => {
          if (cursor.state === 'done') return { cursor, rows: [], more: false };
          const out = await this.doc.send(
            new QueryCommand({
              TableName: this.tables.riskState,
              IndexName: index.name,
              KeyConditionExpression: 'overviewPartition = :p',
              ExpressionAttributeValues: { ':p': overviewPartition(levels[token.level]!, shard) },
              ScanIndexForward: q.order === 'asc',
              Limit: need,
              ...(cursor.state === 'after' ? { ExclusiveStartKey: cursor.key } : {}),
            }),
          );
          return { cursor, rows: (out.Items ?? []) as IndexRow[], more: out.LastEvaluatedKey !== undefined };
        }),
      );
      const page = mergeShards(reads, need, compare, keyOf);
      rows.push(...page.rows.map(toRow));
      token = allDone(page.cursors)
        ? freshToken(token.level + 1, this.shards)
        : { level: token.level, cursors: page.cursors };
    }
    return { rows, next: token.level < levels.length ? encodeToken(token) : null };
  }

  /** Every overview row of every level (the summary job's read: the index's small projection only). */
  async *allRows(): AsyncGenerator<OverviewRow[]> {
    for (const level of OVERVIEW_LEVELS)
      for (let shard = 0; shard < this.shards; shard++)
        yield* pagesOf(this.doc, {
          kind: 'query',
          TableName: this.tables.riskState,
          IndexName: INDEX.ratio.name,
          KeyConditionExpression: 'overviewPartition = :p',
          ExpressionAttributeValues: { ':p': overviewPartition(level, shard) },
        }) as AsyncGenerator<OverviewRow[]>;
  }

  /** Audit entries written at or after `since` (ISO time), from the day index. */
  async auditSince(since: Date, until: Date): Promise<{ action: string; at: string }[]> {
    const out: { action: string; at: string }[] = [];
    for (let day = new Date(since); day <= until; day = new Date(day.getTime() + 86_400_000)) {
      for await (const page of pagesOf(this.doc, {
        kind: 'query',
        TableName: this.tables.actions,
        IndexName: 'byAuditDay',
        KeyConditionExpression: 'auditDay = :d AND #at >= :since',
        ExpressionAttributeNames: { '#at': 'at' },
        ExpressionAttributeValues: { ':d': day.toISOString().slice(0, 10), ':since': since.toISOString() },
      }))
        out.push(...(page as { action: string; at: string }[]));
    }
    return out;
  }

  /** Holds of the given accounts (one batched read per 100). */
  async holds(accountIds: readonly string[]): Promise<Map<string, Hold>> {
    const items = await batchGetAll(
      this.doc,
      this.tables.actions,
      accountIds.map((accountId) => ({ accountId, actionKey: 'HOLD' })),
    );
    const holds = new Map(items.map((item) => [item.accountId as string, item as unknown as Hold]));
    return holds;
  }
}

function toRow(item: IndexRow): OverviewRow {
  return {
    accountId: item.accountId,
    level: item.level ?? null,
    marginRatio: item.marginRatio ?? null,
    equity: item.equity ?? null,
    maintenanceRequirement: item.maintenanceRequirement ?? null,
    inMarginCall: item.inMarginCall ?? false,
    evaluatedAt: item.evaluatedAt,
    dataProblem: item.dataProblem ?? null,
    staleInstruments: item.staleInstruments ?? [],
    ...(item.overview ? { overview: item.overview } : {}),
  };
}

const freshToken = (level: number, shards: number): Token => ({
  level,
  cursors: Array.from({ length: shards }, () => ({ state: 'start' as const })),
});

const encodeToken = (t: Token) => Buffer.from(JSON.stringify(t)).toString('base64url');

function decodeToken(next: string, levels: number, shards: number): Token {
  try {
    const t = JSON.parse(Buffer.from(next, 'base64url').toString('utf8')) as Token;
    if (Number.isInteger(t.level) && t.level >= 0 && t.level < levels && t.cursors.length === shards)
      return t;
  } catch {
    // falls through to the error below
  }
  throw new InvalidPageToken('query.next: not a token from a previous page of this listing');
}
