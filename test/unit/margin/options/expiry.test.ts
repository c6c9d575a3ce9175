import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../../shared/decimal.ts';
import { InputError } from '../../../../shared/errors.ts';
import { settleExpiredOptions } from '../../../../shared/margin/options/expiry.ts';
import { positionsSchema } from '../../../../shared/schemas/position.ts';

const option = (
  instrument: string,
  quantity: string,
  right: string,
  strike: string,
  extra: Record<string, string> = {},
) => ({
  instrument,
  quantity,
  price: '0.01',
  instrumentType: 'option',
  underlying: 'XYZ',
  right,
  strike,
  expiry: '2026-03-20',
  underlyingClass: 'equity',
  ...extra,
});

const settle = (raw: Record<string, unknown>[], prices: Record<string, string>, cash = '1000') =>
  settleExpiredOptions(
    positionsSchema.parse(raw),
    new Decimal(cash),
    '2026-03-23',
    new Map(Object.entries(prices).map(([k, v]) => [k, new Decimal(v)])),
  );
const plain = (r: ReturnType<typeof settle>) => ({
  cash: r.cash.toFixed(),
  positions: r.positions.map((p) => [p.instrument, p.quantity.toFixed(), p.price.toFixed()]),
  settlements: r.settlements.map((s) => [s.instrument, s.outcome, s.cash.toFixed(), s.shares.toFixed()]),
});

describe('expired options are settled, never priced', () => {
  it('physical: a covered call assigned delivers the shares at the strike; an OTM put expires', () => {
    // XYZ settles at 105: −2 C100 assigned: −200 shares, cash + 200 × 100 = 20,000; +1 P95 worthless.
    const r = settle(
      [
        { instrument: 'XYZ', quantity: '300', price: '104' },
        option('C100', '-2', 'call', '100'),
        option('P95', '1', 'put', '95'),
      ],
      { XYZ: '105' },
    );
    expect(plain(r)).toEqual({
      cash: '21000',
      positions: [['XYZ', '100', '104']],
      settlements: [
        ['C100', 'assigned', '20000', '-200'],
        ['P95', 'expired-worthless', '0', '0'],
      ],
    });
  });

  it('physical: a long put exercised without the shares leaves a short position at the settlement price', () => {
    // +1 P110 at 105: −100 shares, cash + 11,000.
    const r = settle([option('P110', '1', 'put', '110', { underlyingPrice: '104' })], { XYZ: '105' });
    expect(plain(r).positions).toEqual([['XYZ', '-100', '105']]);
    expect(r.cash.toFixed()).toBe('12000');
  });

  it('cash-settled index options pay the intrinsic value; under a cent is not exercised', () => {
    // −1 SPX C4000 at 4,012.5: −100 × 12.5 = −1,250. +1 C4012.495: intrinsic 0.005 < 0.01: worthless.
    const idx = { underlying: 'SPX', underlyingClass: 'broad-index', underlyingPrice: '4010' };
    const r = settle(
      [option('SPX C4000', '-1', 'call', '4000', idx), option('SPX C4012.495', '1', 'call', '4012.495', idx)],
      { SPX: '4012.5' },
    );
    expect(plain(r)).toEqual({
      cash: '-250',
      positions: [],
      settlements: [
        ['SPX C4000', 'cash-settled', '-1250', '0'],
        ['SPX C4012.495', 'expired-worthless', '0', '0'],
      ],
    });
  });

  it('an unexpired option is kept as it is; a missing settlement price is named', () => {
    const live = option('C100 Apr', '-1', 'call', '100', { expiry: '2026-04-17', underlyingPrice: '104' });
    expect(plain(settle([live], {})).positions).toEqual([['C100 Apr', '-1', '0.01']]);
    try {
      settle([option('C100', '-1', 'call', '100', { underlyingPrice: '104' })], {});
      throw new Error('expected an InputError');
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).issues).toEqual([
        {
          field: 'settlementPrices.XYZ',
          message: 'required: an expired option on XYZ is settled at its settlement price',
        },
      ]);
    }
  });
});
