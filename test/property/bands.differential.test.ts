import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateAccount } from '../../functions/lib/evaluate-account.ts';
import type { HandlerDeps } from '../../functions/lib/runtime.ts';
import { makePriceStreamHandler } from '../../functions/price-stream/handler.ts';
import { MemoryBands, MemoryStore, memoryHandlerDeps } from '../../bench/memory-store.ts';
import { Decimal } from '../../shared/decimal.ts';
import type { DomainEvent } from '../../shared/events/schemas.ts';
import type { AccountItem, PositionItem } from '../../shared/pipeline/records.ts';
import { BAND_MODELS, bookArb, type RawBook } from '../helpers/band-books.ts';
import { CapturedPublisher, CapturedWorkQueue } from '../helpers/capture.ts';
import { scaled } from '../helpers/scale.ts';
import { makeWorkQueueHandler } from '../../functions/work-queue/handler.ts';

const INSTRUMENTS = 9;
/** The last instrument has no price until the path first ticks it: its holders cannot be banded till then. */
const UNPRICED = INSTRUMENTS - 1;

/** One world: an in-memory store, the band index, the evaluator and what it published. */
function world(books: RawBook[], prices: string[], bands: boolean) {
  const store = new MemoryStore();
  const index = new MemoryBands();
  const publisher = new CapturedPublisher();
  let now = new Date('2026-01-05T14:30:00.000Z');
  books.forEach((b, n) => {
    const accountId = `A${n}`;
    const { id: _, ...account } = b.account;
    store.accounts.set(accountId, { ...account, accountId } as AccountItem);
    store.positions.set(
      accountId,
      b.positions.map(({ price: __, ...p }) => ({ ...p, accountId }) as PositionItem),
    );
  });
  const setPrice = (k: number, price: string) =>
    store.prices.set(`I${k}`, { instrument: `I${k}`, price, priceTime: now.toISOString() });
  prices.forEach((p, k) => k !== UNPRICED && setPrice(k, p));
  const queue = new CapturedWorkQueue();
  const deps: HandlerDeps = {
    ...memoryHandlerDeps(store, { sweepSegments: 1, concurrency: 1 }, index),
    publisher,
    workQueue: queue,
    env: { sweepSegments: 1, inlineFanoutLimit: 1_000_000 },
    now: () => now,
  };
  const priceHandler = makePriceStreamHandler(() => deps);
  const workHandler = makeWorkQueueHandler(() => deps);
  return {
    publisher,
    evaluations: () => store.evaluations,
    async start() {
      for (const id of store.accounts.keys()) await evaluateAccount(id, deps);
    },
    async tick(moves: [number, string][]) {
      now = new Date(now.getTime() + 1_000);
      const records: DynamoDBRecord[] = moves.map(([k, price], i) => {
        const old = store.prices.get(`I${k}`);
        setPrice(k, price);
        return {
          eventID: `${now.getTime()}-${i}`,
          eventName: old ? 'MODIFY' : 'INSERT',
          dynamodb: {
            SequenceNumber: `${now.getTime()}${i}`,
            NewImage: marshall(store.prices.get(`I${k}`)!),
            ...(old ? { OldImage: marshall(old) } : {}),
          },
        } as unknown as DynamoDBRecord;
      });
      if (bands) {
        const out = await priceHandler({ Records: records });
        expect(out.batchItemFailures).toEqual([]);
        // Unbanded holders go through the (coalescing) work queue, as deployed.
        const drained = await workHandler({
          Records: queue.drain().map((m, i) => ({ messageId: `m${i}`, body: JSON.stringify(m) })),
        } as never);
        expect(drained.batchItemFailures).toEqual([]);
      } else {
        for (const id of store.accounts.keys()) await evaluateAccount(id, deps);
      }
    },
  };
}

/**
 * Events as consumers see them, by tick and account (within a tick the two paths visit accounts in
 * different orders; each account's own sequence is kept). A resolved call's worst ratio depends on how
 * often the call was sampled, so it is left out.
 */
