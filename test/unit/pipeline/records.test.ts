import { describe, expect, it } from 'vitest';
import { toEnginePosition, valuationPrice } from '../../../shared/pipeline/records.ts';

describe('records: the price a position is valued at', () => {
  const position = { accountId: 'A', instrument: 'BTC-PERP', quantity: '1' };
  it('is the mark where the venue publishes one (a last trade far from fair value does not liquidate), else the last', () => {
    const withMark = {
      instrument: 'BTC-PERP',
      price: '4106.98',
      markPrice: '4890.5',
      priceTime: '2020-03-13T12:00:00Z',
    };
    expect(valuationPrice(withMark)).toBe('4890.5');
    expect(toEnginePosition(position, withMark)).toEqual({
      instrument: 'BTC-PERP',
      quantity: '1',
      price: '4890.5',
      priceTime: '2020-03-13T12:00:00Z',
    });
    expect(
      toEnginePosition(position, {
        instrument: 'BTC-PERP',
        price: '5563.71',
        priceTime: '2020-03-13T21:00:00Z',
      }),
    ).toMatchObject({
      price: '5563.71',
    });
  });
});
