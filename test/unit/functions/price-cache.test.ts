import { describe, expect, it } from 'vitest';
import type { RiskStore } from '../../../functions/lib/evaluate-account.ts';
import { withPriceCache } from '../../../functions/lib/price-cache.ts';

describe('withPriceCache', () => {
  it('fetches each instrument once, however many accounts ask, concurrently or not', async () => {
    const asked: string[][] = [];
    let fail = false;
    const store = {
      getPrices: async (instruments: readonly string[]) => {
        asked.push([...instruments]);
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
    fail = true;
    await expect(cached.getPrices(['D'])).rejects.toThrow('throttled');
    fail = false;
    expect([...(await cached.getPrices(['D'])).keys()]).toEqual(['D']); // retried, not poisoned
  });
});
