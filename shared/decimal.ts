import { Decimal as DecimalJs } from 'decimal.js';

/**
 * The one Decimal used across the domain. 40 significant digits keeps every sum and product of
 * realistic money exact and leaves divisions (ratios, solved moves) accurate far below a cent.
 * Banker's rounding so repeated rounding does not drift one way.
 */
export const Decimal = DecimalJs.clone({
  precision: 40,
  rounding: DecimalJs.ROUND_HALF_EVEN,
  toExpNeg: -30,
  toExpPos: 40,
});
export type Decimal = InstanceType<typeof Decimal>;

export const ZERO = new Decimal(0);
export const ONE = new Decimal(1);

export function sum(values: Iterable<Decimal>): Decimal {
  let total = ZERO;
  for (const v of values) total = total.plus(v);
  return total;
}

export function max(a: Decimal, b: Decimal): Decimal {
  return a.greaterThanOrEqualTo(b) ? a : b;
}

export function min(a: Decimal, b: Decimal): Decimal {
  return a.lessThanOrEqualTo(b) ? a : b;
}

/** Decimal places kept at the edges (JSON, DynamoDB) for derived values such as ratios and solved prices. */
export const EDGE_DECIMAL_PLACES = 12;

/** A decimal string for the edges: plain notation (never exponent), trailing zeros dropped. */
export function toEdge(value: Decimal, places: number = EDGE_DECIMAL_PLACES): string {
  const rounded = value.toDecimalPlaces(places, Decimal.ROUND_HALF_EVEN);
  return rounded.isZero() ? '0' : rounded.toFixed();
}

export function toEdgeOrNull(value: Decimal | null, places?: number): string | null {
  return value === null ? null : toEdge(value, places);
}
