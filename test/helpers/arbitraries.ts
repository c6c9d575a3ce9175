import fc from 'fast-check';

/** A decimal string with `scale` fraction digits from an integer count of its smallest unit (no float involved). */
export function fixedPoint(minUnits: number, maxUnits: number, scale: number): fc.Arbitrary<string> {
  return fc.integer({ min: minUnits, max: maxUnits }).map((units) => unitsToString(BigInt(units), scale));
}

export function unitsToString(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale);
  return `${negative ? '-' : ''}${whole}${scale > 0 ? `.${frac}` : ''}`;
}

export const MODELS_WITH_SHORTS = ['gross', 'reg-t', 'tiered', 'portfolio'] as const;

export interface GeneratedPosition {
  instrument: string;
  quantity: string;
  avgCost: string;
  price: string;
  leverage?: string;
}

/** Prices $0.50–$5,000.0000 in 4 decimals; whole-share quantities; costs near the price. */
export function positionArb(index: number, allowShorts: boolean): fc.Arbitrary<GeneratedPosition> {
  return fc
    .record({
      quantity: fc.integer({ min: allowShorts ? -2000 : 1, max: 2000 }).filter((q) => q !== 0),
      price: fixedPoint(5_000, 50_000_000, 4),
      avgCost: fixedPoint(5_000, 50_000_000, 4),
    })
    .map((p) => ({
      instrument: `I${index}`,
      quantity: String(p.quantity),
      avgCost: p.avgCost,
      price: p.price,
      leverage: '2',
    }));
}

export function bookArb(allowShorts: boolean, maxPositions = 6) {
  return fc.integer({ min: 1, max: maxPositions }).chain((n) =>
    fc.record({
      cash: fixedPoint(-5_000_000_00, 5_000_000_00, 2),
      positions: fc.tuple(...Array.from({ length: n }, (_, i) => positionArb(i, allowShorts))),
    }),
  );
}
