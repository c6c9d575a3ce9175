import { Decimal, ZERO, sum } from '../decimal.ts';

export interface Drawdown {
  /** Largest peak-to-trough fall as a fraction of the peak. */
  maxDrawdown: Decimal;
  amount: Decimal;
  peakIndex: number;
  troughIndex: number;
}

export function maxDrawdown(series: readonly Decimal[]): Drawdown {
  let best: Drawdown = { maxDrawdown: ZERO, amount: ZERO, peakIndex: 0, troughIndex: 0 };
  let peakIndex = 0;
  series.forEach((value, i) => {
    if (value.greaterThan(series[peakIndex]!)) peakIndex = i;
    const peak = series[peakIndex]!;
    if (peak.lessThanOrEqualTo(0)) return; // a fraction of a peak at or below zero is no fraction (÷ 0)
    const amount = peak.minus(value);
    const fraction = amount.dividedBy(peak);
    if (fraction.greaterThan(best.maxDrawdown))
      best = { maxDrawdown: fraction, amount, peakIndex, troughIndex: i };
  });
  return best;
}

export function simpleReturns(series: readonly Decimal[]): Decimal[] {
  const out: Decimal[] = [];
  for (let i = 1; i < series.length; i++) out.push(series[i]!.dividedBy(series[i - 1]!).minus(1));
  return out;
}

/**
 * Historical VaR: the loss not exceeded with probability `confidence`, from observed returns: the k-th
 * worst return with k = ceil((1 − confidence)·n), as a loss on `value` (0 if that return is a gain).
 */
export function historicalVaR(returns: readonly Decimal[], confidence: Decimal, value: Decimal): Decimal {
  if (returns.length === 0) throw new RangeError('historical VaR needs at least one return');
  const sorted = [...returns].sort((a, b) => a.comparedTo(b));
  const k = Math.max(1, new Decimal(1).minus(confidence).times(sorted.length).ceil().toNumber()); // a count
  return Decimal.max(ZERO, sorted[k - 1]!.negated()).times(value);
}

/** Inverse standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). A z-score, not money. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError('probability must be in (0, 1)');
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  const poly = (coef: number[], x: number) => coef.reduce((acc, k) => acc * x + k, 0);
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return poly(c, q) / (poly(d, q) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (poly(a, r) * q) / (poly(b, r) * r + 1);
}

/** Parametric (normal) VaR: (z·σ − μ)·value with the sample mean and standard deviation of returns. */
export function parametricVaR(returns: readonly Decimal[], confidence: Decimal, value: Decimal): Decimal {
  if (returns.length < 2) throw new RangeError('parametric VaR needs at least two returns');
  const n = returns.length;
  const mean = sum(returns).dividedBy(n);
  const variance = sum(returns.map((r) => r.minus(mean).pow(2))).dividedBy(n - 1);
  const z = new Decimal(normalQuantile(confidence.toNumber()).toFixed(12));
  return Decimal.max(ZERO, z.times(variance.sqrt()).minus(mean)).times(value);
}
