import { describe, expect, it } from 'vitest';
import { InputError } from '../../../shared/errors.ts';
import { evaluate } from '../../../shared/margin/evaluate.ts';

function fieldsOf(raw: unknown, options = {}): string[] {
  try {
    evaluate(raw, options);
  } catch (e) {
    if (e instanceof InputError) return e.issues.map((i) => `${i.field}: ${i.message}`);
    throw e;
  }
  throw new Error('expected an InputError');
}

const account = { id: 'A1', model: 'reg-t', cash: '1000' };
const position = { instrument: 'SPY', quantity: '10', avgCost: '100', price: '100' };

describe('bad input names the field', () => {
  it.each([
    [
      'negative price',
      { account, positions: [{ ...position, price: '-1' }] },
      'positions[0].price: must be greater than 0',
    ],
    [
      'zero price',
      { account, positions: [{ ...position, price: '0' }] },
      'positions[0].price: must be greater than 0',
    ],
    [
      'non-numeric price',
      { account, positions: [{ ...position, price: 'abc' }] },
      'positions[0].price: not a decimal number: "abc"',
    ],
    [
      'missing price',
      { account, positions: [{ instrument: 'SPY', quantity: '1' }] },
      'positions[0].price: required',
    ],
    [
      'a JSON number for money',
      { account, positions: [{ ...position, price: 100.5 }] },
      'positions[0].price: expected a decimal string like "410.25", got number',
    ],
    [
      'unknown model',
      { account: { ...account, model: 'yolo' }, positions: [] },
      'account.model: unknown margin model "yolo" (expected one of gross, reg-t, cash, tiered, portfolio)',
    ],
    ['missing cash', { account: { id: 'A1', model: 'gross' }, positions: [] }, 'account.cash: required'],
    [
      'fractional shares where forbidden',
      { account, positions: [{ ...position, quantity: '1.5', fractional: false }] },
      'positions[0].quantity: SPY trades in whole units only; got 1.5',
    ],
    [
      'duplicate instrument',
      { account, positions: [position, position] },
      'positions[1].instrument: duplicate instrument SPY (already at positions[0])',
    ],
    [
      'unknown param (typo)',
      { account: { ...account, params: { maintenanceRte: '0.3' } }, positions: [] },
      'account.params.maintenanceRte: unknown key (did you mean "maintenanceRate"?)',
    ],
    [
      'rate above 1',
      { account: { ...account, params: { maintenanceRate: '25' } }, positions: [] },
      'account.params.maintenanceRate: must be a fraction between 0 and 1 (e.g. "0.25" for 25%)',
    ],
    [
      'maintenance above initial',
      {
        account: { ...account, model: 'gross', params: { initialRate: '0.2', maintenanceRate: '0.3' } },
        positions: [],
      },
      'account.params.maintenanceRate: must not exceed initialRate',
    ],
    [
      'gross without cost basis',
      {
        account: { ...account, model: 'gross' },
        positions: [{ instrument: 'X', quantity: '1', price: '1' }],
      },
      'positions[0].avgCost: required by the gross model (cost basis)',
    ],
    [
      'a bad param next to a cross-field check',
      { account: { ...account, model: 'gross', params: { initialRate: 'x' } }, positions: [] },
      'account.params.initialRate: not a decimal number: "x"',
    ],
    [
      'a bad Reg T param',
      { account: { ...account, params: { maintenanceRate: 'x' } }, positions: [] },
      'account.params.maintenanceRate: not a decimal number: "x"',
    ],
    [
      'a bad tier',
      {
        account: {
          ...account,
          model: 'tiered',
          params: { tiers: [{ upTo: null, maintenanceRate: 'y', maxLeverage: '1' }] },
        },
        positions: [],
      },
      'account.params.tiers[0].maintenanceRate: not a decimal number: "y"',
    ],
    [
      'bad account id',
      { account: { ...account, id: 'a b' }, positions: [] },
      'account.id: may contain only letters, digits and . _ : @ -',
    ],
  ])('%s', (_name, raw, expected) => {
    expect(fieldsOf(raw)).toContain(expected);
  });

  it('reports every problem at once, account and positions', () => {
    const issues = fieldsOf({
      account: { id: 'A1', model: 'reg-t', cash: 'x' },
      positions: [{ instrument: 'SPY', quantity: '1', price: '-2' }],
    });
    expect(issues).toEqual([
      'account.cash: not a decimal number: "x"',
      'positions[0].price: must be greater than 0',
    ]);
  });

  it('checks the --model override too', () => {
    expect(fieldsOf({ account, positions: [] }, { model: 'nope' })[0]).toMatch(
      /^model: unknown margin model "nope"/,
    );
  });

  it('refuses a non-object', () => {
    expect(fieldsOf('[]')).toEqual(['(root): expected an object with account and positions']);
  });
});

