import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../shared/decimal.ts';
import { parseOrThrow } from '../../../shared/errors.ts';
import { parseEvaluationInput } from '../../../shared/margin/evaluate.ts';
import { escalationPolicySchema } from '../../../shared/replay/policy.ts';
import { parsePricesCsv } from '../../../shared/replay/prices-csv.ts';
import { replay } from '../../../shared/replay/replay.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../../fixtures', name), 'utf8');
const policy = (p: object) => parseOrThrow(escalationPolicySchema, p, ['policy']);
const FREE = { execution: { feeRate: '0', slippageRate: '0' } };

// 325 shares at $100 with 10,000 capital (cash −22,500), maintenance fixed at 75% of the 6,500 posted.
const fiveX = parseEvaluationInput({
  account: {
    id: 'L5',
    model: 'gross',
    cash: '-22500',
    params: { initialRate: '0.2', maintenanceRate: '0.15', maintenanceBasis: 'entry' },
  },
  positions: [{ instrument: 'XYZ', quantity: '325', avgCost: '100', price: '100' }],
});
const path = parsePricesCsv(fixture('five-x-path.csv'), 'five-x-path.csv');

describe('replay: the 5x leveraged long', () => {
  it('monitoring only: the call triggers on the first close below $84.23, equity is gone at $69.23', () => {
    const r = replay(fiveX, path, policy({ mode: 'monitor' }));
    expect(r.start.positions[0]!.callPrice!.toDecimalPlaces(2).toFixed()).toBe('84.23');
    expect(r.start.positions[0]!.zeroEquityPrice!.toDecimalPlaces(2).toFixed()).toBe('69.23');
    expect(r.marginCalls).toHaveLength(1);
    expect(r.marginCalls[0]).toMatchObject({ triggeredOn: '2026-01-09', resolvedOn: null });
    expect(r.marginCalls[0]!.pricesAtTrigger.XYZ!.toFixed()).toBe('84.23');
    expect(r.zeroEquityOn).toBe('2026-01-15'); // 325 × 69.23 − 22,500 = −0.25; at 69.24 it is +3
    expect(r.timeline.map((t) => t.level)).toEqual([
      'SAFE',
      'WARNING',
      'CRITICAL',
      'LIQUIDATION',
      'LIQUIDATION',
      'LIQUIDATION',
      'LIQUIDATION',
      'LIQUIDATION',
      'LIQUIDATION',
      'LIQUIDATION',
      'LIQUIDATION',
    ]);
    expect(r.actions).toEqual({ alert: 1, deleverage: 0, liquidation: 0 });
    expect(r.stats.triggered).toBe(1);
    expect(r.marginCalls[0]!.worstRatio!.toFixed()).toBe(new Decimal('-0.25').dividedBy(4875).toFixed());
  });

  it('full escalation: deleverages at the bar’s price back into SAFE, and the call never comes', () => {
    const r = replay(fiveX, path, policy({ mode: 'full', ...FREE }));
    const trades = r.timeline.flatMap((t) =>
      t.actions
        .filter((a) => a.plan)
        .map(
          (a) =>
            `${t.date} ${a.kind} ${a.plan!.orders.map((o) => `${o.side} ${o.quantity.toFixed()}`).join(',')}`,
        ),
    );
    // 90: 15·(325 − Δ) ≤ 6,750 / 2.05 → Δ ≥ 105.5 → 106.  80: 15·(219 − Δ) ≤ 4,560 / 2.05 → 71.  69.24: 52.
    expect(trades).toEqual([
      '2026-01-06 deleverage SELL 106',
      '2026-01-12 deleverage SELL 71',
      '2026-01-14 deleverage SELL 52',
    ]);
    const bar = (date: string) => r.timeline.find((t) => t.date === date)!;
    expect(bar('2026-01-06').marginRatio!.toDecimalPlaces(4).toFixed()).toBe('2.0548'); // 6,750 / 3,285
    expect(bar('2026-01-06').level).toBe('SAFE');
    expect(r.marginCalls).toEqual([]);
    expect(r.zeroEquityOn).toBeNull();
    expect(r.actions).toEqual({ alert: 3, deleverage: 3, liquidation: 0 });
  });

  it('liquidates when a gap goes straight to LIQUIDATION, once', () => {
    const gap = parsePricesCsv(
      'date,instrument,close\n2026-01-02,XYZ,100\n2026-01-05,XYZ,85\n2026-01-06,XYZ,80\n',
      'gap.csv',
    );
    const r = replay(fiveX, gap, policy({ mode: 'full', ...FREE }));
    const day = r.timeline[1]!;
    expect(day.actions.map((a) => a.kind)).toEqual(['alert', 'liquidation']);
    expect(day.actions[1]!.plan!.orders.map((o) => o.quantity.toFixed())).toEqual(['325']);
    expect(day.equity.toFixed()).toBe('5125'); // 325 × 85 − 22,500, all in cash now
    expect(day.level).toBe('SAFE');
    expect(r.timeline[2]!.actions).toEqual([]);
  });
});

