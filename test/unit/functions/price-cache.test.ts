import { describe, expect, it } from 'vitest';
import type { RiskStore } from '../../../functions/lib/evaluate-account.ts';
import { withPriceCache } from '../../../functions/lib/price-cache.ts';

describe('withPriceCache', () => {
  it('fetches each instrument once, however many accounts ask, concurrently or not', async () => {
    const asked: string[][] = [];
    const options: unknown[] = [];
    let fail = false;
    const store = {
      getPrices: async (instruments: readonly string[], o?: unknown) => {
        asked.push([...instruments]);
        options.push(o);
        if (fail) throw new Error('throttled');
        return new Map(
          instruments
            .filter((i) => i !== 'GONE')
            .map((i) => [i, { instrument: i, price: '1', priceTime: '2026-01-01T00:00:00Z' }]),
        );
      },
    } as unknown as RiskStore;
    const cached = withPriceCache(store);
    await Promise.all([cached.getPrices(['A', 'B']), cached.getPrices(['B', 'A']), cached.getPrices(['A'])]);
    const third = await cached.getPrices(['A', 'C', 'GONE']);
    expect(asked).toEqual([
      ['A', 'B'],
      ['C', 'GONE'],
    ]);
    expect([...third.keys()]).toEqual(['A', 'C']); // a missing price stays missing
    // Shared reads may be eventually consistent (the re-check is strong); a fresh read goes through as asked.
    expect(options).toEqual([{ eventual: true }, { eventual: true }]);
    await cached.getPrices(['A'], { fresh: true });
    expect(options.at(-1)).toEqual({ fresh: true });
    fail = true;
    await expect(cached.getPrices(['D'])).rejects.toThrow('throttled');
    fail = false;
    expect([...(await cached.getPrices(['D'])).keys()]).toEqual(['D']); // retried, not poisoned
  });
});

describe('work-queue handler', () => {
  it('reads each price once per sweep segment, not once per account', async () => {
    const { MemoryStore, memoryHandlerDeps } = await import('../../../bench/memory-store.ts');
    const { makeWorkQueueHandler } = await import('../../../functions/work-queue/handler.ts');
    const store = new MemoryStore();
    for (let a = 0; a < 30; a++) {
      store.accounts.set(`A${a}`, { accountId: `A${a}`, model: 'reg-t', cash: '-1000' });
      store.positions.set(`A${a}`, [
        { accountId: `A${a}`, instrument: 'SPY', quantity: '10', avgCost: '400' },
        { accountId: `A${a}`, instrument: 'QQQ', quantity: '5', avgCost: '300' },
      ]);
    }
    store.prices.set('SPY', { instrument: 'SPY', price: '410', priceTime: new Date().toISOString() });
    store.prices.set('QQQ', { instrument: 'QQQ', price: '310', priceTime: new Date().toISOString() });
    let priceReads = 0;
    const getPrices = store.getPrices.bind(store);
    store.getPrices = async (instruments) => {
      priceReads += 1;
      return getPrices(instruments);
    };
    const deps = memoryHandlerDeps(store, { sweepSegments: 1, concurrency: 1 });
    const out = await makeWorkQueueHandler(() => deps as never)({
      Records: [
        {
          messageId: 'm',
          body: JSON.stringify({ kind: 'segment', segment: 0, totalSegments: 1, sweepId: 's' }),
        },
      ],
    } as never);
    expect(out.batchItemFailures).toEqual([]);
    expect(store.writes).toBe(30);
    // Once through the segment's cache, and once past it for the page's re-check after its band writes
    // (a tick during the evaluations must be seen there): per page, not per account.
    expect(priceReads).toBe(2);
  });
});
