import type { PriceItem } from '../../shared/pipeline/records.ts';
import type { RiskStore } from './evaluate-account.ts';

/**
 * Prices are shared by every account that holds them: within one sweep segment, fetch each instrument's
 * price once instead of once per account (the largest read cost of a sweep). Scoped to one work
 * message, so a price is at most a segment's run old; the price stream still re-evaluates on every tick.
 * A `fresh` read (the evaluator's re-check after writing bands) always goes to the store: a cached price
 * there would defeat the re-check (a tick during a queued evaluation would go unseen).
 */
export function withPriceCache(store: RiskStore): RiskStore {
  const cache = new Map<string, Promise<PriceItem | undefined>>();
  return {
    getAccount: (id) => store.getAccount(id),
    getPositions: (id) => store.getPositions(id),
    getRiskState: (id) => store.getRiskState(id),
    saveRiskState: (state, expected, history) => store.saveRiskState(state, expected, history),
    clearOutbox: (id, version, published) => store.clearOutbox(id, version, published),
    async getPrices(instruments, options) {
      // The evaluator's re-check after a band write must see a tick that landed during the evaluation.
      if (options?.fresh) return store.getPrices(instruments, options);
      const missing = [...new Set(instruments)].filter((i) => !cache.has(i));
      if (missing.length > 0) {
        // Eventually consistent: the cache is a message's run old anyway, and the re-check reads strongly.
        const fetched = store.getPrices(missing, { eventual: true });
        missing.forEach((i) =>
          cache.set(
            i,
            fetched.then((m) => m.get(i)),
          ),
        );
        // A failed fetch must not poison the cache for the rest of the segment.
        fetched.catch(() => missing.forEach((i) => cache.delete(i)));
      }
      const entries = await Promise.all(instruments.map(async (i) => [i, await cache.get(i)!] as const));
      return new Map(entries.filter((e): e is readonly [string, PriceItem] => e[1] !== undefined));
    },
  };
}
