/**
 * Worked examples, by hand, for staged trading restrictions, withdrawable cash, pre-trade what-if and
 * open orders under Reg T and the tiered model (issue 25). Default thresholds 2.0 / 1.5 / 1.2, call ratio 1.
 */
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../shared/decimal.ts';
import { parseOrThrow } from '../../../shared/errors.ts';
import { buildBook, evaluate, parseEvaluationInput } from '../../../shared/margin/evaluate.ts';
import { thresholdsFor } from '../../../shared/risk/account-thresholds.ts';
import {
  DEFAULT_RESTRICTION_POLICY as POLICY,
  restrictionFor,
  restrictionPolicySchema,
} from '../../../shared/risk/restrictions.ts';
import { proposedOrdersSchema, whatIf } from '../../../shared/risk/what-if.ts';
import { withdrawable } from '../../../shared/risk/withdrawable.ts';

const s = (d: Decimal | null | undefined) => (d == null ? d : d.toFixed());

function regT(cash: string, extra: Record<string, unknown> = {}) {
  return {
    account: { id: 'R1', model: 'reg-t', cash, asOf: '2026-01-05', ...extra },
    positions: [{ instrument: 'SPY', quantity: '100', price: '400' }],
  };
}

const TIERS = [
  { upTo: '100000', maintenanceRate: '0.01', maxLeverage: '50' },
  { upTo: null, maintenanceRate: '0.02', maxLeverage: '20' },
];
function tiered(price: string, extra: Record<string, unknown> = {}) {
  return {
    account: {
      id: 'T1',
      model: 'tiered',
      cash: '10000',
      asOf: '2026-01-05',
      params: { tiers: TIERS },
      ...extra,
    },
    positions: [{ instrument: 'BTC', quantity: '2', avgCost: '40000', price }],
  };
}

function withdrawableOf(raw: unknown) {
  const input = parseEvaluationInput(raw);
  const { model, book } = buildBook(input);
  return withdrawable(model, book, { thresholdsAt: (e) => thresholdsFor(input.account, e) });
}
const orders = (raw: unknown) => parseOrThrow(proposedOrdersSchema, raw, ['orders']);
const what = (raw: unknown, o: unknown, previous?: NonNullable<Parameters<typeof whatIf>[2]>['previous']) =>
  whatIf(parseEvaluationInput(raw), orders(o), { previous });

describe('restriction policy', () => {
  it('maps levels and an open call to stages, the stricter winning', () => {
    expect(restrictionFor(POLICY, 'SAFE', false)).toBe('none');
    expect(restrictionFor(POLICY, 'WARNING', false)).toBe('withdrawals-gated');
    expect(restrictionFor(POLICY, 'CRITICAL', false)).toBe('no-new-risk');
    expect(restrictionFor(POLICY, 'LIQUIDATION', false)).toBe('close-only');
    expect(restrictionFor(POLICY, 'WARNING', true)).toBe('no-new-risk');
    expect(restrictionFor(POLICY, 'LIQUIDATION', true)).toBe('close-only');
    expect(restrictionFor(POLICY, null, false)).toBe('none');
  });

  it('refuses a worse level with a milder restriction, and unknown keys, by name', () => {
    const bad = restrictionPolicySchema.safeParse({ levels: { CRITICAL: 'none' }, marginCal: 'none' });
    expect(bad.success).toBe(false);
    const fields = bad.error!.issues.map((i) => i.path.join('.'));
    expect(fields).toContain('levels.CRITICAL');
    expect(bad.error!.issues.some((i) => i.code === 'unrecognized_keys')).toBe(true);
  });
});

