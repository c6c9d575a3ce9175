import type { EvaluateOptions } from '../../shared/margin/evaluate.ts';
import { evaluate } from '../../shared/margin/evaluate.ts';
import type { Evaluation } from '../../shared/margin/evaluation.ts';

export interface RawPosition {
  instrument: string;
  quantity: string;
  price: string;
  avgCost?: string;
  [key: string]: unknown;
}

/** Evaluates a book written the way users write it: decimal strings. */
export function evaluateBook(
  account: { id?: string; model: string; cash: string; [key: string]: unknown },
  positions: RawPosition[],
  options: EvaluateOptions = {},
): Evaluation {
  return evaluate({ account: { id: 'T1', ...account }, positions }, { asOf: '2026-01-05', ...options });
}

/** Decimal → plain string, for readable assertions against hand-computed values. */
export function s(value: { toFixed(): string } | null | undefined): string | null {
  return value == null ? null : value.toFixed();
}

/** Rounded to `places` decimals, for checking hand-rounded figures like 84.23. */
export function r(
  value: { toDecimalPlaces(n: number): { toFixed(): string } } | null | undefined,
  places = 2,
): string | null {
  return value == null ? null : value.toDecimalPlaces(places).toFixed();
}
