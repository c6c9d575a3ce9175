import { TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { Decimal } from '../../shared/decimal.ts';
import { RetryLaterError } from '../../shared/errors.ts';
import type { Notification } from '../../shared/escalation/messages.ts';
import { NO_MEMORY, type AlertMemory } from '../../shared/notify/fatigue.ts';
import type { PageState } from '../../shared/notify/ladder.ts';
import type { Alert } from '../../shared/notify/alert.ts';
import type { BucketChannel, Buckets } from '../../shared/notify/rate-limit.ts';
import type { AlertCategory, Severity } from '../../shared/notify/policy.ts';
import { NO_STORM, type AlertIntent, type StormShare, type StormState } from '../../shared/notify/storm.ts';
import type { Delivery } from './channels/delivery.ts';
import { conditionFailed } from './conditional.ts';
import { transactWrite } from './transactions.ts';

/**
 * A delivery held back by quiet hours, collected for a digest, or deferred by a channel's rate limit
 * (then with the tag it was claimed under, so it is still sent once). A deferred SNS topic message has
 * `topic` (and its `delivery` names the alert and the topic).
 */
export interface HeldDelivery {
  kind: 'quiet-hours' | 'digest' | 'rate-limited';
  until: string;
  delivery: Delivery;
  alert: Alert;
  tag?: string;
  page?: { pageId: string; tier: string; attempt: number };
  priority?: boolean;
  topic?: { channel: 'alerts' | 'pages'; notification: Notification };
}

/**
 * How long a delivery's claim stands (ms): longer than any function that sends may run (Lambda timeouts
 * of 60 s at most), so a claim whose lease has lapsed belongs to a claimer that is gone, and two live
 * claimers never both deliver.
 */
export const DELIVERY_LEASE_MS = 90_000;

/** A claim taken, or why not: `sent` already, or `claimed` by another attempt until `until` (epoch ms). */
export type DeliveryClaim =
  | { claimed: true }
  | { claimed: false; status: 'sent' }
  | { claimed: false; status: 'claimed'; until: number };

const PAGES = '#pages';
/** A one-click link's single use, beside its page. */
const linkUseKey = (pageId: string, nonce: string) => `ACKLINK#${pageId}#${nonce}`;

/** Who used a one-click link, and when. */
export interface LinkUse {
  by: string;
  at: string;
}

/** The cancellation reasons of a cancelled transaction, in item order; null for any other error. */
const cancellationCodes = (e: unknown): string[] | null =>
  e instanceof TransactionCanceledException ||
  (e as { name?: string }).name === 'TransactionCanceledException'
    ? ((e as TransactionCanceledException).CancellationReasons ?? []).map((r) => r.Code ?? 'None')
    : null;
const HELD = '#notify';
/** The storm-mode state: one item every dispatcher reads and writes conditionally (shared/notify/storm.ts). */
export const STORM_PARTITION = '#storm';
const STORM_KEY = 'STATE';
/** One item of token buckets per channel (shared/notify/rate-limit.ts). */
const rateKey = (channel: BucketChannel) => ({ accountId: `#rate#${channel}`, actionKey: 'BUCKETS' });

/**
 * A storm's shares are spread over this many partitions (by account), so a crash's writes are not
 * throttled on one partition key (1,000 writes/s each) and a summary reads them in parallel.
 */
export const SHARE_PARTITIONS = 16;
const sharePartition = (stormId: string, accountId: string) =>
  `${STORM_PARTITION}#${stormId}#${createHash('sha256').update(accountId).digest()[0]! % SHARE_PARTITIONS}`;

function shareFromItem(item: Record<string, unknown>): StormShare {
  const categories: StormShare['categories'] = {};
  for (const [k, v] of Object.entries(item))
    if (k.startsWith('cat_')) categories[k.slice(4) as AlertCategory] = v as number;
  return {
    stormId: item.stormId as string,
    accountId: item.shareAccountId as string,
    level: item.level as StormShare['level'],
    shortfall: item.shortfall as string,
    ratio: (item.ratio as string | undefined) ?? null,
    at: item.at as number,
    intents: item.intents as number,
    categories,
    severities: [...((item.severities as Set<Severity> | undefined) ?? [])].sort(),
    routes: [...((item.routes as Set<string> | undefined) ?? [])].sort(),
  };
}

/**
 * Notification state in the Actions table: per account its alert memory (versioned), a record per
 * delivery (a conditional put: a retried step never sends twice), pages under `#pages` (acknowledged by
 * id from a link), held deliveries under `#notify`, due-time ordered, the storm-mode state under `#storm`
 * (versioned) with each storm's per-account shares under `#storm#<id>#<n>`, and the rate limits' buckets
 * under `#rate#<channel>` (versioned).
 */
export class NotifyStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async memory(accountId: string): Promise<{ memory: AlertMemory; version: number }> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { accountId, actionKey: 'ALERTS' },
        ConsistentRead: true,
      }),
    );
    return out.Item
      ? { memory: out.Item.memory as AlertMemory, version: out.Item.version as number }
      : { memory: NO_MEMORY, version: 0 };
  }

  /** False if another writer moved the memory on (read again and decide again). */
  async saveMemory(accountId: string, memory: AlertMemory, expectedVersion: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { accountId, actionKey: 'ALERTS', memory, version: expectedVersion + 1 },
          ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(actionKey)' : 'version = :v',
          ...(expectedVersion === 0 ? {} : { ExpressionAttributeValues: { ':v': expectedVersion } }),
        }),
      );
      return true;
    } catch (e) {
      if (conditionFailed(e)) return false;
      throw e;
    }
  }

  /** The storm-mode state and its version (0: never written). */
  async storm(): Promise<{ state: StormState; version: number }> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { accountId: STORM_PARTITION, actionKey: STORM_KEY },
        ConsistentRead: true,
      }),
    );
    return out.Item
      ? { state: out.Item.state as StormState, version: out.Item.version as number }
      : { state: NO_STORM, version: 0 };
  }

  private stormPut(state: StormState, expectedVersion: number) {
    return {
      TableName: this.table,
      Item: { accountId: STORM_PARTITION, actionKey: STORM_KEY, state, version: expectedVersion + 1 },
      ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(actionKey)' : '#v = :v',
      ExpressionAttributeNames: expectedVersion === 0 ? undefined : { '#v': 'version' },
      ExpressionAttributeValues: expectedVersion === 0 ? undefined : { ':v': expectedVersion },
    };
  }

  /**
   * Saves the storm state if nobody moved it on since `expectedVersion`: concurrent dispatchers agree on
   * one storm, one claim to send each message, one page.
   */
  async saveStorm(state: StormState, expectedVersion: number): Promise<boolean> {
    try {
      await this.doc.send(new PutCommand(this.stormPut(state, expectedVersion)));
      return true;
    } catch (e) {
      if (conditionFailed(e)) return false;
      throw e;
    }
  }

  /**
   * Merges one absorbed alert into its account's share of the storm (shared/notify/storm.ts `shareOf`),
   * atomically and unconditionally: no read, no version, so thousands of concurrent dispatchers never
   * contend. Latest level, shortfall, ratio and time; counts added; severities and routes united.
   */
  async addToShare(stormId: string, intent: AlertIntent, at: number): Promise<void> {
    const names: Record<string, string> = {
      '#lvl': 'level',
      '#sf': 'shortfall',
      '#at': 'at',
      '#n': 'intents',
      '#cat': `cat_${intent.category}`,
      '#sev': 'severities',
      '#sid': 'stormId',
      '#acc': 'shareAccountId',
    };
    const values: Record<string, unknown> = {
      ':lvl': intent.to ?? 'UNKNOWN',
      ':sf': new Decimal(intent.shortfall ?? '0').toFixed(),
      ':at': at,
      ':one': 1,
      ':sev': new Set([intent.severity]),
      ':sid': stormId,
      ':acc': intent.accountId,
    };
    const set = [
      intent.to !== null ? '#lvl = :lvl' : '#lvl = if_not_exists(#lvl, :lvl)',
      intent.shortfall !== null ? '#sf = :sf' : '#sf = if_not_exists(#sf, :sf)',
      '#at = :at',
      '#sid = :sid',
      '#acc = :acc',
    ];
    if (intent.ratio !== null) {
      names['#r'] = 'ratio';
      values[':r'] = intent.ratio;
      set.push('#r = :r');
    }
    const add = ['#n :one', '#cat :one', '#sev :sev'];
    if (intent.routes.length > 0) {
      names['#routes'] = 'routes';
      values[':routes'] = new Set(intent.routes);
      add.push('#routes :routes');
    }
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { accountId: sharePartition(stormId, intent.accountId), actionKey: `SHARE#${intent.accountId}` },
        UpdateExpression: `SET ${set.join(', ')} ADD ${add.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  /** Every account's share of a storm (its SHARE_PARTITIONS partitions, read in parallel, consistently). */
  async shares(stormId: string): Promise<StormShare[]> {
    const read = async (partition: string) => {
      const items: Record<string, unknown>[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const out = await this.doc.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'accountId = :p AND begins_with(actionKey, :s)',
            ExpressionAttributeValues: { ':p': partition, ':s': 'SHARE#' },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        );
        items.push(...(out.Items ?? []));
        start = out.LastEvaluatedKey;
      } while (start);
      return items;
    };
    const partitions = Array.from(
      { length: SHARE_PARTITIONS },
      (_, i) => `${STORM_PARTITION}#${stormId}#${i}`,
    );
    return (await Promise.all(partitions.map(read))).flat().map(shareFromItem);
  }

  /** A channel's token buckets and their version. */
  async rateBuckets(channel: BucketChannel): Promise<{ buckets: Buckets; version: number }> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: rateKey(channel), ConsistentRead: true }),
    );
    return out.Item
      ? { buckets: out.Item.buckets as Buckets, version: out.Item.version as number }
      : { buckets: {}, version: 0 };
  }

  /** False if another sender took a token since `expectedVersion` (read again and take again). */
  async saveRateBuckets(channel: BucketChannel, buckets: Buckets, expectedVersion: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...rateKey(channel), buckets, version: expectedVersion + 1 },
          ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(actionKey)' : '#v = :v',
          ExpressionAttributeNames: expectedVersion === 0 ? undefined : { '#v': 'version' },
          ExpressionAttributeValues: expectedVersion === 0 ? undefined : { ':v': expectedVersion },
        }),
      );
      return true;
    } catch (e) {
      if (conditionFailed(e)) return false;
      throw e;
    }
  }

  /**
   * Claims a delivery for `leaseMs`: a conditional write, so of concurrent claimers one wins. Claimable
   * when new, failed or rate-deferred, or when an earlier claim's lease has lapsed (its claimer died
   * between claiming and settling: the delivery is retried, never lost). Otherwise says why not: `sent`
   * (a duplicate), or `claimed` until the lease ends (another attempt may be sending right now).
   */
  async claimDelivery(
    accountId: string,
    key: string,
    at: string,
    leaseMs: number = DELIVERY_LEASE_MS,
  ): Promise<DeliveryClaim> {
    const now = Date.parse(at);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: {
              accountId,
              actionKey: `DELIVERY#${key}`,
              status: 'claimed',
              at,
              leaseUntil: now + leaseMs,
            },
            ConditionExpression:
              'attribute_not_exists(actionKey) OR #s IN (:failed, :deferred) OR ' +
              '(#s = :claimed AND (leaseUntil < :now OR (attribute_not_exists(leaseUntil) AND #at < :lapsed)))',
            ExpressionAttributeNames: { '#s': 'status', '#at': 'at' },
            ExpressionAttributeValues: {
              ':failed': 'failed',
              ':deferred': 'deferred',
              ':claimed': 'claimed',
              ':now': now,
              // Claims written before leases existed lapse `leaseMs` after they were taken.
              ':lapsed': new Date(now - leaseMs).toISOString(),
            },
          }),
        );
        return { claimed: true };
      } catch (e) {
        if (!conditionFailed(e)) throw e;
      }
      const out = await this.doc.send(
        new GetCommand({
          TableName: this.table,
          Key: { accountId, actionKey: `DELIVERY#${key}` },
          ConsistentRead: true,
        }),
      );
      const status = out.Item?.status as string | undefined;
      if (status === 'sent') return { claimed: false, status };
      if (status === 'claimed')
        return {
          claimed: false,
          status,
          until: (out.Item?.leaseUntil as number | undefined) ?? Date.parse(out.Item?.at as string) + leaseMs,
        };
      // Settled as failed or deferred (or gone) between the write and the read: claim again.
      if (attempt >= 3)
        throw new RetryLaterError('notify-contended', `the claim of delivery ${key} kept changing`);
    }
  }

  /** `deferred`: a rate limit held it back before any attempt; it may be claimed again when it is due. */
  async settleDelivery(
    accountId: string,
    key: string,
    status: 'sent' | 'failed' | 'deferred',
    attempts: number,
  ): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { accountId, actionKey: `DELIVERY#${key}` },
        UpdateExpression: 'SET #s = :s, attempts = :n',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': status, ':n': attempts },
      }),
    );
  }

  async createPage(page: PageState): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...page,
            accountId: PAGES,
            actionKey: `PAGE#${page.pageId}`,
            pageAccountId: page.accountId,
          },
          ConditionExpression: 'attribute_not_exists(actionKey)',
        }),
      );
      return true;
    } catch (e) {
      if (conditionFailed(e)) return false;
      throw e;
    }
  }

  async page(pageId: string): Promise<PageState | null> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { accountId: PAGES, actionKey: `PAGE#${pageId}` },
        ConsistentRead: true,
      }),
    );
    if (!out.Item) return null;
    const { pageAccountId, actionKey: _k, ...rest } = out.Item;
    return { ...(rest as PageState), accountId: pageAccountId as string };
  }

  /** Moves the page to its next rung, only from the rung it is on (a retried step moves it once). */
  async advancePage(
    pageId: string,
    from: { tier: number; attempt: number },
    to: { tier: number; attempt: number },
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { accountId: PAGES, actionKey: `PAGE#${pageId}` },
          UpdateExpression: 'SET tier = :t, attempt = :a',
          ConditionExpression: 'tier = :ft AND attempt = :fa AND attribute_type(ackedBy, :null)',
          ExpressionAttributeValues: {
            ':t': to.tier,
            ':a': to.attempt,
            ':ft': from.tier,
            ':fa': from.attempt,
            ':null': 'NULL',
          },
        }),
      );
      return true;
    } catch (e) {
      if (conditionFailed(e)) return false;
      throw e;
    }
  }

  /** Acknowledges once; returns the page as it now stands (null: no such page). */
  async acknowledge(
    pageId: string,
    by: string,
    at: string,
  ): Promise<{ page: PageState; first: boolean } | null> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { accountId: PAGES, actionKey: `PAGE#${pageId}` },
          UpdateExpression: 'SET ackedBy = :by, ackedAt = :at',
          ConditionExpression: 'attribute_exists(actionKey) AND attribute_type(ackedBy, :null)',
          ExpressionAttributeValues: { ':by': by, ':at': at, ':null': 'NULL' },
        }),
      );
      return { page: (await this.page(pageId))!, first: true };
    } catch (e) {
      if (!conditionFailed(e)) throw e;
      const page = await this.page(pageId);
      return page ? { page, first: false } : null;
    }
  }

  /** The use of a one-click link's nonce recorded with its acknowledgement (null: never used). */
  async linkUse(pageId: string, nonce: string): Promise<LinkUse | null> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { accountId: PAGES, actionKey: linkUseKey(pageId, nonce) },
        ConsistentRead: true,
      }),
    );
    return out.Item ? { by: out.Item.by as string, at: out.Item.at as string } : null;
  }

  /**
   * Acknowledges a page with a one-click link, once per link: the link's use (a conditional put on its
   * nonce), the acknowledgement and its audit entry (an item of the same table, `auditItem`) are one
   * transaction, so a replay is refused and a link is never spent without acknowledging and auditing.
   * A page acknowledged already leaves the link unspent.
   */
  async acknowledgeWithLink(
    pageId: string,
    nonce: string,
    by: string,
    at: string,
    audit?: Record<string, unknown>,
  ): Promise<
    | { kind: 'acknowledged'; page: PageState }
    | { kind: 'already'; page: PageState }
    | { kind: 'replayed'; use: LinkUse }
    | null
  > {
    try {
      await transactWrite(this.doc, {
        TransactItems: [
          {
            Put: {
              TableName: this.table,
              Item: { accountId: PAGES, actionKey: linkUseKey(pageId, nonce), pageId, by, at },
              ConditionExpression: 'attribute_not_exists(actionKey)',
            },
          },
          {
            Update: {
              TableName: this.table,
              Key: { accountId: PAGES, actionKey: `PAGE#${pageId}` },
              UpdateExpression: 'SET ackedBy = :by, ackedAt = :at',
              ConditionExpression: 'attribute_exists(actionKey) AND attribute_type(ackedBy, :null)',
              ExpressionAttributeValues: { ':by': by, ':at': at, ':null': 'NULL' },
            },
          },
          ...(audit
            ? [
                {
                  Put: {
                    TableName: this.table,
                    Item: audit,
                    ConditionExpression: 'attribute_not_exists(actionKey)',
                  },
                },
              ]
            : []),
        ],
      });
      return { kind: 'acknowledged', page: (await this.page(pageId))! };
    } catch (e) {
      const reasons = cancellationCodes(e);
      if (!reasons) throw e;
      if (reasons[0] === 'ConditionalCheckFailed') {
        const use = await this.linkUse(pageId, nonce);
        if (use) return { kind: 'replayed', use };
      }
      if (reasons[1] !== 'ConditionalCheckFailed') throw e;
      const page = await this.page(pageId);
      return page ? { kind: 'already', page } : null;
    }
  }

  async hold(held: HeldDelivery): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          accountId: HELD,
          actionKey: `HELD#${held.until}#${held.delivery.alertId}#${held.delivery.route}${held.tag ? `#${held.tag}` : ''}`,
          ...held,
        },
      }),
    );
  }

  /** Held deliveries due at `now`, oldest first. */
  async due(now: Date): Promise<(HeldDelivery & { actionKey: string })[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'accountId = :a AND actionKey BETWEEN :lo AND :hi',
        ExpressionAttributeValues: { ':a': HELD, ':lo': 'HELD#', ':hi': `HELD#${now.toISOString()}\uffff` },
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? []) as (HeldDelivery & { actionKey: string })[];
  }

  async release(actionKey: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { accountId: HELD, actionKey } }));
  }
}
