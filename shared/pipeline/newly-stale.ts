import { isTradingSession, staleSince, TRADING_SESSIONS, type TradingSession } from '../market-hours.ts';
import type { PriceItem } from './records.ts';

/**
 * Instruments whose price turned stale within the last `windowMs` (`now − windowMs ≤ staleSince < now`,
 * staleSince in the price's trading session: shared/market-hours.ts): their holders are evaluated once, so
 * they get flagged (and lose their bands, which puts them on the watch list). Instruments stale for longer
 * have been flagged already; the window overlaps the schedule, so a delayed run misses none (an account
 * evaluated twice costs a read, nothing more), and the full sweep backs up a run that failed outright.
 *
 * At an open, a closing price turns stale only `staleAfterMs` after the open, and only if no tick came:
 * the open is not a fan-out. A price without a `session` (or with one this does not know) may be held
 * under any session — each holder's position decides by its asset class (records.ts `sessionOf`) — so
 * it counts as newly stale when it turns stale in any of them: no holder is missed, at the cost of
 * evaluating the other holders once (they are found fresh: no write, no event).
 */
export function newlyStaleInstruments(
  prices: Iterable<Pick<PriceItem, 'instrument' | 'priceTime'> & { session?: unknown }>,
  now: Date,
  staleAfterMs: number,
  windowMs: number,
): string[] {
  const until = now.getTime();
  const from = until - windowMs;
  const out: string[] = [];
  for (const { instrument, priceTime, session } of prices) {
    const at = Date.parse(priceTime);
    // Fresh by the plain rule is fresh in every session (staleSince ≥ priceTime + staleAfter).
    if (!(until - at > staleAfterMs)) continue;
    const sessions: readonly TradingSession[] = isTradingSession(session) ? [session] : TRADING_SESSIONS;
    if (
      sessions.some((s) => {
        const since = staleSince(at, s, staleAfterMs).getTime();
        return since >= from && since < until;
      })
    )
      out.push(instrument);
  }
  return out.sort();
}
