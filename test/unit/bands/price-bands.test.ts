import { describe, expect, it } from 'vitest';
import { guardBands } from '../../../shared/bands/guard-bands.ts';
import type { BandSet } from '../../../shared/bands/price-bands.ts';
import { buildBook, parseEvaluationInput } from '../../../shared/margin/evaluate.ts';
import type { RiskLevel } from '../../../shared/risk/levels.ts';
import type { RawPosition } from '../../helpers/book.ts';

/** Bands as plain strings: { instrument: [low, high] }, or the reason an account cannot be banded. */
function bands(
  account: Record<string, unknown>,
  positions: RawPosition[],
  level: RiskLevel,
  inMarginCall = false,
): Record<string, [string | null, string | null]> | string {
  const { model, book } = buildBook(parseEvaluationInput({ account: { id: 'T', ...account }, positions }), {
    asOf: '2026-01-05',
  });
  const set: BandSet = guardBands(model, book, { level, inMarginCall });
  if (set.kind === 'always') return set.reason;
  return Object.fromEntries(
    set.bands.map((b) => [b.instrument, [b.low?.toFixed() ?? null, b.high?.toFixed() ?? null]]),
  );
}

// Band edges are exact roots pushed a hair inwards (1e-30 relative) and rounded inwards to 12 significant
// digits: 80 is stored as 80.0000000001, 10 as 9.99999999999.
describe('guard bands, worked examples', () => {
  it('gross, SAFE: 100 @ 100 with a 4,000 loan stays SAFE above 80 (100p − 4,000 > 2 · 25p)', () => {
    expect(
      bands(
        { model: 'gross', cash: '-4000' },
        [{ instrument: 'SPY', quantity: '100', price: '100', avgCost: '100' }],
        'SAFE',
      ),
    ).toEqual({ SPY: ['80.0000000001', null] });
  });

  it('gross, WARNING: falls to CRITICAL at 80, recovers past 2.05 at 5,000 / 48.75 = 102.5641…', () => {
    // 100p − 5,000 ≥ 1.5 · 25p ⇔ p ≥ 80;  100p − 5,000 ≤ 2.05 · 25p ⇔ p ≤ 102.564102564102…
    expect(
      bands(
        { model: 'gross', cash: '-5000' },
        [{ instrument: 'SPY', quantity: '100', price: '100', avgCost: '100' }],
        'WARNING',
      ),
    ).toEqual({ SPY: ['80.0000000001', '102.564102564'] });
  });

  it('two instruments split the slack by dollar exposure, so the worst corner lands exactly on the line', () => {
    // E = 9,000, M = 3,750, slack to 2.0 = 1,500: A (10,000 of 15,000) gets 1,000, B gets 500.
    // The gap loses 100 − 2·25 = 50 per dollar of either: A may fall 20, B 10. At (80, 40): 6,000 / 3,000 = 2.
    expect(
      bands(
        { model: 'gross', cash: '-6000' },
        [
          { instrument: 'A', quantity: '100', price: '100', avgCost: '100' },
          { instrument: 'B', quantity: '100', price: '50', avgCost: '50' },
        ],
        'SAFE',
      ),
    ).toEqual({ A: ['80.0000000001', null], B: ['40.0000000001', null] });
  });

  it('in a call at LIQUIDATION: only recovery bounds, the nearest being the call resolving at 1.05', () => {
    // 100p − 8,000 < 1.05 · 25p ⇔ p < 8,000 / 73.75 = 108.4745762711…; LIQUIDATION+h (1.25) only at 116.36.
    expect(
      bands(
        { model: 'gross', cash: '-8000' },
        [{ instrument: 'SPY', quantity: '100', price: '100', avgCost: '100' }],
        'LIQUIDATION',
        true,
      ),
    ).toEqual({ SPY: [null, '108.474576271'] });
  });

  it('Reg T short: a rise to 10 breaks SAFE while the $5/share minimum binds; a fall never does', () => {
    // 1,000 short at 8 with 20,000 cash: E = 20,000 − 1,000p, M = max(300p, 5,000) = 5,000 up to 16.67.
    // 20,000 − 1,000p > 2 · 5,000 ⇔ p < 10.
    expect(
      bands(
        { model: 'reg-t', cash: '20000' },
        [{ instrument: 'XYZ', quantity: '-1000', price: '8', avgCost: '8' }],
        'SAFE',
      ),
    ).toEqual({ XYZ: [null, '9.99999999999'] });
  });

  it('tiered: the band edge lies across a tier bound, and the lower tier sets it', () => {
    // Wallet 12,000, 1 BTC long from 60,000. Above 50,000 notional M = 5% − 2,000; below, 1%.
    // Tier 2 alone would put the SAFE edge at 44,000 / 0.9 = 48,888.9 — but that is in tier 1, where
    // (p − 48,000) − 2 · 0.01p > 0 ⇔ p > 48,000 / 0.98 = 48,979.5918367…
    const tiered = {
      model: 'tiered',
      cash: '12000',
      params: {
        tiers: [
          { upTo: '50000', maintenanceRate: '0.01', maxLeverage: '50' },
          { upTo: null, maintenanceRate: '0.05', maxLeverage: '10' },
        ],
      },
    };
    expect(
      bands(
        tiered,
        [{ instrument: 'BTC', quantity: '1', price: '60000', avgCost: '60000', leverage: '10' }],
        'SAFE',
      ),
    ).toEqual({ BTC: ['48979.5918368', null] });
  });

  it('portfolio: a hedged book gets bounds from each position’s worst scenario coefficient', () => {
    // 100 A @ 100 long, 50 B @ 50 short, both equity: worst scenario −15%: 1,500 − 375 = 1,125.
    // E = 3,500, slack to 2.0 = 1,250: A gets 80% (1,000), B 20% (250).
    // A falling: the gap loses 100 + 2·15 = 130 per dollar → 100 − 1,000/130 = 92.3076923…
    // B rising: the gap loses 50 + 2·7.5 = 65 per dollar → 50 + 250/65 = 53.8461538…
    expect(
      bands(
        { model: 'portfolio', cash: '-4000' },
        [
          { instrument: 'A', quantity: '100', price: '100' },
          { instrument: 'B', quantity: '-50', price: '50' },
        ],
        'SAFE',
      ),
    ).toEqual({ A: ['92.3076923077', null], B: [null, '53.8461538461'] });
  });

  it('cash account without a debit: nothing a price can do changes it', () => {
    expect(
      bands({ model: 'cash', cash: '100' }, [{ instrument: 'A', quantity: '10', price: '100' }], 'SAFE'),
    ).toEqual({ A: [null, null] });
  });

  it('the large-account switch is a band edge: below 1,000,000 of equity the thresholds change', () => {
    // 10,000 @ 200 with an 800,000 loan: E = 1.2M, thresholds × 1.1 (warning 2.2). SAFE holds down to
    // 177.78, but equity falls through 1,000,000 at p = 180, where the thresholds drop back to 2.0.
    expect(
      bands(
        {
          model: 'gross',
          cash: '-800000',
          riskContext: { strategyRisk: 'medium', volatilityRegime: 'normal' },
        },
        [{ instrument: 'SPY', quantity: '10000', price: '200', avgCost: '200' }],
        'SAFE',
      ),
    ).toEqual({ SPY: ['180.000000001', null] });
  });

  it('no room: a ratio sitting exactly on a threshold keeps the account on the always-evaluate path', () => {
    // 100 @ 100, loan 6,250: 3,750 / 2,500 = 1.5 exactly — WARNING, on the line to CRITICAL.
    expect(
      bands(
        { model: 'gross', cash: '-6250' },
        [{ instrument: 'SPY', quantity: '100', price: '100', avgCost: '100' }],
        'WARNING',
      ),
    ).toBe('no room: stays at or above critical');
  });

  it('a tracked level that today’s prices contradict has no room either', () => {
    expect(
      bands(
        { model: 'gross', cash: '-4000' },
        [{ instrument: 'SPY', quantity: '100', price: '100', avgCost: '100' }],
        'CRITICAL',
      ),
    ).toBe('no room: does not recover past critical + hysteresis');
  });
});