describe('replay: the 2020 crash on real SPY closes', () => {
  // Closes only (the file's ranges dropped): the intrabar replay has its own tests below.
  const spy = parsePricesCsv(fixture('SPY_2020-02_2020-04_daily.csv'), 'SPY.csv', 'SPY').map(
    ({ date, closes }) => ({
      date,
      closes,
    }),
  );
  // Reg T long 100 SPY bought at 300 with 18,750 borrowed: call when 100p − 18,750 < 25p → p < 250.
  const book = parseEvaluationInput({
    account: { id: 'SPY-LONG', model: 'reg-t', cash: '-18750' },
    positions: [{ instrument: 'SPY', quantity: '100', avgCost: '300', price: '300' }],
  });
  // Independent oracle: in call below 250; out again once the ratio clears 1 + 0.05 hysteresis,
  // 100p − 18,750 ≥ 1.05 · 25p → p ≥ 18,750 / 73.75 = 254.237…
  function expectedCalls(): [string, string | null][] {
    const calls: [string, string | null][] = [];
    const resolveAt = new Decimal(18750).dividedBy('73.75');
    for (const row of fixture('SPY_2020-02_2020-04_daily.csv').trim().split('\n').slice(1)) {
      const [date, , , , close] = row.split(',');
      const open = calls.length > 0 && calls[calls.length - 1]![1] === null;
      if (!open && new Decimal(close!).lessThan(250)) calls.push([date!, null]);
      else if (open && new Decimal(close!).greaterThanOrEqualTo(resolveAt))
        calls[calls.length - 1]![1] = date!;
    }
    return calls;
  }

  it('monitoring: calls trigger on closes below $250 and resolve past the hysteresis', () => {
    const r = replay(book, spy, policy({ mode: 'monitor' }));
    expect(r.marginCalls.map((m) => [m.triggeredOn, m.resolvedOn])).toEqual(expectedCalls());
    expect(r.marginCalls[0]).toMatchObject({ triggeredOn: '2020-03-09', resolvedOn: '2020-03-10' });
    expect(r.stats.triggered).toBe(3);
    expect(r.stats.worstRatio!.toDecimalPlaces(4).toFixed()).toBe('0.3219'); // 2020-03-23, close 203.91
  });

  it('full escalation runs in order, alert before deleverage before any liquidation, and beats the call', () => {
    const r = replay(book, spy, policy({ mode: 'full' }));
    const actions = r.timeline.flatMap((t) =>
      t.actions.map((a) => ({ date: t.date, kind: a.kind, incident: a.incidentId })),
    );
    expect(actions.length).toBeGreaterThan(1);
    const first = actions.findIndex((a) => a.kind === 'alert');
    const firstTrade = actions.findIndex((a) => a.kind !== 'alert');
    expect(first).toBe(0);
    expect(firstTrade).toBeGreaterThan(first);
    // Within each incident: one alert at most, and a trade never precedes that incident's alert.
    const byIncident = new Map<string, string[]>();
    for (const a of actions) byIncident.set(a.incident, [...(byIncident.get(a.incident) ?? []), a.kind]);
    for (const kinds of byIncident.values()) {
      expect(kinds.filter((k) => k === 'alert').length).toBeLessThanOrEqual(1);
      if (kinds.length > 1) expect(kinds[0]).toBe('alert');
    }
    expect(r.marginCalls).toEqual([]);
    expect(r.end.equity.isPositive()).toBe(true);
  });
});

describe('price CSV', () => {
  it('reads OHLC in the long shape; empty open/high/low leave an instrument closes-only; a range must hold open and close', () => {
    const bars = parsePricesCsv(
      'date,instrument,open,high,low,close\n2020-03-13,BTC,5017.83,5838.11,4106.98,5563.71\n2020-03-13,SH,,,,30.1\n',
      'p.csv',
    );
    expect(bars[0]!.ohlc!.get('BTC')!.low.toFixed()).toBe('4106.98');
    expect(bars[0]!.ohlc!.has('SH')).toBe(false);
    expect(bars[0]!.closes.get('SH')!.toFixed()).toBe('30.1');
    expect(() =>
      parsePricesCsv(
        'date,instrument,open,high,low,close\n2020-03-13,BTC,5017.83,5500,4106.98,5563.71\n',
        'p.csv',
      ),
    ).toThrow(
      'p.csv line 2, column low: the range 4106.98–5500 must hold the open 5017.83 and the close 5563.71',
    );
  });

  it('names the line and column of every bad cell', () => {
    const bad = 'date,instrument,close\n2026-01-02,XYZ,100\n2026-13-45,XYZ,abc\n2026-01-05,,0\n';
    expect(() => parsePricesCsv(bad, 'p.csv')).toThrow(
      [
        'p.csv line 3, column date: expected YYYY-MM-DD, got "2026-13-45"',
        'p.csv line 3, column close: expected a positive decimal, got "abc"',
        'p.csv line 4, column instrument: missing',
        'p.csv line 4, column close: a price must be greater than 0',
      ].join('\n'),
    );
  });

  it('needs a date and close header, and a name for an OHLC file', () => {
    expect(() => parsePricesCsv('when,price\n', 'x.csv')).toThrow(
      'x.csv line 1: expected a header with date and close',
    );
    expect(() => parsePricesCsv('date,open,high,low,close\n2020-01-02,1,1,1,1\n', 'x.csv')).toThrow(
      /name the instrument/,
    );
  });

  it('groups instruments by date, sorted', () => {
    const bars = parsePricesCsv(
      'date,instrument,close\n2026-01-05,A,2\n2026-01-02,A,1\n2026-01-02,B,3\n',
      'x.csv',
    );
    expect(bars.map((b) => [b.date, [...b.closes.keys()]])).toEqual([
      ['2026-01-02', ['A', 'B']],
      ['2026-01-05', ['A']],
    ]);
  });
});

