import { z } from 'zod';
import { Decimal } from '../decimal.ts';

const DECIMAL_PATTERN = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/**
 * Money and quantities cross the edges as decimal strings so no float ever touches them.
 * A JSON number is refused on purpose: it has already been through a float by the time we see it.
 */
export const decimalString = z
  .string({
    error: (issue) =>
      issue.input === undefined
        ? 'required'
        : `expected a decimal string like "410.25", got ${issue.input === null ? 'null' : typeof issue.input}`,
  })
  .trim()
  .regex(DECIMAL_PATTERN, { error: (issue) => `not a decimal number: ${JSON.stringify(issue.input)}` })
  .transform((s) => new Decimal(s));

export const positiveDecimal = decimalString.refine((d) => d.greaterThan(0), {
  error: 'must be greater than 0',
});
export const nonNegativeDecimal = decimalString.refine((d) => d.greaterThanOrEqualTo(0), {
  error: 'must not be negative',
});
/** A rate as a fraction: "0.25" is 25%. */
export const rate = decimalString.refine((d) => d.greaterThanOrEqualTo(0) && d.lessThanOrEqualTo(1), {
  error: 'must be a fraction between 0 and 1 (e.g. "0.25" for 25%)',
});
export const positiveRate = rate.refine((d) => d.greaterThan(0), { error: 'must be greater than 0' });

/**
 * Cross-field checks run even when a field failed to parse (zod reports every issue at once); they
 * must only compare values that did parse, or a typo would crash instead of naming its field.
 */
export function allDecimal(...values: unknown[]): boolean {
  return values.every((v) => v instanceof Decimal);
}