function comparable(events: DomainEvent[]): Record<string, unknown>[] {
  const key = (e: Record<string, unknown>) => `${String(e.occurredAt)} ${String(e.accountId)}`;
  return events
    .map((e) => {
      const { worstRatio: _, ...detail } = e.detail as Record<string, unknown>;
      return { type: e.detailType, ...detail };
    })
    .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

const bookOf = (model: (typeof BAND_MODELS)[number]) =>
  fc.tuple(bookArb(model, 5), fc.integer({ min: 0, max: INSTRUMENTS - 1 })).map(([b, offset]) => {
    const renamed = (name: string) => `I${(Number(name.slice(1)) + offset) % INSTRUMENTS}`;
    const params = b.account.params as Record<string, unknown>;
    // A tiered account's per-instrument table follows its instrument's new name.
    const tables = params.instrumentTiers as Record<string, unknown> | undefined;
    return {
      ...b,
      account: {
        ...b.account,
        params: tables
          ? {
              ...params,
              instrumentTiers: Object.fromEntries(Object.entries(tables).map(([k, t]) => [renamed(k), t])),
            }
          : params,
      } as RawBook['account'],
      positions: b.positions.map((p) => ({ ...p, instrument: renamed(p.instrument as string) })),
    };
  });

// A market path: each tick moves one to three instruments by −12%…+12%, in basis points of the price.
const pathArb = fc.array(
  fc.array(fc.tuple(fc.integer({ min: 0, max: INSTRUMENTS - 1 }), fc.integer({ min: -1200, max: 1200 })), {
    minLength: 1,
    maxLength: 3,
  }),
  { minLength: 10, maxLength: 40 },
);

/** Random worlds compared: 20 under `npm test`, 60 under `npm run test:full`. */
const RUNS = scaled(20, 60);

describe('guard bands (differential): the band path publishes exactly what brute force publishes', () => {
  it('random books of every model on random multi-instrument price paths', async () => {
    let levelEvents = 0;
    let bandEvaluations = 0;
    let bruteEvaluations = 0;
    let unbandedBefore = 0;
    const models = new Set<unknown>();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(...BAND_MODELS.map(bookOf)), { minLength: 4, maxLength: 12 }),
        fc.array(fc.integer({ min: 200, max: 50_000 }), { minLength: INSTRUMENTS, maxLength: INSTRUMENTS }),
        pathArb,
        async (rawBooks, startCents, path) => {
          for (const b of rawBooks) models.add(b.account.model);
          // Duplicate instruments inside one book are invalid input: keep the first of each.
          const books = rawBooks.map((b) => ({
            ...b,
            positions: b.positions.filter(
              (p, i, all) => all.findIndex((q) => q.instrument === p.instrument) === i,
            ),
          }));
          const prices = startCents.map((c) => new Decimal(c).dividedBy(100));
          const start = prices.map((p) => p.toFixed());
          const brute = world(books, start, false);
          const banded = world(books, start, true);
          await brute.start();
          await banded.start();
          for (const tick of path) {
            const moves = new Map<number, string>();
            for (const [k, bp] of tick) {
              prices[k] = prices[k]!.times(new Decimal(10_000 + bp).dividedBy(10_000)).toDecimalPlaces(4);
              moves.set(k, prices[k]!.toFixed());
            }
            await brute.tick([...moves]);
            await banded.tick([...moves]);
          }
          const expected = comparable(brute.publisher.events);
          unbandedBefore += expected.filter(
            (e) => e.type === 'RiskDataProblem' && e.kind === 'missing-prices',
          ).length;
          expect(comparable(banded.publisher.events)).toEqual(expected);
          levelEvents += expected.filter((e) => e.type !== 'RiskDataProblem').length;
          bandEvaluations += banded.evaluations();
          bruteEvaluations += brute.evaluations();
        },
      ),
      {
        numRuns: RUNS,
        endOnFailure: true,
        ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}),
      },
    );
    // The comparison was about something: books of every model, events (more than 5 per 6 worlds)
    // happened, and the band path did less work.
    expect([...models].sort()).toEqual([...BAND_MODELS].sort());
    console.log(
      `bands differential: ${RUNS} worlds, ${levelEvents} level events, ${unbandedBefore} unbanded, ${bandEvaluations}/${bruteEvaluations} evaluations`,
    );
    expect(levelEvents).toBeGreaterThan((50 * RUNS) / 60);
    expect(unbandedBefore).toBeGreaterThan(0); // accounts waiting for a first price were in the comparison
    expect(bandEvaluations).toBeLessThan(bruteEvaluations / 2);
  }, 120_000);
});
