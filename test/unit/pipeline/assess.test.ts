import { describe, expect, it } from 'vitest';
import { assessAccount, type AssessmentInput } from '../../../shared/pipeline/assess.ts';
import { DEFAULT_PIPELINE_CONFIG } from '../../../shared/pipeline/config.ts';
import type { PriceItem } from '../../../shared/pipeline/records.ts';
import type { StoredRiskState } from '../../../shared/pipeline/stored-state.ts';

const T0 = new Date('2026-03-02T15:00:00.000Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);
const account = { accountId: 'A1', model: 'reg-t', cash: '-21000' };
const positions = [{ accountId: 'A1', instrument: 'SPY', quantity: '100', avgCost: '400' }];
const price = (p: string, at: Date = T0): Map<string, PriceItem> =>
  new Map([['SPY', { instrument: 'SPY', price: p, priceTime: at.toISOString() }]]);

function step(
  previous: StoredRiskState | null,
  p: string,
  now: Date,
  priceAt: Date = now,
  extra: Partial<AssessmentInput> = {},
) {
  return assessAccount({
    account,
    positions,
    prices: price(p, priceAt),
    previous,
    now,
    config: DEFAULT_PIPELINE_CONFIG,
    ...extra,
  });
}

describe('assessAccount', () => {
  it('first evaluation: writes state and history, emits the first level', () => {
    const a = step(null, '410', T0);
    // Equity 41,000 − 21,000 = 20,000, maintenance 10,250: ratio 1.9512 → WARNING.
    expect(a.write).toBe(true);
    expect(a.next).toMatchObject({
      version: 1,
      level: 'WARNING',
      equity: '20000',
      maintenanceRequirement: '10250',
    });
    expect(a.history).toMatchObject({
      reasons: ['first', 'level-change', 'restriction-change'],
      level: 'WARNING',
    });
    expect(a.history!.expiresAt).toBe(Math.floor(T0.getTime() / 1000) + 90 * 86_400);
    // WARNING gates withdrawals (the default restriction policy).
    expect(a.events.map((e) => e.detailType)).toEqual(['RiskLevelChanged', 'TradingRestrictionChanged']);
    expect(a.events[1]!.detail).toMatchObject({
      from: 'none',
      to: 'withdrawals-gated',
      level: 'WARNING',
      inMarginCall: false,
      allows: { newRisk: true, partialReduce: true, withdrawals: false },
    });
    expect(a.next.restriction).toBe('withdrawals-gated');
    expect(a.next.outbox).toEqual(a.events);
  });

  it('skips the write when nothing material changed, then writes on the heartbeat', () => {
    const first = step(null, '410', T0);
    const quiet = step({ ...first.next, outbox: [] }, '410.5', minutes(1));
    expect(quiet.write).toBe(false);
    expect(quiet.history).toBeNull();
    expect(quiet.events).toEqual([]);
    expect(quiet.next.version).toBe(1);
    const heartbeat = step({ ...first.next, outbox: [] }, '410.5', minutes(240));
    expect(heartbeat.write).toBe(true);
    expect(heartbeat.history!.reasons).toEqual(['heartbeat']);
  });

  it('writes on a ratio move beyond the delta', () => {
    const first = step(null, '410', T0);
    // 425: 21,500 / 10,625 = 2.0235, up 0.072 from 1.9512; above 2.0 but not past 2.05, so still WARNING.
    const moved = step({ ...first.next, outbox: [] }, '425', minutes(1));
    expect(moved.history!.reasons).toEqual(['ratio-move']);
    expect(moved.next.level).toBe('WARNING');
    // 415: 20,500 / 10,375 = 1.9759, up only 0.025: no write.
    expect(step({ ...first.next, outbox: [] }, '415', minutes(1)).write).toBe(false);
  });

  it('emits a margin call once, with the shortfall', () => {
    const first = step(null, '410', T0);
    const call = step({ ...first.next, outbox: [] }, '260', minutes(1)); // 26,000 − 21,000 = 5,000 vs 6,500
    const detail = call.events.find((e) => e.detailType === 'MarginCallTriggered')!.detail as {
      shortfall: string;
    };
    expect(detail.shortfall).toBe('1500');
    const again = step({ ...call.next, outbox: [] }, '259', minutes(2));
    expect(again.events.filter((e) => e.detailType === 'MarginCallTriggered')).toEqual([]);
  });

  it('flags stale prices as a data problem, never silently', () => {
    const a = step(null, '410', minutes(10), T0); // price 10 minutes old, limit 5
    expect(a.next.staleInstruments).toEqual(['SPY']);
    expect(a.next.dataProblem).toMatchObject({ kind: 'stale-prices', instruments: ['SPY'] });
    expect(a.events.map((e) => e.detailType)).toContain('RiskDataProblem');
    const fresh = step({ ...a.next, outbox: [] }, '410', minutes(11));
    expect(
      fresh.events.map((e) => e.detailType === 'RiskDataProblem' && (e.detail as { kind: string }).kind),
    ).toContain('resolved');
  });

  it('missing price: no evaluation, a data problem event, the level kept', () => {
    const first = step(null, '410', T0);
    const a = assessAccount({
      account,
      positions,
      prices: new Map(),
      previous: { ...first.next, outbox: [] },
      now: minutes(1),
      config: DEFAULT_PIPELINE_CONFIG,
    });
    expect(a.next.level).toBe('WARNING');
    expect(a.next.dataProblem).toMatchObject({ kind: 'missing-prices', instruments: ['SPY'] });
    expect(a.write).toBe(true);
  });

  it('invalid stored data: reported for the dead-letter queue, naming the field', () => {
    const a = step(null, '410', T0, T0, {
      positions: [{ accountId: 'A1', instrument: 'SPY', quantity: 'lots' }],
    });
    expect(a.invalid!.message).toBe('positions[0].quantity: not a decimal number: "lots"');
    expect(a.next.dataProblem!.kind).toBe('invalid-data');
  });

  it('keeps unpublished events in the outbox', () => {
    const first = step(null, '410', T0);
    const next = step(first.next, '260', minutes(1));
    expect(next.next.outbox.length).toBe(first.events.length + next.events.length);
  });

  it('a flat position needs no price and is left out', () => {
    const a = step(null, '410', T0, T0, {
      positions: [...positions, { accountId: 'A1', instrument: 'OLD', quantity: '0', avgCost: '5' }],
    });
    expect(a.invalid).toBeNull();
    expect(a.next.dataProblem).toBeNull();
    expect(a.next.equity).toBe('20000');
  });
});

describe('assessAccount: trading restrictions', () => {
  const restrictions = (a: ReturnType<typeof step>) =>
    a.events
      .filter((e) => e.detailType === 'TradingRestrictionChanged')
      .map((e) => {
        const d = e.detail as { from: string; to: string; inMarginCall: boolean };
        return [d.from, d.to, d.inMarginCall];
      });

  it('publishes each stage once, as the level and the call move, and back to none', () => {
    const warning = step(null, '410', T0); // 1.95: WARNING
    expect(restrictions(warning)).toEqual([['none', 'withdrawals-gated', false]]);
    // 355: 14,500 / 8,875 = 1.63 → still WARNING: nothing new.
    const same = step({ ...warning.next, outbox: [] }, '355', minutes(1));
    expect(restrictions(same)).toEqual([]);
    // 270: 6,000 / 6,750 = 0.89: LIQUIDATION and a call: close-only.
    const call = step({ ...same.next, outbox: [] }, '270', minutes(2));
    expect(restrictions(call)).toEqual([['withdrawals-gated', 'close-only', true]]);
    expect(call.next.restriction).toBe('close-only');
    // 500: 29,000 / 12,500 = 2.32: SAFE, the call resolved: none.
    const safe = step({ ...call.next, outbox: [] }, '500', minutes(3));
    expect(restrictions(safe)).toEqual([['close-only', 'none', false]]);
  });

  it('a state stored before restrictions had the policy’s: no event without a change', () => {
    const warning = step(null, '410', T0);
    const { restriction: _r, ...old } = warning.next;
    expect(restrictions(step({ ...old, outbox: [] }, '411', minutes(1)))).toEqual([]);
  });

  it('a new policy applies at the next evaluation, written even when nothing else changed', () => {
    const warning = step(null, '410', T0);
    const strict = {
      ...DEFAULT_PIPELINE_CONFIG,
      restrictionPolicy: {
        ...DEFAULT_PIPELINE_CONFIG.restrictionPolicy,
        levels: { ...DEFAULT_PIPELINE_CONFIG.restrictionPolicy.levels, WARNING: 'no-new-risk' as const },
      },
    };
    const next = step({ ...warning.next, outbox: [] }, '410', minutes(1), minutes(1), { config: strict });
    expect(restrictions(next)).toEqual([['withdrawals-gated', 'no-new-risk', false]]);
    expect(next.write).toBe(true);
    expect(next.history!.reasons).toEqual(['restriction-change']);
  });
});
