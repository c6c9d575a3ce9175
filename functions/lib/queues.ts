import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createHash } from 'node:crypto';

/** Where records that cannot be processed go, with the reason: never silently dropped. */
export interface DeadLetter {
  send(reason: string, record: unknown, issues?: unknown): Promise<void>;
}

export class SqsDeadLetter implements DeadLetter {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(reason: string, record: unknown, issues?: unknown): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify({ reason, issues, record, at: new Date().toISOString() }),
        MessageAttributes: { reason: { DataType: 'String', StringValue: reason } },
      }),
    );
  }
}

export type WorkMessage =
  | {
      kind: 'segment';
      segment: number;
      totalSegments: number;
      startKey?: Record<string, unknown>;
      sweepId: string;
    }
  | {
      kind: 'accounts';
      accountIds: string[];
      reason: string;
      /**
       * The ticks that found these accounts (instrument → priceTime). An account whose bands were since
       * proven against prices at least this new is skipped: a crash wave evaluates it once, not once per tick.
       */
      ticks?: Record<string, string>;
      /**
       * Unbanded accounts every tick of every held instrument finds: at most one message per account per
       * second (a FIFO queue's de-duplication), so they are evaluated at most about once a second.
       */
      coalesce?: boolean;
    };

/**
 * Accounts per work message: small enough that one message's evaluations finish well inside a run (125
 * at ~5 ms of CPU each), large enough that its accounts share most price reads (the price cache is per
 * message; at crash scale those reads bind the Prices table, see docs/guard-bands.md) and that a crash
 * wave's messages all fit the work queue's concurrency at once (the capacity model's crash tick: 731
 * messages for 800 executions at 125, 914 at 100 — the last 114 then waited for a slot, and the last level
 * change came after the earlier messages' band rewrites: 23 s instead of 7.7 s).
 */
export const ACCOUNTS_PER_MESSAGE = 125;

/** Account ids as work messages of ACCOUNTS_PER_MESSAGE each. */
export function accountMessages(
  accountIds: readonly string[],
  reason: string,
  ticks?: Record<string, string>,
): WorkMessage[] {
  const messages: WorkMessage[] = [];
  for (let i = 0; i < accountIds.length; i += ACCOUNTS_PER_MESSAGE)
    messages.push({
      kind: 'accounts',
      accountIds: accountIds.slice(i, i + ACCOUNTS_PER_MESSAGE),
      reason,
      ...(ticks ? { ticks } : {}),
    });
  return messages;
}

/** One coalesced message per unbanded account (see WorkMessage.coalesce). */
export const coalescedMessages = (accountIds: readonly string[], reason: string): WorkMessage[] =>
  accountIds.map((id) => ({ kind: 'accounts', accountIds: [id], reason, coalesce: true }));

/** SQS takes MessageGroupId and MessageDeduplicationId of up to 128 characters. */
const SQS_ID_MAX = 128;

/**
 * The FIFO de-duplication id of a coalesced message: one per account and second. An account id may be 128
 * characters long (shared/schemas/account.ts), too long with the second appended: it is then hashed.
 */
export function coalesceId(accountId: string, nowMs: number): string {
  const second = Math.floor(nowMs / 1000);
  const id = `${accountId}#${second}`;
  return id.length <= SQS_ID_MAX ? id : `${createHash('sha256').update(accountId).digest('hex')}#${second}`;
}

export interface WorkQueue {
  enqueue(messages: readonly WorkMessage[]): Promise<void>;
}

/** The evaluation work queue: sweep segments and account batches fanned out from price changes. */
export class SqsWorkQueue implements WorkQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    /** The FIFO queue for coalesced messages; without one they go to the main queue. */
    private readonly coalescedQueueUrl?: string,
    private readonly now: () => number = Date.now,
  ) {}

  async enqueue(messages: readonly WorkMessage[]): Promise<void> {
    const coalesced = this.coalescedQueueUrl
      ? messages.filter((m) => m.kind === 'accounts' && m.coalesce)
      : [];
    const plain = coalesced.length > 0 ? messages.filter((m) => !coalesced.includes(m)) : messages;
    await this.send(this.queueUrl, plain, false);
    if (coalesced.length > 0) await this.send(this.coalescedQueueUrl!, coalesced, true);
  }

  private async send(queueUrl: string, messages: readonly WorkMessage[], fifo: boolean): Promise<void> {
    for (let i = 0; i < messages.length; i += 10) {
      let batch = messages.slice(i, i + 10).map((m, j) => {
        const id = m.kind === 'accounts' ? m.accountIds[0]! : '';
        return {
          Id: String(j),
          MessageBody: JSON.stringify(m),
          ...(fifo ? { MessageGroupId: id, MessageDeduplicationId: coalesceId(id, this.now()) } : {}),
        };
      });
      for (let attempt = 1; batch.length > 0; attempt++) {
        const out = await this.client.send(
          new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch }),
        );
        const failedIds = new Set((out.Failed ?? []).map((f) => f.Id));
        batch = batch.filter((e) => failedIds.has(e.Id));
        if (batch.length > 0 && attempt >= 5)
          throw new Error(`${batch.length} work message(s) not accepted by SQS`);
      }
    }
  }
}
