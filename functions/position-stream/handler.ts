import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { z } from 'zod';
import { InputError, parseOrThrow } from '../../shared/errors.ts';
import { forEachLimit } from '../lib/concurrency.ts';
import { evaluateAccount } from '../lib/evaluate-account.ts';
import { lambdaDeps, withMetrics, type HandlerDeps } from '../lib/runtime.ts';
import { readImage } from '../lib/stream-images.ts';

/** Positions are keyed by account and instrument, accounts by account alone: both streams come here. */
const positionKeys = z.strictObject({
  accountId: z.string().min(1),
  instrument: z.string().min(1).optional(),
});

/** A record's keys, validated; bad or unreadable keys are an InputError naming them. */
const parseKeys = (record: DynamoDBRecord) =>
  parseOrThrow(positionKeys, readImage(record.dynamodb?.Keys, 'Keys') ?? {}, ['Keys']);

/**
 * Position (or account) changes → recompute each affected account once per batch. A failed account reports all of its
 * records as failures (the stream retries from the earliest); a record without valid keys is dead-lettered.
 */
export function makePositionStreamHandler(deps: () => HandlerDeps) {
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const d = deps();
    const byAccount = new Map<string, string[]>();
    for (const record of event.Records) {
      let keys: ReturnType<typeof parseKeys>;
      try {
        keys = parseKeys(record);
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        await d.deadLetter.send('invalid-position-record', record, e.issues);
        d.telemetry.count('DeadLettered');
        continue;
      }
      const seq = record.dynamodb!.SequenceNumber ?? record.eventID ?? '';
      byAccount.set(keys.accountId, [...(byAccount.get(keys.accountId) ?? []), seq]);
    }
    const failures = await forEachLimit([...byAccount.keys()], d.concurrency, async (accountId) => {
      await evaluateAccount(accountId, d);
    });
    for (const f of failures)
      d.log.error('evaluation failed', { accountId: f.item, error: (f.error as Error).message });
    d.telemetry.count('AccountsCoalesced', event.Records.length - byAccount.size);
    return {
      batchItemFailures: failures.flatMap((f) =>
        byAccount.get(f.item)!.map((id) => ({ itemIdentifier: id })),
      ),
    };
  };
}

export const handler = withMetrics(makePositionStreamHandler(lambdaDeps));
