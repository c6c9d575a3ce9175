import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../shared/decimal.ts';
import { parseEvaluationInput } from '../../../shared/margin/evaluate.ts';
import { DEFAULT_THRESHOLDS } from '../../../shared/risk/levels.ts';
import {
  historicalVaR,
  maxDrawdown,
  normalQuantile,
  parametricVaR,
  simpleReturns,
} from '../../../shared/risk/metrics.ts';
import { DEFAULT_STRESS_SCENARIOS, stressTest } from '../../../shared/risk/stress.ts';

const ds = (...v: string[]) => v.map((x) => new Decimal(x));

describe('risk metrics', () => {
  it('max drawdown: 120 → 60 is 50%', () => {
    const dd = maxDrawdown(ds('100', '120', '90', '110', '60', '80'));
    expect(dd.maxDrawdown.toFixed()).toBe('0.5');
    expect(dd.amount.toFixed()).toBe('60');
    expect([dd.peakIndex, dd.troughIndex]).toEqual([1, 4]);
  });

  it('max drawdown skips peaks at or below zero (a fraction of them would be ÷ 0)', () => {
    const dd = maxDrawdown(ds('0', '-50', '-20', '40', '10'));
    expect(dd.maxDrawdown.toFixed()).toBe('0.75');
    expect(dd.amount.toFixed()).toBe('30');
    expect(maxDrawdown(ds('0', '-10')).maxDrawdown.isFinite()).toBe(true);
  });

  it('simple returns', () => {
    expect(simpleReturns(ds('100', '110', '99')).map((r) => r.toFixed())).toEqual(['0.1', '-0.1']);
  });

  it('historical VaR: the k-th worst return, k = ceil((1 − c)·n)', () => {
    const r = ds('-0.05', '-0.02', '0.01', '0.03', '-0.10', '0.02', '0', '-0.01', '0.04', '0.05');
    expect(historicalVaR(r, new Decimal('0.9'), new Decimal('10000')).toFixed()).toBe('1000'); // worst: −10%
    expect(historicalVaR(r, new Decimal('0.8'), new Decimal('10000')).toFixed()).toBe('500'); // 2nd worst: −5%
    expect(historicalVaR(ds('0.01', '0.02'), new Decimal('0.5'), new Decimal('100')).toFixed()).toBe('0'); // only gains
  });

  it('parametric VaR: z(95%)·σ − μ', () => {
    expect(normalQuantile(0.95)).toBeCloseTo(1.644854, 6);
    expect(normalQuantile(0.99)).toBeCloseTo(2.326348, 6);
    // μ = 0, σ = √(2·0.0001 / 1) = 0.0141421…; 1.644854 × 0.0141421 × 10,000 = 232.62
    const v = parametricVaR(ds('0.01', '-0.01'), new Decimal('0.95'), new Decimal('10000'));
    expect(v.toDecimalPlaces(2).toFixed()).toBe('232.62');
  });

  it('stress-tests a book over named scenarios', () => {
    const input = parseEvaluationInput({
      account: { id: 'S', model: 'reg-t', cash: '-5000' },
      positions: [{ instrument: 'SPY', quantity: '100', price: '100' }],
    });
    const results = stressTest(input, DEFAULT_STRESS_SCENARIOS, DEFAULT_THRESHOLDS);
    const covid = results.find((r) => r.scenario.startsWith('COVID'))!;
    // 6,600 − 5,000 = 1,600 equity; maintenance 1,650 → ratio 0.9697, in call.
    expect(covid.pnl.toFixed()).toBe('-3400');
    expect(covid.marginRatio!.toDecimalPlaces(4).toFixed()).toBe('0.9697');
    expect(covid.level).toBe('LIQUIDATION');
    expect(covid.inMarginCall).toBe(true);
    const crypto = results.find((r) => r.scenario.startsWith('crypto'))!;
    expect(crypto.pnl.toFixed()).toBe('0');
  });
});