describe('Reg T: 100 SPY at $400', () => {
  it('withdrawable in SAFE: the warning line (exclusive), 2 × maintenance', () => {
    // cash −15,000: equity 25,000, maintenance 25% · 40,000 = 10,000, ratio 2.5 (SAFE).
    // SAFE needs 25,000 − w > 2.0 · 10,000: w < 5,000; the call (w ≤ 15,000) is further.
    const w = withdrawableOf(regT('-15000'));
    expect({ amount: s(w.amount), inclusive: w.inclusive, limitedBy: w.limitedBy, level: w.level }).toEqual({
      amount: '5000',
      inclusive: false,
      limitedBy: 'level',
      level: 'SAFE',
    });
  });

  it('withdrawable in WARNING: down to the critical line (inclusive); the policy gates it', () => {
    // cash −20,000: equity 20,000, ratio 2.0 (WARNING). Keeping WARNING: 20,000 − w ≥ 1.5 · 10,000.
    const w = withdrawableOf(regT('-20000'));
    expect([s(w.amount), w.inclusive, w.level]).toEqual(['5000', true, 'WARNING']);
    expect(restrictionFor(POLICY, w.level, false)).toBe('withdrawals-gated');
  });

  it('what-if: a buy the funds cover is accepted, with every figure after it', () => {
    // Buy 10 at market 400: cash −19,000, value 44,000, equity 25,000, maintenance 11,000,
    // initial 22,000, available 3,000, buying power min(3,000 / 0.5, 14,000 / 0.25) = 6,000.
    const r = what(regT('-15000'), [{ instrument: 'SPY', side: 'BUY', quantity: '10' }]);
    expect(r.accepted).toBe(true);
    expect(r.orders[0]).toMatchObject({ effect: 'increase' });
    expect(s(r.orders[0]!.fillPrice)).toBe('400');
    const e = r.after!.evaluation;
    expect(
      [e.cash, e.equity, e.maintenanceRequirement, e.initialRequirement, e.availableFunds, e.buyingPower].map(
        s,
      ),
    ).toEqual(['-19000', '25000', '11000', '22000', '3000', '6000']);
    expect(s(e.marginRatio)).toBe(new Decimal(25000).dividedBy(11000).toFixed());
    expect([r.after!.level, r.after!.restriction]).toEqual(['SAFE', 'none']);
    expect(r.before.evaluation.positions).toHaveLength(1);
  });

  it('what-if: a buy beyond available funds is rejected (insufficient-funds)', () => {
    // Buy 50: cash −35,000, value 60,000, equity 25,000, initial 30,000: available −5,000; ratio 25/15 (WARNING).
    const r = what(regT('-15000'), [{ instrument: 'SPY', side: 'BUY', quantity: '50' }]);
    expect(r.accepted).toBe(false);
    expect(r.rejections.map((x) => x.code)).toEqual(['insufficient-funds']);
    expect(s(r.after!.evaluation.availableFunds)).toBe('-5000');
    expect([r.after!.level, r.after!.restriction]).toEqual(['WARNING', 'withdrawals-gated']);
  });

  it('CRITICAL is reduce-only: a buy is refused, a sale accepted and SAFE again', () => {
    // cash −26,000: equity 14,000, ratio 1.4 (CRITICAL): no-new-risk.
    const buy = what(regT('-26000'), [{ instrument: 'SPY', side: 'BUY', quantity: '1' }]);
    expect(buy.before.restriction).toBe('no-new-risk');
    expect(buy.rejections.map((x) => [x.code, x.order])).toEqual([
      ['restricted-no-new-risk', 0],
      ['insufficient-funds', null],
      ['restricted-after', null],
    ]);
    // Sell 50 at 400: cash −6,000, value 20,000, equity 14,000, maintenance 5,000: ratio 2.8 clears 2.05.
    const sell = what(regT('-26000'), [{ instrument: 'SPY', side: 'SELL', quantity: '50' }]);
    expect(sell.accepted).toBe(true);
    expect(sell.orders[0]!.effect).toBe('reduce');
    expect([s(sell.after!.evaluation.marginRatio), sell.after!.level, sell.after!.restriction]).toEqual([
      '2.8',
      'SAFE',
      'none',
    ]);
  });

  it('hysteresis: from a tracked WARNING, a ratio of 2.03 is still WARNING after a small sale', () => {
    // cash −20,000 + sell 1 at 400: cash −19,600, value 39,600, equity 20,000, maintenance 9,900: 2.0202…
    const r = what(regT('-20000'), [{ instrument: 'SPY', side: 'SELL', quantity: '1' }], {
      level: 'WARNING',
      inMarginCall: false,
    });
    expect(r.after!.level).toBe('WARNING');
  });

  it('open orders reserve initial margin and buying power, never maintenance or equity', () => {
    // An open buy of 10 at 390 reserves 50% · 3,900 = 1,950: initial 21,950, available 3,050,
    // buying power min(10,000, 60,000) − 1,950 / 0.5 = 6,100. A resting sell only reduces: nothing.
    const plain = evaluate(regT('-15000'));
    const withOrders = evaluate(
      regT('-15000', {
        openOrders: [
          { instrument: 'SPY', side: 'BUY', quantity: '10', price: '390' },
          { instrument: 'SPY', side: 'SELL', quantity: '20', price: '420' },
        ],
      }),
    );
    expect([plain.initialRequirement, plain.availableFunds, plain.buyingPower].map(s)).toEqual([
      '20000',
      '5000',
      '10000',
    ]);
    expect([withOrders.initialRequirement, withOrders.availableFunds, withOrders.buyingPower].map(s)).toEqual(
      ['21950', '3050', '6100'],
    );
    expect(s(withOrders.details.openOrderInitial as Decimal)).toBe('1950');
    for (const k of ['equity', 'maintenanceRequirement', 'excessLiquidity', 'marginRatio'] as const)
      expect(s(withOrders[k])).toBe(s(plain[k]));
    expect(withOrders.distanceToCall.call.move!.equals(plain.distanceToCall.call.move!)).toBe(true);
    // The summary path (positionPrices: false) gives the same figures.
    const summary = evaluate(
      regT('-15000', { openOrders: [{ instrument: 'SPY', side: 'BUY', quantity: '10', price: '390' }] }),
      { positionPrices: false },
    );
    expect(s(summary.initialRequirement)).toBe('21950');
  });

  it('an open order in an instrument not held needs a price, named by field', () => {
    expect(() =>
      evaluate(regT('-15000', { openOrders: [{ instrument: 'QQQ', side: 'BUY', quantity: '1' }] })),
    ).toThrow('account.openOrders[0].price');
  });
});

