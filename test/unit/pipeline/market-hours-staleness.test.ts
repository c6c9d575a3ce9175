import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assessAccount } from '../../../shared/pipeline/assess.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../../../shared/pipeline/config.ts';
import { newlyStaleInstruments } from '../../../shared/pipeline/newly-stale.ts';
import { priceItemSchema, sessionOf, type PriceItem } from '../../../shared/pipeline/records.ts';
import type { StoredRiskState } from '../../../shared/pipeline/stored-state.ts';

const account = { accountId: 'A1', model: 'reg-t', cash: '-21000' };
const FRIDAY_CLOSE = '2026-03-06T21:00:00.000Z'; // 16:00 EST

function assess(
  position: Record<string, unknown>,
  price: Partial<PriceItem>,
  now: string,
  previous: StoredRiskState | null = null,
) {
  return assessAccount({
    account,
    positions: [{ accountId: 'A1', instrument: 'SPY', quantity: '100', avgCost: '400', ...position }],
    prices: new Map([['SPY', { instrument: 'SPY', price: '410', priceTime: FRIDAY_CLOSE, ...price }]]),
    previous,
    now: new Date(now),
    config: DEFAULT_PIPELINE_CONFIG,
  });
}

describe('assess: stale in market time', () => {
  it('an equity position on a Friday close: fresh all weekend and at the open, stale from 09:35 without a tick', () => {
    const equity = { assetClass: 'equity' };
    for (const now of ['2026-03-07T15:00:00Z', '2026-03-08T23:00:00Z', '2026-03-09T13:35:00Z']) {
      const a = assess(equity, {}, now);
      expect(a.next.staleInstruments, now).toEqual([]);
      expect(a.next.dataProblem, now).toBeNull();
      expect(a.bands.kind, now).not.toBe('always'); // banded: ticks at the open reach it only if they cross
    }
    const open = assess(equity, {}, '2026-03-09T13:35:01Z'); // 09:35:01 EDT
    expect(open.next.dataProblem).toMatchObject({ kind: 'stale-prices', instruments: ['SPY'] });
    expect(open.next.dataProblem!.message).toBe('prices older than 300s of market time for SPY');
  });

  it('no asset class: the clock always runs, as before (a dead feed is never trusted longer than today)', () => {
    const a = assess({}, {}, '2026-03-06T21:05:01Z');
    expect(a.next.dataProblem).toMatchObject({ kind: 'stale-prices', instruments: ['SPY'] });
    expect(assess({ assetClass: 'crypto' }, {}, '2026-03-06T21:05:01Z').next.staleInstruments).toEqual([
      'SPY',
    ]);
  });

  it("the price item's session overrides the position's class", () => {
    expect(assess({}, { session: 'us-equity' }, '2026-03-07T15:00:00Z').next.staleInstruments).toEqual([]);
    expect(
      assess({ assetClass: 'equity' }, { session: '24x7' }, '2026-03-06T21:05:01Z').next.staleInstruments,
    ).toEqual(['SPY']);
    // A future on Globex: the Friday 16:00 EST print is 15:00 CST, an hour before the CME close.
    expect(assess({ assetClass: 'future' }, {}, '2026-03-06T21:05:01Z').next.staleInstruments).toEqual([
      'SPY',
    ]);
    expect(
      assess({ assetClass: 'future' }, { priceTime: '2026-03-06T22:00:00Z' }, '2026-03-08T12:00:00Z').next
        .staleInstruments,
    ).toEqual([]);
  });

  it('a flagged equity account is resolved by its next tick, and not flagged again overnight', () => {
    const stale = assess(
      { assetClass: 'equity' },
      { priceTime: '2026-03-09T14:00:00Z' },
      '2026-03-09T14:06:00Z',
    );
    expect(stale.next.dataProblem?.kind).toBe('stale-prices');
    const tick = assess(
      { assetClass: 'equity' },
      { priceTime: '2026-03-09T19:59:00Z' }, // 15:59 EDT, a minute before the close
      '2026-03-10T02:00:00Z', // 22:00 EDT
      { ...stale.next, outbox: [] },
    );
    expect(tick.next.dataProblem).toBeNull();
    expect(tick.events.map((e) => (e.detail as { kind?: string }).kind)).toContain('resolved');
  });
});

describe('records: the session of a price', () => {
  it('sessionOf: a known session on the price, else the asset class, else 24x7', () => {
    expect(sessionOf({ session: 'cme-globex' }, { assetClass: 'equity' })).toBe('cme-globex');
    expect(sessionOf({}, { assetClass: 'equity' })).toBe('us-equity');
    expect(sessionOf({}, { assetClass: 'future' })).toBe('cme-globex');
    expect(sessionOf({}, {})).toBe('24x7');
    expect(sessionOf({ session: 'nyse' }, { assetClass: 'equity' })).toBe('us-equity'); // unknown: ignored
  });

  it('the price schema takes an optional, validated session', () => {
    const base = { instrument: 'SPY', price: '1', priceTime: FRIDAY_CLOSE };
    expect(priceItemSchema.parse(base)).toEqual(base);
    expect(priceItemSchema.parse({ ...base, session: 'us-equity' }).session).toBe('us-equity');
    const bad = priceItemSchema.safeParse({ ...base, session: 'nyse' });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.path).toEqual(['session']);
  });
});

describe('newlyStaleInstruments', () => {
  it('at the open: a closing price turns stale staleAfter into the session, a fresh tick not at all', () => {
    const prices = [
      { instrument: 'SPY', priceTime: FRIDAY_CLOSE, session: 'us-equity' },
      { instrument: 'QQQ', priceTime: '2026-03-09T13:31:00.000Z', session: 'us-equity' }, // ticked 09:31
    ];
    const at = (iso: string) => newlyStaleInstruments(prices, new Date(iso), 300_000, 180_000);
    expect(at('2026-03-09T13:30:00Z')).toEqual([]); // the open
    expect(at('2026-03-09T13:35:00Z')).toEqual([]); // 09:35: exactly 300 s
    expect(at('2026-03-09T13:35:01Z')).toEqual(['SPY']);
    expect(at('2026-03-09T13:38:00Z')).toEqual(['QQQ', 'SPY']);
    expect(at('2026-03-09T13:39:00Z')).toEqual(['QQQ']); // SPY has left the window: flagged already
  });

  it('for a price in a session with plenty of time left, the same instruments as the wall-clock rule', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 * 3_600_000 }), // priceTime 09:30–12:30 EDT on Tuesday 2026-03-10
        fc.integer({ min: 0, max: 30 * 60_000 }),
        fc.constantFrom('us-equity', 'cme-globex', '24x7', undefined),
        (offset, age, session) => {
          const t = Date.parse('2026-03-10T13:30:00Z') + offset;
          const now = new Date(t + age);
          const plain = t <= now.getTime() - 300_000 && t > now.getTime() - 300_000 - 180_000;
          const got = newlyStaleInstruments(
            [{ instrument: 'X', priceTime: new Date(t).toISOString(), session }],
            now,
            300_000,
            180_000,
          );
          // The window is half-open the other way round ([from, now) instead of (from, now]).
          if (t + 300_000 !== now.getTime() && t + 300_000 !== now.getTime() - 180_000)
            expect(got.length === 1).toBe(plain);
        },
      ),
      { numRuns: 300 },
    );
  });
});