describe('intrabar (OHLC) replay: real BTC, 12–14 March 2020', () => {
  // Gross model, long 1 BTC-PERP with 3,150 borrowed: ratio (p − 3,150) / (0.25 p).
  //   LIQUIDATION below 1.2:  p − 3,150 < 0.3 p  ⇔ p < 4,500
  //   margin call below 1.0:  p − 3,150 < 0.25 p ⇔ p < 4,200
  // 13 March: open 5,017.83, low 4,106.98, close 5,563.71. At the close the ratio is
  // (5,563.71 − 3,150) / 1,390.9275 = 1.735 (WARNING): a closes-only replay never sees the liquidation
  // level or the call that the low crossed.
  const btc = parsePricesCsv(fixture('BTC-USD_2020-02_2020-04_daily.csv'), 'BTC-USD.csv', 'BTC-PERP').filter(
    (b) => b.date >= '2020-03-12' && b.date <= '2020-03-14',
  );
  const closesOnly = btc.map(({ date, closes }) => ({ date, closes }));
  const book = parseEvaluationInput({
    account: { id: 'BTC-LONG', model: 'gross', cash: '-3150' },
    positions: [{ instrument: 'BTC-PERP', quantity: '1', avgCost: '7900', price: '7911.43' }],
  });

  it('closes only: CRITICAL on the 12th, WARNING on the 13th; no liquidation level, no call', () => {
    const r = replay(book, closesOnly, policy({ mode: 'monitor' }));
    expect(r.timeline.map((t) => `${t.date} ${t.level}`)).toEqual([
      '2020-03-12 CRITICAL',
      '2020-03-13 WARNING',
      '2020-03-14 WARNING',
    ]);
    expect(r.marginCalls).toEqual([]);
  });

  it('OHLC: on the 13th the low crosses LIQUIDATION at 4,500 and then the call at 4,200, found on the path from the open', () => {
    const r = replay(book, btc, policy({ mode: 'monitor' }));
    const day = r.timeline[1]!;
    expect(day.crossings!.map((c) => `${c.level} ${c.inMarginCall}`)).toEqual([
      'LIQUIDATION false',
      'LIQUIDATION true',
    ]);
    const [liquidation, call] = day.crossings!.map((c) => c.prices['BTC-PERP']!);
    // Crossings are just past the exact prices (8 decimals, rounded toward the fall).
    expect(liquidation!.lessThan(4500) && liquidation!.greaterThan('4499.999999')).toBe(true);
    expect(call!.lessThan(4200) && call!.greaterThan('4199.999999')).toBe(true);
    expect(r.marginCalls[0]).toMatchObject({ triggeredOn: '2020-03-13' });
  });

  it('OHLC, full escalation: deleverages where the fall crossed CRITICAL (5,040), not at the close (4,970.79)', () => {
    // 12 March: open 7,913.62, low 4,860.35. WARNING below 2.0: p − 3,150 < 0.5 p ⇔ p < 6,300;
    // CRITICAL below 1.5: p − 3,150 < 0.375 p ⇔ p < 5,040.
    const r = replay(book, btc, policy({ mode: 'full', ...FREE }));
    const day = r.timeline[0]!;
    expect(
      day.crossings!.map((c) => `${c.level} ${c.prices['BTC-PERP']!.toDecimalPlaces(2).toFixed()}`),
    ).toEqual(['WARNING 6300', 'CRITICAL 5040']);
    const deleverage = day.actions.find((a) => a.kind === 'deleverage')!;
    expect(
      deleverage.plan!.orders.map(
        (o) => `${o.side} ${o.quantity.toFixed()} @ ${o.referencePrice.toDecimalPlaces(2).toFixed()}`,
      ),
    ).toEqual(['SELL 1 @ 5040']);
    // 5,040 − 3,150 = 1,890 kept; a closes-only replay sells at 4,970.79 and keeps 1,820.79.
    expect(day.equity.toDecimalPlaces(2).toFixed()).toBe('1890');
    const closes = replay(book, closesOnly, policy({ mode: 'full', ...FREE }));
    expect(closes.timeline[0]!.equity.toFixed()).toBe('1820.79');
    expect(r.marginCalls).toEqual([]);
  });
});
