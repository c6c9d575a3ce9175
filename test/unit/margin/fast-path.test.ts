import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../shared/decimal.ts';
import { compiledPosition } from '../../../shared/margin/fast/compile.ts';
import { decimalOf, decimalOfByString, scaledOf } from '../../../shared/margin/fast/scaled.ts';
import { buildBook, parseEvaluationInput } from '../../../shared/margin/evaluate.ts';

/** decimal.js's own representation: equal values must also be laid out alike (the fast path builds it). */
function layout(d: Decimal) {
  return { s: d.s, e: d.e, d: d.d };
}

describe('scaled integers', () => {
  it('reads mantissa, scale and digit count off worked examples', () => {
    const cases: [string, bigint, number, number][] = [
      ['123.45', 12345n, 2, 5],
      ['100', 100n, 0, 3],
      ['0.5', 5n, 1, 1],
      ['-0.00012', -12n, 5, 2],
      ['0', 0n, 0, 1],
      ['12345678901234567890.5', 123456789012345678905n, 1, 21],
    ];
    for (const [text, m, s, digits] of cases) {
      const scaled = scaledOf(new Decimal(text));
      expect([scaled.m, scaled.s, scaled.digits], text).toEqual([m, s, digits]);
    }
  });

  it('round-trips every decimal and builds the same layout decimal.js parses', () => {
    const mantissa = fc.oneof(
      fc.bigInt({ min: -(10n ** 16n), max: 10n ** 16n }),
      fc.bigInt({ min: -(10n ** 38n), max: 10n ** 38n }),
      fc.integer({ min: 0, max: 30 }).map((k) => 10n ** BigInt(k)),
    );
    fc.assert(
      fc.property(mantissa, fc.integer({ min: 0, max: 40 }), (m, s) => {
        const reference = decimalOfByString(m, s);
        const built = decimalOf(m, s);
        expect(layout(built)).toEqual(layout(reference));
        const back = scaledOf(reference);
        expect(decimalOf(back.m, back.s).toFixed()).toBe(reference.toFixed());
        if (!Number.isNaN(back.n)) expect(decimalOf(back.n, back.s).toFixed()).toBe(reference.toFixed());
        // A built decimal must behave in arithmetic exactly like a parsed one.
        expect(built.dividedBy(7).toFixed()).toBe(reference.dividedBy(7).toFixed());
      }),
      { numRuns: 3000 },
    );
  });
});

describe('compiled requirement tables', () => {
  it('a Reg T short of 100 shares: pieces worked by hand', () => {
    const { model, book } = buildBook(
      parseEvaluationInput({
        account: { id: 'T', model: 'reg-t', cash: '10000' },
        positions: [{ instrument: 'X', quantity: '-100', price: '20' }],
      }),
    );
    const form = model.separable!(book);
    const table = compiledPosition(form.rule, book.positions[0]!)!;
    const text = (xs: readonly { m: bigint; s: number }[]) => xs.map((x) => decimalOf(x.m, x.s).toFixed());
    // Breakpoints: $2.50 and $5 (low-priced short rules), $5/0.30 (per-share minimum meets 30%), and for
    // the initial requirement $10 (50% meets the $5 minimum).
    expect(table.bps.map((b) => b.toFixed(4))).toEqual(['2.5000', '5.0000', '10.0000', '16.6667']);
    expect(table.maintenanceBreak).toEqual([true, true, false, true]);
    // maintenance: $250 flat; 100% of value; $5/share flat (twice: no maintenance break at $10); 30%
    expect(text(table.maintenanceA)).toEqual(['250', '0', '500', '500', '0']);
    expect(text(table.maintenanceB)).toEqual(['0', '100', '0', '0', '30']);
    // initial = max(50% of value, maintenance): $250; 100%; $500; then 50% from $10 up
    expect(text(table.initialA)).toEqual(['250', '0', '500', '0', '0']);
    expect(text(table.initialB)).toEqual(['0', '100', '0', '50', '50']);
  });
});