describe('strict inputs: unknown keys are refused by name, every problem in one pass', () => {
  it('refuses unknown keys in the account, a position and the top level, with a did-you-mean', () => {
    expect(
      fieldsOf({
        account: { ...account, cash: '-500', houseMaintenanceRate: '0.5' },
        positions: [{ ...position, maintenaceRate: '0.5' }],
        positons: [],
      }),
    ).toEqual([
      'positons: unknown key (did you mean "positions"?)',
      'account.houseMaintenanceRate: unknown key (expected one of id, model, cash, settledCash, pendingSettlements, sma, dayTrades5d, patternDayTrader, asOf, params, thresholds, riskContext, capital, openOrders)',
      'positions[0].maintenaceRate: unknown key (did you mean "maintenanceRate"?)',
    ]);
  });

  it('names unknown keys deep inside too (pending settlements, thresholds, risk context, tiers)', () => {
    const issues = fieldsOf({
      account: {
        ...account,
        model: 'tiered',
        pendingSettlements: [{ amount: '1', tradeDate: '2026-01-02', settled: true }],
        thresholds: { warning: '2', critical: '1.5', liquidaton: '1.2' },
        riskContext: { volatilityRegim: 'crisis' },
        params: { tiers: [{ upTo: null, maintenanceRate: '0.1', maxLeverage: '5', extra: 1 }] },
      },
      positions: [],
    });
    expect(issues).toEqual(
      expect.arrayContaining([
        'account.pendingSettlements[0].settled: unknown key (expected one of amount, tradeDate)',
        'account.thresholds.liquidaton: unknown key (did you mean "liquidation"?)',
        'account.riskContext.volatilityRegim: unknown key (did you mean "volatilityRegime"?)',
        expect.stringMatching(/^account\.params\.tiers\[0\]\.extra: unknown key/),
      ]),
    );
  });

  it('names a key that would not read as one in JSON quotes', () => {
    expect(fieldsOf({ account: { ...account, '': 1, 'a b': 2 }, positions: [] })).toEqual([
      expect.stringMatching(/^account\[""\]: unknown key/),
      expect.stringMatching(/^account\["a b"\]: unknown key/),
    ]);
  });

  it('a non-decimal quantity on a whole-units position is named, not a TypeError', () => {
    expect(fieldsOf({ account, positions: [{ ...position, quantity: 'abc', fractional: false }] })).toEqual([
      'positions[0].quantity: not a decimal number: "abc"',
    ]);
  });

  it('reports account, positions, the model override, params and model rules in one run', () => {
    expect(
      fieldsOf(
        {
          account: { id: 'A1', model: 'gross', cash: 'x', params: { initialRate: '2', callRatoi: '1' } },
          positions: [{ instrument: 'X', quantity: '1', price: '-10' }],
        },
        { model: 'nope' },
      ),
    ).toEqual([
      'account.cash: not a decimal number: "x"',
      'positions[0].price: must be greater than 0',
      'model: unknown margin model "nope" (expected one of gross, reg-t, cash, tiered, portfolio)',
      'account.params.initialRate: must be a fraction between 0 and 1 (e.g. "0.25" for 25%)',
      'account.params.callRatoi: unknown key (did you mean "callRatio"?)',
    ]);
  });

  it('checks the model rules in the same pass as a bad account field', () => {
    expect(
      fieldsOf({
        account: { id: 'A1', model: 'gross', cash: 'x' },
        positions: [{ instrument: 'X', quantity: '1', price: '10' }],
      }),
    ).toEqual([
      'account.cash: not a decimal number: "x"',
      'positions[0].avgCost: required by the gross model (cost basis)',
    ]);
  });

  it('a what-if still checks the account’s own params', () => {
    expect(
      fieldsOf(
        { account: { ...account, params: { maintenaceRate: '0.3' } }, positions: [] },
        { model: 'gross' },
      ),
    ).toEqual(['account.params.maintenaceRate: unknown key (did you mean "maintenanceRate"?)']);
  });

  it('names a missing account', () => {
    expect(fieldsOf({ positions: [] })).toEqual(['account: required']);
  });
});
