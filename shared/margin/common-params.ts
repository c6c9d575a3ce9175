import { Decimal } from '../decimal.ts';
import { decimalString } from '../schemas/decimal-string.ts';

export const commonParamsShape = {
  callRatio: decimalString
    .refine((d) => d.greaterThan(0), { error: 'must be greater than 0' })
    .default(() => new Decimal(1)),
};

/** A rate param with a default, written once so every model reads the same. */
export function rateParam(defaultValue: string) {
  return decimalString
    .refine((d) => d.greaterThanOrEqualTo(0) && d.lessThanOrEqualTo(1), {
      error: 'must be a fraction between 0 and 1 (e.g. "0.25" for 25%)',
    })
    .default(() => new Decimal(defaultValue));
}

export function moneyParam(defaultValue: string) {
  return decimalString
    .refine((d) => d.greaterThanOrEqualTo(0), { error: 'must not be negative' })
    .default(() => new Decimal(defaultValue));
}
