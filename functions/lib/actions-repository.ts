import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { conditionFailed } from './conditional.ts';

export interface StepRecord<P = unknown> {
  accountId: string;
  actionKey: string;
  incidentId: string;
  step: string;
  status: 'planned' | 'published';
  payload: P;
  createdAt: string;
  publishedAt?: string;
}

export interface Hold {
  accountId: string;
  reason: string;
  by: string;
  at: string;
}

export interface AuditEntry {
  accountId: string;
  action: string;
  actor: string;
  incidentId?: string;
  details?: Record<string, unknown>;
}

const stepKey = (incidentId: string, step: string) => `STEP#${incidentId}#${step}`;

/** One sequence for the whole process (every repository in it), so its entries of one millisecond stay in order. */
let processSequence = 0;

/**
 * A new audit entry's id: this process's sequence (entries of one millisecond in the order written), then
 * 64 random bits, so two processes (Lambda containers each counting from 1) never write the same key.
 */
export function auditId(): string {
  processSequence += 1;
  return `${processSequence.toString(36).padStart(8, '0')}${randomBytes(8).toString('hex')}`;
}

/**
 * An audit entry as its item in the Actions table (also written inside other transactions, e.g. the
 * insurance fund's draw): keyed by time, id and action under the account, `auditDay` for the day index.
 */
export function auditItem(entry: AuditEntry, at: string, id: string): Record<string, unknown> {
  return { ...entry, at, auditDay: at.slice(0, 10), actionKey: `AUDIT#${at}#${id}#${entry.action}` };
}

/** The Actions table: step records (exactly one per incident and step), holds, and the audit trail. */
export class ActionsRepository {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async getStep<P>(accountId: string, incidentId: string, step: string): Promise<StepRecord<P> | null> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { accountId, actionKey: stepKey(incidentId, step) },
        ConsistentRead: true,
      }),
    );
    return (out.Item as StepRecord<P> | undefined) ?? null;
  }

  /**
   * Records a step's plan only if the step has no record yet. Returns the record that stands: ours, or the
   * one a previous attempt wrote (whose plan is then reused, never recomputed).
   */
  async claimStep<P>(
    accountId: string,
    incidentId: string,
    step: string,
    payload: P,
  ): Promise<{ record: StepRecord<P>; claimed: boolean }> {
    const record: StepRecord<P> = {
      accountId,
      actionKey: stepKey(incidentId, step),
      incidentId,
      step,
      status: 'planned',
      payload,
      createdAt: this.now().toISOString(),
    };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: record,
          ConditionExpression: 'attribute_not_exists(actionKey)',
        }),
      );
      return { record, claimed: true };
    } catch (e) {
      if (!conditionFailed(e)) throw e;
      const existing = await this.getStep<P>(accountId, incidentId, step);
      return { record: existing!, claimed: false };
    }
  }

  async markPublished(accountId: string, incidentId: string, step: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { accountId, actionKey: stepKey(incidentId, step) },
        UpdateExpression: 'SET #s = :p, publishedAt = :t',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':p': 'published', ':t': this.now().toISOString() },
      }),
    );
  }

  async getHold(accountId: string): Promise<Hold | null> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { accountId, actionKey: 'HOLD' }, ConsistentRead: true }),
    );
    return out.Item ? (out.Item as Hold) : null;
  }

  async setHold(hold: Hold): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { ...hold, actionKey: 'HOLD' } }));
  }

  async clearHold(accountId: string): Promise<boolean> {
    const out = await this.doc.send(
      new DeleteCommand({
        TableName: this.table,
        Key: { accountId, actionKey: 'HOLD' },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return out.Attributes !== undefined;
  }

  /**
   * Appends an entry to the audit trail. Its key can collide with no other (see `auditId`), and the put is
   * conditional on that, so an entry never overwrites another; the one-in-2^64 collision takes a new id.
   */
  async audit(entry: AuditEntry): Promise<void> {
    const at = this.now().toISOString();
    for (let attempt = 1; ; attempt++) {
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: auditItem(entry, at, auditId()),
            ConditionExpression: 'attribute_not_exists(actionKey)',
          }),
        );
        return;
      } catch (e) {
        if (!conditionFailed(e) || attempt >= 3) throw e;
      }
    }
  }

  async listAudit(accountId: string, limit = 50): Promise<(AuditEntry & { at: string })[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'accountId = :a AND begins_with(actionKey, :p)',
        ExpressionAttributeValues: { ':a': accountId, ':p': 'AUDIT#' },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (out.Items ?? []) as (AuditEntry & { at: string })[];
  }
}

/** The Settings table: named documents validated by their schema; defaults when absent. */
export class SettingsRepository {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async getRaw(name: string): Promise<unknown> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { name } }));
    return out.Item?.value ?? {};
  }

  async get<S extends z.ZodType>(name: string, schema: S): Promise<z.output<S>> {
    return schema.parse(await this.getRaw(name));
  }

  async put(name: string, value: unknown): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.table, Item: { name, value, updatedAt: new Date().toISOString() } }),
    );
  }
}
