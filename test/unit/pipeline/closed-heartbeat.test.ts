import { describe, expect, it } from 'vitest';
import { assessAccount } from '../../../shared/pipeline/assess.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../../../shared/pipeline/config.ts';
import type { StoredRiskState } from '../../../shared/pipeline/stored-state.ts';

/** The heartbeat refreshes a quiet account's figures: every 4 h while a market it holds is open, once a day while all are closed. */
const account = { accountId: 'A1', model: 'reg-t', cash: '-21000' };
const positions = [{ accountId: 'A1', instrument: 'SPY', quantity: '100', avgCost: '400' }];
const FRIDAY_CLOSE = '2026-03-06T21:00:00.000Z'; // 16:00 in New York

function assess(session: 'us-equity' | '24x7', previous: StoredRiskState | null, now: string) {
  return assessAccount({
    account,
    positions,
    // A price of the moment (fresh: no data problem), the same all along.
    prices: new Map([['SPY', { instrument: 'SPY', price: '410', priceTime: now, session }]]),
    previous,
    now: new Date(now),
    config: DEFAULT_PIPELINE_CONFIG,
  });
}
const hours = (h: number) => new Date(Date.parse(FRIDAY_CLOSE) + h * 3_600_000).toISOString();

describe('the heartbeat while the market is closed', () => {
  it('an equity account written at the close: no heartbeat overnight, one after a day, one at the open', () => {
    const first = assess('us-equity', null, FRIDAY_CLOSE).next;
    const previous = { ...first, outbox: [] };
    expect(DEFAULT_PIPELINE_CONFIG.closedHeartbeatMs).toBe(24 * 3_600_000);
    expect(assess('us-equity', previous, hours(5)).write).toBe(false); // Friday night: closed, 5 h quiet
    expect(assess('us-equity', previous, hours(23.9)).write).toBe(false);
    expect(assess('us-equity', previous, hours(24)).next.version).toBe(previous.version + 1); // Saturday 21:00
    // Monday 15:00 UTC (10:00 in New York), written Sunday: open, and 4 h quiet is enough again.
    const sunday = { ...previous, evaluatedAt: '2026-03-08T21:00:00.000Z' };
    expect(assess('us-equity', sunday, '2026-03-09T15:00:00.000Z').history?.reasons).toEqual(['heartbeat']);
  });

  it('a 24x7 instrument’s market never closes: the 4-hour heartbeat as before', () => {
    const previous = { ...assess('24x7', null, FRIDAY_CLOSE).next, outbox: [] };
    expect(assess('24x7', previous, hours(3.9)).write).toBe(false);
    expect(assess('24x7', previous, hours(4)).history?.reasons).toEqual(['heartbeat']);
  });
});
