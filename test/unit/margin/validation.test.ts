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
      'account.params: Unrecognized key: "maintenanceRte"',
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
