import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../shared/decimal.ts';
import { adlRanking } from '../../../shared/deleverage/adl.ts';

const d = (v: string) => new Decimal(v);
const c = (accountId: string, quantity: string, entry: string, equity: string) => ({
  accountId,
  quantity: d(quantity),
  entryPrice: d(entry),
  markPrice: d('5000'),
  multiplier: d('1'),
  equity: d(equity),
});

describe('ADL ranking, by hand (mark 5,000)', () => {
  it('ranks profitable positions per side by PnL% × effective leverage; losers and the bankrupt do not rank', () => {
    const ranks = adlRanking([
      c('L1', '2', '4000', '2500'), // PnL 25%, leverage 10,000 / 2,500 = 4 → score 1
      c('L2', '1', '4500', '500'), // PnL 11.1%, leverage 10 → score 1.11…
      c('L3', '1', '6000', '9000'), // losing: not ranked
      c('S1', '-1', '6000', '1000'), // short, PnL 1,000 / 6,000 = 16.7%, leverage 5 → score 0.833…
      c('S2', '-3', '5500', '-10'), // bankrupt: not ranked
    ]);
    expect(ranks.map((r) => [r.accountId, r.side, r.score.toDecimalPlaces(4).toFixed(), r.quantile])).toEqual(
      [
        ['L2', 'long', '1.1111', 5],
        ['L1', 'long', '1', 3],
        ['S1', 'short', '0.8333', 5],
      ],
    );
  });

  it('an account at exactly zero equity (or a flat one) does not rank: no infinite leverage, no NaN score', () => {
    const ranks = adlRanking([
      c('Z1', '1', '4000', '0'), // equity 0: leverage would be 5,000 / 0
      c('F1', '0', '4000', '100'), // flat: nothing to close
      c('L1', '2', '4000', '2500'),
    ]);
    expect(ranks.map((r) => r.accountId)).toEqual(['L1']);
    expect(ranks.every((r) => r.score.isFinite() && r.effectiveLeverage.isFinite())).toBe(true);
  });
});
