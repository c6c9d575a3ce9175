import { describe, expect, it } from 'vitest';
import { accountAnalytics } from '../../../shared/console/analytics.ts';

describe('accountAnalytics', () => {
  // SAFE 09:00, WARNING 10:00, CRITICAL 10:30, deleverage 10:31, back to WARNING 10:45, SAFE 11:00; as of 12:00.
  const history = [
    { at: '2026-03-09T10:45:00Z', level: 'WARNING', marginRatio: '1.9' },
    { at: '2026-03-09T09:00:00Z', level: 'SAFE', marginRatio: '2.4' },
    { at: '2026-03-09T10:00:00Z', level: 'WARNING', marginRatio: '1.8' },
    { at: '2026-03-09T10:30:00Z', level: 'CRITICAL', marginRatio: '1.35' },
    { at: '2026-03-09T11:00:00Z', level: 'SAFE', marginRatio: '2.1' },
  ];
  const audit = [
    { at: '2026-03-09T10:00:01Z', action: 'alert', incidentId: 'i1' },
    { at: '2026-03-09T10:31:00Z', action: 'deleverage', incidentId: 'i1' },
    { at: '2026-03-09T11:00:01Z', action: 'resolved', incidentId: 'i1' },
    { at: '2026-03-09T11:30:00Z', action: 'hold', incidentId: undefined },
  ];

  it('adds up time per level up to as-of, counts actions, and measures each deleverage', () => {
    const a = accountAnalytics(history, audit, '2026-03-09T12:00:00Z');
    const min = 60_000;
    expect(a.timeInLevelMs).toEqual({
      SAFE: 60 * min + 60 * min, // 09:00–10:00 and 11:00–12:00
      WARNING: 30 * min + 15 * min, // 10:00–10:30 and 10:45–11:00
      CRITICAL: 15 * min,
      LIQUIDATION: 0,
      UNRATED: 0,
    });
    expect(a.actions).toEqual({ alert: 1, deleverage: 1, resolved: 1, hold: 1 });
    // Before: CRITICAL at 1.35 (10:30); after: the first ratio recorded after 10:31 (1.9 at 10:45).
    expect(a.protection).toEqual([
      {
        at: '2026-03-09T10:31:00Z',
        action: 'deleverage',
        incidentId: 'i1',
        ratioBefore: '1.35',
        ratioAfter: '1.9',
        improvement: '0.55',
      },
    ]);
    expect(a.incidents).toEqual({ total: 1, resolvedWithoutLiquidation: 1, liquidated: 0, open: 0 });
  });

  it('an incident that needed a liquidation is not counted as resolved without one; an open one is open', () => {
    const a = accountAnalytics(
      [],
      [
        { at: '2026-03-09T10:00:00Z', action: 'liquidate', incidentId: 'i1' },
        { at: '2026-03-09T10:05:00Z', action: 'resolved', incidentId: 'i1' },
        { at: '2026-03-09T11:00:00Z', action: 'alert', incidentId: 'i2' },
      ],
      '2026-03-09T12:00:00Z',
    );
    expect(a.incidents).toEqual({ total: 2, resolvedWithoutLiquidation: 0, liquidated: 1, open: 1 });
    expect(a.protection[0]).toMatchObject({ ratioBefore: null, ratioAfter: null, improvement: null });
  });
});