describe('tiered: 2 BTC entered at 40,000, wallet 10,000, 10x default leverage', () => {
  it('withdrawable: notional 80,000 at 1% is 800 maintenance; SAFE keeps w < 10,000 − 1,600', () => {
    const w = withdrawableOf(tiered('40000'));
    expect([s(w.amount), w.inclusive, w.limitedBy]).toEqual(['8400', false, 'level']);
  });

  it('what-if: the funds cover up to the tier line; one more BTC steps a tier and is refused', () => {
    // Buy 0.5: notional 100,000 (tier 1, inclusive): maintenance 1,000, initial 10,000, available 0.
    const ok = what(tiered('40000'), [{ instrument: 'BTC', side: 'BUY', quantity: '0.5' }]);
    expect(ok.accepted).toBe(true);
    expect([ok.after!.evaluation.maintenanceRequirement, ok.after!.evaluation.availableFunds].map(s)).toEqual(
      ['1000', '0'],
    );
    // Buy 1: notional 120,000 in tier 2: 2% − amount 100,000 · 1% = 1,400; initial 12,000: available −2,000.
    const no = what(tiered('40000'), [{ instrument: 'BTC', side: 'BUY', quantity: '1' }]);
    expect(no.rejections.map((x) => x.code)).toEqual(['insufficient-funds']);
    expect(s(no.after!.evaluation.maintenanceRequirement)).toBe('1400');
  });

  it('a round trip at two prices only moves the wallet by its PnL', () => {
    const r = what(tiered('40000'), [
      { instrument: 'BTC', side: 'BUY', quantity: '1', price: '40000' },
      { instrument: 'BTC', side: 'SELL', quantity: '1', price: '41000' },
    ]);
    expect([r.orders[0]!.effect, r.orders[1]!.effect]).toEqual(['increase', 'reduce']);
    expect([r.after!.evaluation.cash, r.after!.evaluation.equity].map(s)).toEqual(['11000', '11000']);
  });

  it('CRITICAL at 35,500: a partial sale realises its loss into the wallet and is accepted', () => {
    // PnL 2 · −4,500 = −9,000: equity 1,000, notional 71,000, maintenance 710, ratio 1.408… (CRITICAL).
    // Sell 1 at market: wallet 10,000 − 4,500 = 5,500; 1 BTC left (PnL −4,500): equity 1,000, maintenance 355.
    const r = what(tiered('35500'), [{ instrument: 'BTC', side: 'SELL', quantity: '1' }]);
    expect([r.before.level, r.before.restriction]).toEqual(['CRITICAL', 'no-new-risk']);
    expect(r.accepted).toBe(true);
    const e = r.after!.evaluation;
    expect([e.cash, e.equity, e.maintenanceRequirement].map(s)).toEqual(['5500', '1000', '355']);
    expect(r.after!.level).toBe('SAFE');
  });

  it('LIQUIDATION in a call is close-only: a partial sale is refused, the whole close accepted', () => {
    // At 35,300: equity 600, maintenance 706, ratio 0.849… (LIQUIDATION, margin call): close-only.
    const partial = what(tiered('35300'), [{ instrument: 'BTC', side: 'SELL', quantity: '1' }]);
    expect([partial.before.level, partial.before.inMarginCall, partial.before.restriction]).toEqual([
      'LIQUIDATION',
      true,
      'close-only',
    ]);
    expect(partial.rejections.map((x) => x.code)).toEqual(['restricted-close-only']);
    const close = what(tiered('35300'), [{ instrument: 'BTC', side: 'SELL', quantity: '2' }]);
    expect(close.accepted).toBe(true);
    expect(close.orders[0]!.effect).toBe('close');
    // Flat: wallet 10,000 − 9,400 = 600, no requirement: SAFE, the call cleared, no restriction.
    expect([
      s(close.after!.evaluation.cash),
      close.after!.level,
      close.after!.inMarginCall,
      close.after!.restriction,
    ]).toEqual(['600', 'SAFE', false, 'none']);
    // Nothing may leave while the call is open.
    expect(withdrawableOf(tiered('35300')).limitedBy).toBe('in-margin-call');
  });

  it('open orders reserve notional / leverage of initial margin', () => {
    // Open buy 0.25 at 38,000: 9,500 / 10 = 950: initial 8,950, available 1,050, buying power 10,500.
    const e = evaluate(
      tiered('40000', { openOrders: [{ instrument: 'BTC', side: 'BUY', quantity: '0.25', price: '38000' }] }),
    );
    expect([e.initialRequirement, e.availableFunds, e.buyingPower, e.maintenanceRequirement].map(s)).toEqual([
      '8950',
      '1050',
      '10500',
      '800',
    ]);
  });
});
