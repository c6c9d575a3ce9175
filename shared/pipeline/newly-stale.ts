import type { PriceItem } from './records.ts';

/**
 * Instruments whose price turned stale within the last `windowMs`: their holders are evaluated once, so
 * they get flagged (and lose their bands, which puts them on the watch list). Instruments stale for longer
 * have been flagged already; the window overlaps the schedule, so a delayed run misses none (an account
 * evaluated twice costs a read, nothing more), and the full sweep backs up a run that failed outright.
 */
export function newlyStaleInstruments(
  prices: Iterable<Pick<PriceItem, 'instrument' | 'priceTime'>>,
  now: Date,
  staleAfterMs: number,
  windowMs: number,
): string[] {
  const staleSince = now.getTime() - staleAfterMs;
  const out: string[] = [];
  for (const { instrument, priceTime } of prices) {
    const at = Date.parse(priceTime);
    if (at <= staleSince && at > staleSince - windowMs) out.push(instrument);
  }
  return out.sort();
}
