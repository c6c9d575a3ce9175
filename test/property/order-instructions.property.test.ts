import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../shared/decimal.ts';
import { executionMethodSchema, instruct, twapSlices } from '../../shared/deleverage/order-instructions.ts';
import { scaled } from '../helpers/scale.ts';

describe('order instructions (properties)', () => {
  it('TWAP slices are positive, whole lots but the last, add up to the order exactly, and respect the participation cap when lots allow', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5_000 }),
        fc.constantFrom('1', '10', '100', '0.01'),
        fc.integer({ min: 0, max: 99 }),
        fc.integer({ min: 1, max: 480 }),
        fc.integer({ min: 1, max: 60 }),
        fc.option(fc.integer({ min: 1, max: 10_000_000 }), { nil: undefined }),
        (lots, lotText, extraHundredths, windowMinutes, sliceMinutes, adv) => {
          const lot = new Decimal(lotText);
          // A quantity of whole lots, sometimes plus a fraction of one (a full close of an odd position).
          const quantity = lot.times(lots).plus(lot.times(extraHundredths).dividedBy(100));
          const method = executionMethodSchema.parse({
            type: 'twap',
            windowMinutes,
            sliceMinutes,
            maxParticipation: '0.1',
          });
          if (method.type !== 'twap') throw new Error('unreachable');
          const position = {
            lotSize: lot,
            averageDailyVolume: adv === undefined ? undefined : new Decimal(adv),
          };
          const slices = twapSlices(quantity, position, method, new Date('2026-03-02T14:30:00Z'));
          const total = slices.reduce((s, x) => s.plus(x.quantity), new Decimal(0));
          expect(total.equals(quantity)).toBe(true);
          for (const s of slices) expect(s.quantity.greaterThan(0)).toBe(true);
          for (const s of slices.slice(0, -1)) expect(s.quantity.dividedBy(lot).isInteger()).toBe(true);
          expect(slices.length).toBeGreaterThanOrEqual(
            Math.min(Math.ceil(windowMinutes / sliceMinutes), quantity.dividedBy(lot).ceil().toNumber()),
          );
          if (adv !== undefined) {
            const capLots = Math.max(1, Math.floor((adv * 0.1 * sliceMinutes) / 390 / Number(lotText)));
            for (const s of slices.slice(0, -1))
              expect(s.quantity.dividedBy(lot).toNumber()).toBeLessThanOrEqual(
                Math.max(capLots, Math.ceil(quantity.dividedBy(lot).toNumber() / slices.length)),
              );
          }
          // Slices start one slice apart, from now.
          slices.forEach((s, i) =>
            expect(Date.parse(s.startAt)).toBe(
              Date.parse('2026-03-02T14:30:00Z') + i * sliceMinutes * 60_000,
            ),
          );
        },
      ),
      { numRuns: scaled(60, 200) },
    );
  });

  it('a limit or stop price is never better for us than the reference: a sell bounds below, a buy above', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.constantFrom('SELL', 'BUY') as fc.Arbitrary<'SELL' | 'BUY'>,
        fc.integer({ min: 1, max: 4_999 }),
        fc.constantFrom('limit', 'stop'),
        (cents, side, bp, type) => {
          const referencePrice = new Decimal(cents).dividedBy(100);
          const f = new Decimal(bp).dividedBy(10_000).toFixed();
          const method = executionMethodSchema.parse(
            type === 'limit' ? { type, maxSlippage: f } : { type, triggerOffset: f },
          );
          const i = instruct(
            { side, quantity: new Decimal(1), referencePrice },
            { lotSize: new Decimal(1) },
            method,
            new Date(0),
          );
          const price = (i.limitPrice ?? i.stopPrice)!;
          expect(i.reduceOnly).toBe(true);
          if (side === 'SELL') expect(price.lessThan(referencePrice)).toBe(true);
          else expect(price.greaterThan(referencePrice)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
