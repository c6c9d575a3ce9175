import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { NO_MEMORY, type AlertMemory } from '../../shared/notify/fatigue.ts';
import type { PageState } from '../../shared/notify/ladder.ts';
import type { Alert } from '../../shared/notify/alert.ts';
import type { Delivery } from './channels/delivery.ts';
import { conditionFailed } from './conditional.ts';

/** A delivery held back by quiet hours or collected for a digest. */
export interface HeldDelivery {
  kind: 'quiet-hours' | 'digest';
  until: string;
  delivery: Delivery;
  alert: Alert;
}

const PAGES = '#pages';
const HELD = '#notify';

/**
 * Notification state in the Actions table: per account its alert memory (versioned), a record per
 * delivery (a conditional put: a retried step never sends twice), pages under `#pages` (acknowledged by id
 * from a link), and held deliveries under `#notify`, due-time ordered.
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

  /** Claims a delivery; false if it was already claimed (sent, or being sent, by an earlier attempt). */
  async claimDelivery(accountId: string, key: string, at: string): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { accountId, actionKey: `DELIVERY#${key}`, status: 'claimed', at },
          ConditionExpression: 'attribute_not_exists(actionKey) OR #s = :failed',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':failed': 'failed' },
        }),
      );
      return true;
    } catch (e) {
      if (conditionFailed(e)) return false;
      throw e;
    }
  }

  async settleDelivery(
    accountId: string,
    key: string,
    status: 'sent' | 'failed',
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

  async hold(held: HeldDelivery): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          accountId: HELD,
          actionKey: `HELD#${held.until}#${held.delivery.alertId}#${held.delivery.route}`,
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
