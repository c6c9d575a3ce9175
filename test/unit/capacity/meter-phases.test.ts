import { describe, expect, it } from 'vitest';
import { Meter } from '../../../bench/capacity/meter.ts';
import { MemoryBands, MemoryStore, memoryHandlerDeps } from '../../../bench/memory-store.ts';
import { evaluateAccount } from '../../../functions/lib/evaluate-account.ts';

/** The capacity model tells the state phase's reads from the re-check's, which come after the band writes. */
describe('metered phases', () => {
  it('an evaluation’s own price read is before the bands; the re-check’s fresh read is after them', async () => {
    const meter = new Meter();
    const store = new MemoryStore(meter);
    const bands = new MemoryBands(8, meter);
    store.accounts.set('A', { accountId: 'A', model: 'reg-t', cash: '-15000' } as never);
    store.positions.set('A', [
      { accountId: 'A', instrument: 'SPY', quantity: '100', avgCost: '400' },
    ] as never);
    store.prices.set('SPY', { instrument: 'SPY', price: '400', priceTime: new Date().toISOString() });
    meter.take();
    await evaluateAccount('A', memoryHandlerDeps(store, { sweepSegments: 1, concurrency: 1 }, bands));
    const prices = meter.take().filter((c) => c.resource === 'Prices');
    expect(prices.map((c) => c.afterBands ?? false)).toEqual([false, true]);
  });
});
