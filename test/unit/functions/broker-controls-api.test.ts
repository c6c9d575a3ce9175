import { describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../../functions/api/routes.ts';
import type { PriceItem } from '../../../shared/pipeline/records.ts';
import { callApi } from '../../helpers/api-call.ts';

const T = '2026-03-02T15:00:00.000Z';
/** A stored Reg T account: 100 SPY at 400, cash −15,000 (equity 25,000, maintenance 10,000: SAFE). */
function deps(
  cash = '-15000',
  state: Record<string, unknown> | null = null,
  extraPrices: Record<string, string> = {},
) {
  const prices = new Map<string, PriceItem>(
    Object.entries({ SPY: '400', ...extraPrices }).map(([instrument, price]) => [
      instrument,
      { instrument, price, priceTime: T },
    ]),
  );
  return {
    now: () => new Date(T),
    repo: {
      getAccount: async (id: string) => (id === 'A1' ? { accountId: 'A1', model: 'reg-t', cash } : null),
      getPositions: async () => [
        { accountId: 'A1', instrument: 'SPY', quantity: '100' },
        { accountId: 'A1', instrument: 'OLD', quantity: '0' }, // flat: needs no price
      ],
      getRiskState: async () => state,
      getPrices: async (instruments: readonly string[]) =>
        new Map(instruments.filter((i) => prices.has(i)).map((i) => [i, prices.get(i)!])),
    },
  } as unknown as ApiDeps;
}

const tracker = (level: string, marginCall: object | null = null) => ({
  accountId: 'A1',
  level,
  ratio: null,
  lastAt: T,
  incident: null,
  marginCall,
  stats: {
    triggered: 0,
    resolved: 0,
    worstRatio: null,
    worstLevel: null,
    ratioSumInCall: '0',
    observationsInCall: 0,
    msInCall: 0,
  },
});

describe('GET /accounts/{id}/withdrawable', () => {
  it('SAFE: up to the warning line, allowed by the restriction', async () => {
    const out = await callApi(deps(), 'GET', '/accounts/{id}/withdrawable', { id: 'A1' });
    expect(out).toEqual({
      status: 200,
      body: {
        accountId: 'A1',
        level: 'SAFE',
        inMarginCall: false,
        restriction: 'none',
        withdrawable: '5000',
        inclusive: false,
        limitedBy: 'level',
        allowed: '5000',
        cash: '-15000',
        dataProblem: null,
      },
    });
  });

  it('a tracked WARNING (hysteresis) keeps the critical line, and gates withdrawals', async () => {
    // cash −19,800: equity 20,200, ratio 2.02: raw SAFE, tracked WARNING. Keeping WARNING: w ≤ 5,200.
    const out = await callApi(
      deps('-19800', { level: 'WARNING', tracker: tracker('WARNING') }),
      'GET',
      '/accounts/{id}/withdrawable',
      { id: 'A1' },
    );
    expect(out.body).toMatchObject({
      level: 'WARNING',
      restriction: 'withdrawals-gated',
      withdrawable: '5200',
      inclusive: true,
      allowed: '0',
    });
  });

  it('an open call: nothing may leave', async () => {
    const out = await callApi(
      deps('-15000', { level: 'SAFE', tracker: tracker('SAFE', { id: 'c', since: T, worstRatio: '0.9' }) }),
      'GET',
      '/accounts/{id}/withdrawable',
      { id: 'A1' },
    );
    expect(out.body).toMatchObject({
      withdrawable: '0',
      limitedBy: 'in-margin-call',
      restriction: 'no-new-risk',
    });
  });

  it('says when the latest evaluation had a data problem (the figures trust today’s prices)', async () => {
    const problem = { kind: 'stale-prices', instruments: ['SPY'], message: 'stale' };
    const out = await callApi(
      deps('-15000', { level: 'SAFE', tracker: tracker('SAFE'), dataProblem: problem }),
      'GET',
      '/accounts/{id}/withdrawable',
      { id: 'A1' },
    );
    expect(out.body).toMatchObject({ withdrawable: '5000', dataProblem: problem });
  });

  it('an unknown account is a 404; a held position without a price a 409', async () => {
    expect((await callApi(deps(), 'GET', '/accounts/{id}/withdrawable', { id: 'B2' })).status).toBe(404);
    const noPrice = {
      ...deps(),
      repo: { ...deps().repo, getPrices: async () => new Map() },
    } as unknown as ApiDeps;
    const out = await callApi(noPrice, 'GET', '/accounts/{id}/withdrawable', { id: 'A1' });
    expect(out).toMatchObject({ status: 409, body: { error: 'missing-prices' } });
  });
});

describe('POST /accounts/{id}/what-if', () => {
  it('returns every evaluation field after the orders, the level, restriction and acceptance', async () => {
    const out = await callApi(deps('-15000', null, { QQQ: '500' }), 'POST', '/accounts/{id}/what-if', {
      id: 'A1',
      body: {
        orders: [
          { instrument: 'SPY', side: 'BUY', quantity: '10' },
          { instrument: 'QQQ', side: 'BUY', quantity: '2' }, // not held: the market price from the price table
        ],
      },
    });
    expect(out.status).toBe(200);
    expect(out.body).toMatchObject({
      accountId: 'A1',
      accepted: true,
      rejections: [],
      orders: [
        { instrument: 'SPY', fillPrice: '400', effect: 'increase' },
        { instrument: 'QQQ', fillPrice: '500', effect: 'open' },
      ],
      before: { level: 'SAFE', restriction: 'none', evaluation: { equity: '25000' } },
      // cash −15,000 − 4,000 − 1,000; value 44,000 + 1,000; maintenance 11,000 + 250; initial 22,500.
      after: {
        level: 'SAFE',
        restriction: 'none',
        evaluation: {
          cash: '-20000',
          equity: '25000',
          maintenanceRequirement: '11250',
          availableFunds: '2500',
        },
      },
    });
    expect(Object.keys(out.body.after.evaluation)).toEqual(Object.keys(out.body.before.evaluation));
  });

  it('a rejection says why, with its stable code', async () => {
    const out = await callApi(deps(), 'POST', '/accounts/{id}/what-if', {
      id: 'A1',
      body: { orders: [{ instrument: 'SPY', side: 'BUY', quantity: '50' }] },
    });
    expect(out.body).toMatchObject({
      accepted: false,
      rejections: [{ code: 'insufficient-funds', order: null }],
    });
  });

  it('bad orders are a 400 naming each field; a market order with no price anywhere too', async () => {
    const bad = await callApi(deps(), 'POST', '/accounts/{id}/what-if', {
      id: 'A1',
      body: { orders: [{ instrument: 'SPY', side: 'buy', quantity: 10, qty: '1' }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: { field: string }) => i.field).sort()).toEqual([
      'body.orders[0].qty',
      'body.orders[0].quantity',
      'body.orders[0].side',
    ]);
    const unpriced = await callApi(deps(), 'POST', '/accounts/{id}/what-if', {
      id: 'A1',
      body: { orders: [{ instrument: 'ZZZ', side: 'BUY', quantity: '1' }] },
    });
    expect(unpriced).toMatchObject({ status: 400, body: { issues: [{ field: 'orders[0].price' }] } });
  });
});
