import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { positiveDecimal } from '../../shared/schemas/decimal-string.ts';
import { priceItemSchema, valuationPrice, type PriceItem } from '../../shared/pipeline/records.ts';
import { forEachLimit } from '../lib/concurrency.ts';
import { accountMessages } from '../lib/queues.ts';
import { evaluateAccount } from '../lib/evaluate-account.ts';
import { lambdaDeps, withMetrics, type HandlerDeps } from '../lib/runtime.ts';

const positive = (field: 'price' | 'markPrice') => ({
  path: [field],
  error: 'must be a positive decimal string',
});
const validPrice = priceItemSchema
  .refine((p) => positiveDecimal.safeParse(p.price).success, positive('price'))
  .refine(
    (p) => p.markPrice === undefined || positiveDecimal.safeParse(p.markPrice).success,
    positive('markPrice'),
  );

function image(record: DynamoDBRecord, which: 'NewImage' | 'OldImage'): Record<string, unknown> | null {
  const raw = record.dynamodb?.[which];
  return raw ? unmarshall(raw as Record<string, AttributeValue>) : null;
}

function keysOf(record: DynamoDBRecord): Record<string, unknown> | null {
  const raw = record.dynamodb?.Keys;
  return raw ? unmarshall(raw as Record<string, AttributeValue>) : null;
}

/**
 * Price changes → the accounts whose guard band the new price has left (or that have none), found by two
 * range queries on the band index: work grows with the accounts at risk, not with the holders. Every
 * other holder's level and margin-call state provably cannot have changed (shared/bands).
 * A tick older than the stored price is ignored. Small fan-outs are evaluated here, coalesced across
 * the batch; large ones go to the work queue in batches, so one hot instrument cannot time this out.
 */
export function makePriceStreamHandler(deps: () => HandlerDeps) {
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const d = deps();
    const latest = new Map<string, { price: PriceItem; records: string[] }>();
    // A deleted price: no tick will ever reach its holders again, so every holder is evaluated now
    // (and flagged missing-prices), found through the holdings index rather than the band index.
    const removed = new Map<string, string[]>();
    for (const record of event.Records) {
      const seq = record.dynamodb?.SequenceNumber ?? record.eventID ?? '';
      if (record.eventName === 'REMOVE') {
        const instrument = image(record, 'OldImage')?.instrument ?? keysOf(record)?.instrument;
        if (typeof instrument !== 'string' || instrument === '') {
          await d.deadLetter.send('invalid-price-record', record, [
            { field: 'instrument', message: 'missing' },
          ]);
          d.telemetry.count('DeadLettered');
        } else removed.set(instrument, [...(removed.get(instrument) ?? []), seq]);
        continue;
      }
      const parsed = validPrice.safeParse(image(record, 'NewImage'));
      if (!parsed.success) {
        await d.deadLetter.send('invalid-price-record', record, parsed.error.issues);
        d.telemetry.count('DeadLettered');
        continue;
      }
      const old = image(record, 'OldImage');
      if (old && typeof old.priceTime === 'string' && old.priceTime >= parsed.data.priceTime) {
        d.telemetry.count('StaleTicksIgnored');
        continue;
      }
      const current = latest.get(parsed.data.instrument);
      if (!current || current.price.priceTime < parsed.data.priceTime) {
        latest.set(parsed.data.instrument, {
          price: parsed.data,
          records: [...(current?.records ?? []), seq],
        });
      } else current.records.push(seq);
    }

    const accountsToRecords = new Map<string, Set<string>>();
    const failedRecords = new Set<string>();
    const collect = async (instrument: string, records: string[], pages: AsyncIterable<string[]>) => {
      try {
        for await (const page of pages) {
          for (const accountId of page) {
            const set = accountsToRecords.get(accountId) ?? new Set<string>();
            records.forEach((r) => set.add(r));
            accountsToRecords.set(accountId, set);
          }
        }
      } catch (e) {
        d.log.error('fan-out query failed', { instrument, error: (e as Error).message });
        records.forEach((r) => failedRecords.add(r));
      }
    };
    for (const [instrument, { price, records }] of latest)
      await collect(instrument, records, d.bands.crossedAccounts(instrument, valuationPrice(price)));
    for (const [instrument, records] of removed)
      await collect(instrument, records, d.repo.holders(instrument));

    const accounts = [...accountsToRecords.keys()].sort();
    d.telemetry.count('BandCrossings', accounts.length);
    if (accounts.length <= d.env.inlineFanoutLimit) {
      const failures = await forEachLimit(accounts, d.concurrency, async (accountId) => {
        await evaluateAccount(accountId, d);
      });
      for (const f of failures) {
        d.log.error('evaluation failed', { accountId: f.item, error: (f.error as Error).message });
        accountsToRecords.get(f.item)!.forEach((r) => failedRecords.add(r));
      }
    } else {
      const messages = accountMessages(accounts, `prices:${[...latest.keys(), ...removed.keys()].join(',')}`);
      try {
        await d.workQueue.enqueue(messages);
        d.telemetry.count('FanoutEnqueued', accounts.length);
      } catch (e) {
        d.log.error('fan-out enqueue failed', { error: (e as Error).message });
        for (const r of accountsToRecords.values()) r.forEach((id) => failedRecords.add(id));
      }
    }
    return { batchItemFailures: [...failedRecords].map((id) => ({ itemIdentifier: id })) };
  };
}

export const handler = withMetrics(makePriceStreamHandler(lambdaDeps));
