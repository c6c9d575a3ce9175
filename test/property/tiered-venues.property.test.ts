import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../shared/decimal.ts';
import { evaluateBook } from '../helpers/book.ts';
import { scaled } from '../helpers/scale.ts';

/**
 * On the entry basis an isolated position's maintenance is one constant, MM = entry notional · rate −
 * amount of the entry notional's tier, so its venue prices have the closed forms the venues publish
 * (Bybit's LP = entry − (IM − MM)/size, KuCoin's LP = [HP·Vol·S ∓ (IM − MM)]/(Vol·S)), here with a closing
 * fee f on the exit: margin + x·(p − entry) − f·|x|·p = MM (liquidation) or 0 (bankruptcy), x = q·k,
 * so p = (threshold − margin + x·entry) / (x − f·|x|). The engine solves the same on its price axis.
 */
const TABLES = [
  [{ upTo: null, maintenanceRate: '0.005', maxLeverage: '125' }],
  [
    { upTo: '50000', maintenanceRate: '0.004', maxLeverage: '125', maintenanceAmount: '0' },
    { upTo: '250000', maintenanceRate: '0.005', maxLeverage: '100', maintenanceAmount: '50' },
    { upTo: '1000000', maintenanceRate: '0.01', maxLeverage: '50', maintenanceAmount: '1300' },
    { upTo: null, maintenanceRate: '0.025', maxLeverage: '20' },
  ],
];

const cents = (min: number, max: number) =>
  fc.integer({ min, max }).map((n) => new Decimal(n).dividedBy(100));

describe('tiered venue prices (property): entry basis and closing fee match the closed forms', () => {
  it('isolated positions: liquidation and bankruptcy prices', () => {
    fc.assert(
      fc.property(
        fc.record({
          table: fc.constantFrom(...TABLES),
          quantity: fc.integer({ min: 1, max: 5_000 }).map((n) => new Decimal(n).dividedBy(100)),
          short: fc.boolean(),
          multiplier: fc.constantFrom('1', '0.001', '10'),
          entry: cents(100_00, 90_000_00),
          move: fc.integer({ min: -5, max: 5 }), // mark within ±5% of the entry
          leverage: fc.constantFrom('2', '5', '10', '20'),
          fee: fc.constantFrom('0', '0.00055', '0.0006', '0.00075'),
        }),
        ({ table, quantity, short, multiplier, entry, move, leverage, fee }) => {
          const q = short ? quantity.negated() : quantity;
          const price = entry
            .times(100 + move)
            .dividedBy(100)
            .toDecimalPlaces(2);
          const e = evaluateBook(
            {
              model: 'tiered',
              cash: '0',
              params: { mode: 'isolated', tiers: table, maintenanceBasis: 'entry', closingFeeRate: fee },
            },
            [
              {
                instrument: 'X',
                quantity: q.toFixed(),
                multiplier,
                avgCost: entry.toFixed(),
                price: price.toFixed(),
                leverage,
              },
            ],
          );
          const x = q.times(multiplier);
          const notional = x.abs().times(entry);
          const margin = notional.dividedBy(leverage);
          const tier = table.findIndex((t) => t.upTo === null || notional.lessThanOrEqualTo(t.upTo));
          // The continuous amounts of the second table: 0, 50, 1,300, 1,000,000 · 1.5% + 1,300 = 16,300.
          const amount = table.length === 1 ? 0 : [0, 50, 1300, 16300][tier]!;
          const mm = notional.times(table[tier]!.maintenanceRate).minus(amount);
          expect(e.maintenanceRequirement.equals(mm)).toBe(true);
          const slope = x.minus(x.abs().times(fee));
          // Already at or past the threshold today: the engine answers today's price.
          const solved = (threshold: Decimal) =>
            margin
              .plus(x.times(price.minus(entry)))
              .minus(x.abs().times(fee).times(price))
              .lessThanOrEqualTo(threshold)
              ? price
              : threshold.minus(margin).plus(x.times(entry)).dividedBy(slope);
          const same = (engine: Decimal | null | undefined, form: Decimal) =>
            expect(engine?.toSignificantDigits(30).toFixed() ?? null).toBe(
              form.isPositive() ? form.toSignificantDigits(30).toFixed() : null,
            );
          same(e.positions[0]!.liquidationPrice, solved(mm));
          same(e.positions[0]!.bankruptcyPrice, solved(new Decimal(0)));
        },
      ),
      { numRuns: scaled(200, 1000) },
    );
  });
});
