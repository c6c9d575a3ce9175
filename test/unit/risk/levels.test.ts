import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../shared/decimal.ts';
import { parseOrThrow } from '../../../shared/errors.ts';
import { adjustThresholds } from '../../../shared/risk/dynamic-thresholds.ts';
import {
  DEFAULT_THRESHOLDS as T,
  classify,
  rawLevel,
  thresholdsSchema,
} from '../../../shared/risk/levels.ts';

const d = (v: string) => new Decimal(v);
const E = d('1000');

describe('risk levels', () => {
  it.each([
    ['2.01', 'SAFE'],
    ['2.0', 'WARNING'],
    ['1.5', 'WARNING'],
    ['1.49', 'CRITICAL'],
    ['1.2', 'CRITICAL'],
    ['1.19', 'LIQUIDATION'],
    ['-0.5', 'LIQUIDATION'],
  ])('ratio %s is %s', (ratio, level) => {
    expect(rawLevel(d(ratio), E, T)).toBe(level);
  });

  it('no requirement: SAFE, unless equity is negative', () => {
    expect(rawLevel(null, E, T)).toBe('SAFE');
    expect(rawLevel(null, d('-1'), T)).toBe('LIQUIDATION');
  });

  it('escalates at once but recovers only past threshold + buffer (0.05)', () => {
    expect(classify(d('1.49'), E, 'WARNING', T)).toBe('CRITICAL');
    expect(classify(d('1.52'), E, 'CRITICAL', T)).toBe('CRITICAL'); // above 1.5 but inside the buffer
    expect(classify(d('1.55'), E, 'CRITICAL', T)).toBe('WARNING');
    expect(classify(d('2.04'), E, 'WARNING', T)).toBe('WARNING');
    expect(classify(d('2.06'), E, 'WARNING', T)).toBe('SAFE');
    // A jump from LIQUIDATION to 1.7 lands in the best level it has cleared: WARNING.
    expect(classify(d('1.7'), E, 'LIQUIDATION', T)).toBe('WARNING');
    expect(classify(d('1.22'), E, 'LIQUIDATION', T)).toBe('LIQUIDATION');
  });

  it('does not flap on a ratio oscillating around a threshold', () => {
    let level = classify(d('1.6'), E, null, T);
    const seen = [level];
    for (const r of ['1.49', '1.51', '1.49', '1.53', '1.48', '1.54']) {
      level = classify(d(r), E, level, T);
      seen.push(level);
    }
    expect(seen).toEqual(['WARNING', 'CRITICAL', 'CRITICAL', 'CRITICAL', 'CRITICAL', 'CRITICAL', 'CRITICAL']);
  });

  it('validates thresholds: strictly ordered, buffer narrower than a band', () => {
    const parse = (t: object) => () => parseOrThrow(thresholdsSchema, t, ['thresholds']);
    expect(parse({ warning: '1.5', critical: '1.5' })).toThrow(
      'thresholds.critical: must be below warning (1.5)',
    );
    expect(parse({ critical: '1.1', liquidation: '1.2' })).toThrow(
      'thresholds.liquidation: must be below critical (1.1)',
    );
    expect(parse({ hysteresis: '0.3' })).toThrow(
      /thresholds\.hysteresis: must be smaller than the narrowest band \(0\.3\)/,
    );
    expect(parse({ warning: 'x' })).toThrow('thresholds.warning: not a decimal number: "x"');
  });

  it('adjusts thresholds up for strategy, volatility and account size', () => {
    const calm = adjustThresholds(T, d('50000'), { strategyRisk: 'medium', volatilityRegime: 'normal' });
    expect(calm.warning.toFixed()).toBe('2');
    const crisis = adjustThresholds(T, d('50000'), { strategyRisk: 'high', volatilityRegime: 'crisis' });
    expect(crisis.warning.toFixed()).toBe('2.99'); // 2 × 1.15 × 1.3
    expect(crisis.liquidation.toFixed()).toBe('1.794');
    const big = adjustThresholds(T, d('2000000'), { strategyRisk: 'medium', volatilityRegime: 'normal' });
    expect(big.critical.toFixed()).toBe('1.65');
    expect(big.hysteresis.toFixed()).toBe('0.05');
  });
});
