import { describe, expect, it } from 'vitest';
import type { HandlerDeps } from '../../../functions/lib/runtime.ts';
import { Tally } from '../../../functions/lib/telemetry.ts';
import { makeWatchHandler } from '../../../functions/watch/handler.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../../../shared/pipeline/config.ts';
import type { PriceItem } from '../../../shared/pipeline/records.ts';
import { CapturedWorkQueue } from '../../helpers/capture.ts';

const MINUTE = 60_000;
const WINDOW = 3 * MINUTE; // the deployed default: three one-minute periods

/** The watch handler over in-memory prices, holders and an empty watch list. */
function watchOver(prices: PriceItem[], holders: Record<string, string[]>) {
  let now = new Date(0);
  const workQueue = new CapturedWorkQueue();
  const d = {
    repo: {
      async *scanPrices() {
        yield prices;
      },
      async *holders(instrument: string) {
        yield holders[instrument] ?? [];
      },
    },
    bands: {
      async *watchedAccounts() {
        yield [];
      },
    },
    workQueue,
    config: DEFAULT_PIPELINE_CONFIG,
    telemetry: new Tally(),
    now: () => now,
  } as unknown as HandlerDeps;
  const watch = makeWatchHandler(() => d, WINDOW);
  /** Runs the watch once a minute over [from, to]; the holders each run enqueued, by run time. */
  return async (from: string, to: string) => {
    const enqueued = new Map<string, string[]>();
    for (let t = Date.parse(from); t <= Date.parse(to); t += MINUTE) {
      now = new Date(t);
      await watch({ id: `w${t}`, time: now.toISOString() });
      const ids = workQueue.drain().flatMap((m) => (m.kind === 'accounts' ? m.accountIds : []));
      if (ids.length > 0) enqueued.set(now.toISOString(), ids);
    }
    return enqueued;
  };
}

const holders = Object.fromEntries(
  ['SPY', 'AAPL', 'BTC', 'ES'].map((i) => [i, Array.from({ length: 1_000 }, (_, k) => `${i}-${k}`)]),
);

describe('the watch sweep over a weekend and the open (staleAfter 300 s)', () => {
  it('enqueues the holders of a closing price only staleAfter into the next session, and not if a tick came', async () => {
    const run = watchOver(
      [
        // Friday 2026-03-06 16:00 EST close, never ticks again before Monday 09:35 EDT.
        { instrument: 'SPY', price: '500', priceTime: '2026-03-06T21:00:00.000Z', session: 'us-equity' },
        // Ticked at Monday 09:30:20 EDT (13:30:20Z), then nothing: stale in session, 09:35:20.
        { instrument: 'AAPL', price: '200', priceTime: '2026-03-09T13:30:20.000Z', session: 'us-equity' },
        // Crypto: the last tick Saturday 12:00Z, so it turned stale at 12:05Z on the wall clock.
        { instrument: 'BTC', price: '60000', priceTime: '2026-03-07T12:00:00.000Z', session: '24x7' },
        // Globex: Friday 16:00 CST close (22:00Z) → Sunday 17:05 CDT (22:05Z).
        { instrument: 'ES', price: '5000', priceTime: '2026-03-06T22:00:00.000Z', session: 'cme-globex' },
      ],
      holders,
    );
    // Friday 16:00 EST to Monday 09:45 EDT, every minute: 3,946 runs.
    const enqueued = await run('2026-03-06T21:00:00.000Z', '2026-03-09T13:45:00.000Z');
    const byRun = [...enqueued].map(([at, ids]) => [at, [...new Set(ids.map((id) => id.split('-')[0]))]]);
    expect(byRun).toEqual([
      // BTC, three runs (the window overlaps the schedule: a late run misses nothing).
      ['2026-03-07T12:06:00.000Z', ['BTC']],
      ['2026-03-07T12:07:00.000Z', ['BTC']],
      ['2026-03-07T12:08:00.000Z', ['BTC']],
      ['2026-03-08T22:06:00.000Z', ['ES']],
      ['2026-03-08T22:07:00.000Z', ['ES']],
      ['2026-03-08T22:08:00.000Z', ['ES']],
      // Nothing at the close, the weekend or the open (13:30Z); SPY from 09:36, AAPL from 09:36 too.
      ['2026-03-09T13:36:00.000Z', ['AAPL', 'SPY']],
      ['2026-03-09T13:37:00.000Z', ['AAPL', 'SPY']],
      ['2026-03-09T13:38:00.000Z', ['AAPL', 'SPY']],
    ]);
    expect(enqueued.get('2026-03-09T13:36:00.000Z')).toHaveLength(2_000);
  });

  it('a closing price that ticks in the first minutes of the session enqueues nobody', async () => {
    const run = watchOver(
      [{ instrument: 'SPY', price: '501', priceTime: '2026-03-09T13:34:00.000Z', session: 'us-equity' }],
      holders,
    );
    // The tick at 09:34 keeps SPY fresh to 09:39: nothing in the 09:30–09:38 runs.
    expect([...(await run('2026-03-09T13:29:00.000Z', '2026-03-09T13:38:00.000Z')).keys()]).toEqual([]);
  });

  it('a price that names no session is newly stale in any session a holder may follow (none is missed)', async () => {
    const run = watchOver(
      [{ instrument: 'SPY', price: '500', priceTime: '2026-03-06T21:00:00.000Z' }],
      holders,
    );
    const runs = [...(await run('2026-03-06T21:00:00.000Z', '2026-03-09T13:45:00.000Z')).keys()];
    expect(runs).toEqual([
      // 24x7 (holders with no asset class) and cme-globex (16:00 EST is 15:00 CST, in session) at Friday
      // 16:05 EST; their equity co-holders are evaluated then and found fresh. us-equity: Monday 09:35 EDT.
      '2026-03-06T21:06:00.000Z',
      '2026-03-06T21:07:00.000Z',
      '2026-03-06T21:08:00.000Z',
      '2026-03-09T13:36:00.000Z',
      '2026-03-09T13:37:00.000Z',
      '2026-03-09T13:38:00.000Z',
    ]);
  });
});
