import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { InputError, safeParseFields } from '../../shared/errors.ts';
import { validPriceItemSchema, valuationPrice, type PriceItem } from '../../shared/pipeline/records.ts';
import { forEachLimit } from '../lib/concurrency.ts';
import { readImage } from '../lib/stream-images.ts';
import { accountMessages, coalescedMessages } from '../lib/queues.ts';
import { Decimal } from '../../shared/decimal.ts';
import { evaluateBatch } from '../lib/evaluate-batch.ts';
import { lambdaDeps, withMetrics, type HandlerDeps } from '../lib/runtime.ts';

/** An image, or null when it is absent or unreadable (see readImage): the caller names what is missing. */
function image(
  record: DynamoDBRecord,
  which: 'NewImage' | 'OldImage' | 'Keys',
): Record<string, unknown> | null {
  try {
    return readImage(record.dynamodb?.[which], which);
  } catch (e) {
    if (e instanceof InputError) return null;
    throw e;
  }
}

/** One instrument's ticks in a batch: the last price (the stored one), the range covered, the records. */
interface InstrumentTicks {
  price: PriceItem;
  lowest: Decimal;
  highest: Decimal;
  records: string[];
}

/**
 * Price changes → the accounts whose guard band the new price has left (or that have none), found by
 * range queries on the buckets of the band index the price moved across, in parallel: work grows with
 * the accounts at risk, not with the holders. Every other holder's level and margin-call state provably
 * cannot have changed (shared/bands). Ticks of one instrument in a batch are conflated to the last one,
 * the range they covered still searched. Small fan-outs are evaluated here; large ones go to the work
 * queue in batches, carrying the ticks, so an account a crash wave finds on several ticks is evaluated
 * once. Unbanded accounts (found by every tick) go through the coalescing queue: about once a second.
 */
export function makePriceStreamHandler(deps: () => HandlerDeps) {
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const d = deps();
    const latest = new Map<string, InstrumentTicks>();
    // A deleted price: no tick will ever reach its holders again, so every holder is evaluated now
    // (and flagged missing-prices), found through the holdings index rather than the band index.
    const removed = new Map<string, string[]>();
    for (const record of event.Records) {
      const seq = record.dynamodb?.SequenceNumber ?? record.eventID ?? '';
      if (record.eventName === 'REMOVE') {
        const instrument = image(record, 'OldImage')?.instrument ?? image(record, 'Keys')?.instrument;
        if (typeof instrument !== 'string' || instrument === '') {
          await d.deadLetter.send('invalid-price-record', record, [
            { field: 'instrument', message: 'missing' },
          ]);
          d.telemetry.count('DeadLettered');
        } else {
          removed.set(instrument, [
            ...(removed.get(instrument) ?? []),
            ...(latest.get(instrument)?.records ?? []),
            seq,
          ]);
          latest.delete(instrument);
        }
        continue;
      }
      let newImage: Record<string, unknown> | null;
      try {
        newImage = readImage(record.dynamodb?.NewImage, 'NewImage');
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        await d.deadLetter.send('invalid-price-record', record, e.issues);
        d.telemetry.count('DeadLettered');
        continue;
      }
      const parsed = safeParseFields(validPriceItemSchema, newImage);
      if (!parsed.success) {
        await d.deadLetter.send('invalid-price-record', record, parsed.error.issues);
        d.telemetry.count('DeadLettered');
        continue;
      }
      const old = validPriceItemSchema.safeParse(image(record, 'OldImage'));
      if (old.success && old.data.priceTime >= parsed.data.priceTime) {
        d.telemetry.count('StaleTicksIgnored');
        continue;
      }
      // Stream records of one item arrive in write order: the last one is the stored price. Every price
      // the instrument had since the previous batch bounds the range whose bands may have been crossed.
      const now = new Decimal(valuationPrice(parsed.data));
      const was = old.success ? new Decimal(valuationPrice(old.data)) : now;
      const current = latest.get(parsed.data.instrument);
      latest.set(parsed.data.instrument, {
        price: parsed.data,
        lowest: Decimal.min(now, was, current?.lowest ?? now),
        highest: Decimal.max(now, was, current?.highest ?? now),
        records: [...(current?.records ?? []), seq],
      });
    }

    const accountsToRecords = new Map<string, Set<string>>();
    const unbanded = new Set<string>();
    const failedRecords = new Set<string>();
    const ticks: Record<string, string> = {};
    const add = (accountId: string, records: readonly string[]) => {
      const set = accountsToRecords.get(accountId) ?? new Set<string>();
      records.forEach((r) => set.add(r));
      accountsToRecords.set(accountId, set);
    };
    const holdersOf = async (instrument: string, records: readonly string[]) => {
      for await (const page of d.repo.holders(instrument)) page.forEach((id) => add(id, records));
    };
    await forEachLimit([...latest], 8, async ([instrument, tick]) => {
      try {
        const found = await d.bands.crossedAccounts({
          instrument,
          price: valuationPrice(tick.price),
          lowest: tick.lowest,
          highest: tick.highest,
        });
        if (found === null) {
          d.telemetry.count('TickFannedOutToHolders');
          await holdersOf(instrument, tick.records);
        } else {
          for (const id of found.bounded) add(id, tick.records);
          for (const id of found.unbanded) unbanded.add(id);
        }
        ticks[instrument] = tick.price.priceTime;
      } catch (e) {
        d.log.error('fan-out query failed', { instrument, error: (e as Error).message });
        tick.records.forEach((r) => failedRecords.add(r));
      }
    });
    for (const [instrument, records] of removed) {
      try {
        await holdersOf(instrument, records);
      } catch (e) {
        d.log.error('fan-out query failed', { instrument, error: (e as Error).message });
        records.forEach((r) => failedRecords.add(r));
      }
    }
    // An unbanded account that a band crossing also found is evaluated with the crossed ones.
    for (const id of accountsToRecords.keys()) unbanded.delete(id);

    const accounts = [...accountsToRecords.keys()].sort();
    d.telemetry.count('BandCrossings', accounts.length);
    d.telemetry.count('UnbandedFound', unbanded.size);
    const sortedTicks = Object.fromEntries(Object.entries(ticks).sort());
    const reason = `prices:${[...latest.keys(), ...removed.keys()].join(',')}`;
    try {
      if (unbanded.size > 0) await d.workQueue.enqueue(coalescedMessages([...unbanded].sort(), reason));
    } catch (e) {
      d.log.error('coalesced enqueue failed', { error: (e as Error).message });
      for (const { records } of latest.values()) records.forEach((id) => failedRecords.add(id));
    }
    if (accounts.length <= d.env.inlineFanoutLimit) {
      const { failures } = await evaluateBatch(accounts, d, {
        concurrency: d.concurrency,
        ...(removed.size > 0 ? {} : { ticks: sortedTicks }),
      });
      for (const f of failures) {
        d.log.error('evaluation failed', { accountId: f.item, error: (f.error as Error).message });
        accountsToRecords.get(f.item)!.forEach((r) => failedRecords.add(r));
      }
    } else {
      const messages = accountMessages(accounts, reason, removed.size > 0 ? undefined : sortedTicks);
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
