import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

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
  | { kind: 'accounts'; accountIds: string[]; reason: string };

/** Accounts per work message: small enough that one message's evaluations finish well inside a run. */
export const ACCOUNTS_PER_MESSAGE = 25;

/** Account ids as work messages of ACCOUNTS_PER_MESSAGE each. */
export function accountMessages(accountIds: readonly string[], reason: string): WorkMessage[] {
  const messages: WorkMessage[] = [];
  for (let i = 0; i < accountIds.length; i += ACCOUNTS_PER_MESSAGE)
    messages.push({ kind: 'accounts', accountIds: accountIds.slice(i, i + ACCOUNTS_PER_MESSAGE), reason });
  return messages;
}

export interface WorkQueue {
  enqueue(messages: readonly WorkMessage[]): Promise<void>;
}

/** The evaluation work queue: sweep segments and account batches fanned out from price changes. */
export class SqsWorkQueue implements WorkQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(messages: readonly WorkMessage[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 10) {
      let batch = messages
        .slice(i, i + 10)
        .map((m, j) => ({ Id: String(j), MessageBody: JSON.stringify(m) }));
      for (let attempt = 1; batch.length > 0; attempt++) {
        const out = await this.client.send(
          new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: batch }),
        );
        const failedIds = new Set((out.Failed ?? []).map((f) => f.Id));
        batch = batch.filter((e) => failedIds.has(e.Id));
        if (batch.length > 0 && attempt >= 5)
          throw new Error(`${batch.length} work message(s) not accepted by SQS`);
      }
    }
  }
}
