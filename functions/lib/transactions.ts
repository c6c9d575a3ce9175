import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';

/**
 * Cancellation reasons that say "try again": the transaction was throttled or lost a race with another
 * transaction on one of its items, and nothing was written. The SDK does not retry
 * `TransactionCanceledException`, so a throttled transaction would otherwise fail its whole message.
 */
const TRANSIENT_REASONS = new Set([
  'ThrottlingError',
  'TransactionConflict',
  'ProvisionedThroughputExceeded',
]);

/** Retry bound and backoff for transient cancellations (full jitter; about 3 s at the most in all). */
export const TRANSACTION_RETRY = { attempts: 8, baseMs: 25, capMs: 1_000 } as const;

export interface RetryTools {
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

const realTools: RetryTools = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

/** True when a cancelled transaction failed only for transient reasons (retrying may succeed). */
export function transientCancellation(e: unknown): boolean {
  if (
    !(e instanceof TransactionCanceledException) &&
    (e as { name?: string }).name !== 'TransactionCanceledException'
  )
    return false;
  const codes = ((e as TransactionCanceledException).CancellationReasons ?? [])
    .map((r) => r.Code ?? 'None')
    .filter((code) => code !== 'None');
  return codes.length > 0 && codes.every((code) => TRANSIENT_REASONS.has(code));
}

/**
 * TransactWriteItems, retried with capped exponential backoff and full jitter while it is cancelled for
 * transient reasons only; a condition that failed (or the last transient failure) is thrown to the caller.
 */
export async function transactWrite(
  doc: Pick<DynamoDBDocumentClient, 'send'>,
  input: TransactWriteCommandInput,
  tools: RetryTools = realTools,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await doc.send(new TransactWriteCommand(input));
      return;
    } catch (e) {
      if (attempt >= TRANSACTION_RETRY.attempts || !transientCancellation(e)) throw e;
      const ceiling = Math.min(TRANSACTION_RETRY.capMs, TRANSACTION_RETRY.baseMs * 2 ** (attempt - 1));
      await tools.sleep(tools.random() * ceiling);
    }
  }
}

/** Items per BatchWriteItem call. Source: DynamoDB API reference, BatchWriteItem (25 requests, 16 MB). */
export const BATCH_WRITE_ITEMS = 25;

/**
 * Puts items with BatchWriteItem, 25 at a time; the items DynamoDB leaves unprocessed (throttling) are
 * sent again with the same capped full-jitter backoff as transactions, and whatever is still unprocessed
 * after the last attempt is an error (the caller's message is retried; nothing is silently dropped).
 */
export async function batchPut(
  doc: Pick<DynamoDBDocumentClient, 'send'>,
  table: string,
  items: readonly Record<string, unknown>[],
  tools: RetryTools = realTools,
): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH_WRITE_ITEMS) {
    let pending = items.slice(i, i + BATCH_WRITE_ITEMS).map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
      if (pending.length === 0) break;
      if (attempt >= TRANSACTION_RETRY.attempts)
        throw new Error(`${pending.length} items still unprocessed after ${attempt} BatchWriteItem calls`);
      const ceiling = Math.min(TRANSACTION_RETRY.capMs, TRANSACTION_RETRY.baseMs * 2 ** (attempt - 1));
      await tools.sleep(tools.random() * ceiling);
    }
  }
}
