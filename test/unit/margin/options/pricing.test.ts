import fc from 'fast-check';
import { Decimal as DecimalJs } from 'decimal.js';
import { describe, expect, it } from 'vitest';
import {
  binomial,
  bjerksundStensland,
  blackScholes,
  blackScholesD,
  normalCdf,
  optionPrice,
  toDecimalPrice,
  type PricingInputs,
} from '../../../../shared/margin/options/pricing.ts';

/**
 * Sources: Hull, "Options, Futures, and Other Derivatives" (the Black–Scholes example: S 42, K 40, r 10%,
 * σ 20%, six months: d1 = 0.7693, d2 = 0.6278, c = 4.76, p = 0.81; the American put on a five-step tree:
 * S = K = 50, r 10%, σ 40%, five months: 4.49); Haug, "The Complete Guide to Option Pricing Formulas"
 * (2nd ed.), §1.1: S 60, K 65, three months, r 8%, σ 30%: c = 2.1334; the index put S 100, K 95, six months,
 * r 10%, q 5%, σ 20%: p = 2.4648. Published values are checked to the digits printed; the 1e-10 checks
 * are against an independent Black–Scholes in 60-digit decimal arithmetic (erf by its Taylor series).
 */

const round = (x: number, places: number) => Number(x.toFixed(places));

describe('Black–Scholes: published values', () => {
  it("Hull's example: d1, d2, call and put", () => {
    const base = { spot: 42, strike: 40, time: 0.5, rate: 0.1, volatility: 0.2 };
    const { d1, d2 } = blackScholesD({ ...base, right: 'call' });
    expect(round(d1, 4)).toBe(0.7693);
    expect(round(d2, 4)).toBe(0.6278);
    expect(round(blackScholes({ ...base, right: 'call' }).price, 2)).toBe(4.76);
    expect(round(blackScholes({ ...base, right: 'put' }).price, 2)).toBe(0.81);
  });

  it("Haug's examples: a stock call and an index put with a dividend yield", () => {
    expect(
      round(
        blackScholes({ right: 'call', spot: 60, strike: 65, time: 0.25, rate: 0.08, volatility: 0.3 }).price,
        4,
      ),
    ).toBe(2.1334);
    expect(
      round(
        blackScholes({
          right: 'put',
          spot: 100,
          strike: 95,
          time: 0.5,
          rate: 0.1,
          dividendYield: 0.05,
          volatility: 0.2,
        }).price,
        4,
      ),
    ).toBe(2.4648);
  });

  it('the normal CDF at known points', () => {
    // Φ(0) = 1/2 exactly; Φ(−x) = 1 − Φ(x); Φ(1.959963984540054) = 0.975 (the 97.5% quantile).
    expect(normalCdf(0)).toBe(0.5);
    expect(Math.abs(normalCdf(1.959963984540054) - 0.975)).toBeLessThan(1e-15);
    for (const x of [0.1, 0.7, 1.3, 2.9, 5.5, 8.2])
      expect(Math.abs(normalCdf(-x) + normalCdf(x) - 1)).toBeLessThan(1e-15);
  });
});

/** An independent Black–Scholes at 60 digits: erf by its Taylor series, decimal.js's exp, ln and sqrt. */
const D = DecimalJs.clone({ precision: 60 });
const SQRT2 = D.sqrt(2);
const SQRT_PI = D.acos(-1).sqrt();
function erf(z: DecimalJs): DecimalJs {
  let term = z;
  let total = z;
  for (let n = 1; n < 400; n++) {
    term = term.times(z).times(z).negated().dividedBy(n);
    const piece = term.dividedBy(2 * n + 1);
    total = total.plus(piece);
    if (piece.abs().lessThan('1e-58')) break;
  }
  return total.times(2).dividedBy(SQRT_PI);
}
// Past |x| = 9 the tail is below 1e-19 (Φ(−9) ≈ 1.1e-19): 0 or 1 to far better than 1e-10, and the series,
// whose terms reach e^{x²/2}, would need more digits than it is given.
const N = (x: DecimalJs) =>
  x.abs().greaterThan(9) ? new D(x.isPositive() ? 1 : 0) : erf(x.dividedBy(SQRT2)).plus(1).dividedBy(2);
function referenceBlackScholes(p: PricingInputs): number {
  const [S, K, T, r, q, v] = [p.spot, p.strike, p.time, p.rate, p.dividendYield ?? 0, p.volatility].map(
    (x) => new D(x),
  );
  const sd = v!.times(T!.sqrt());
  const d1 = S!
    .dividedBy(K!)
    .ln()
    .plus(r!.minus(q!).plus(v!.times(v!).dividedBy(2)).times(T!))
    .dividedBy(sd);
  const d2 = d1.minus(sd);
  const dq = q!.times(T!).negated().exp();
  const dr = r!.times(T!).negated().exp();
  const phi = p.right === 'call' ? 1 : -1;
  return S!
    .times(dq)
    .times(N(d1.times(phi)))
    .minus(K!.times(dr).times(N(d2.times(phi))))
    .times(phi)
    .toNumber();
}

const inputsArb = fc.record({
  right: fc.constantFrom('call' as const, 'put' as const),
  spot: fc.double({ min: 20, max: 200, noNaN: true }),
  strike: fc.double({ min: 20, max: 200, noNaN: true }),
  time: fc.double({ min: 0.02, max: 3, noNaN: true }),
  rate: fc.double({ min: 0, max: 0.1, noNaN: true }),
  dividendYield: fc.double({ min: 0, max: 0.06, noNaN: true }),
  volatility: fc.double({ min: 0.05, max: 1, noNaN: true }),
});

describe('Black–Scholes: to 1e-10', () => {
  it('agrees with the 60-digit reference', () => {
    fc.assert(
      fc.property(inputsArb, (p) => {
        const scale = Math.max(1, p.spot, p.strike);
        expect(Math.abs(blackScholes(p).price - referenceBlackScholes(p))).toBeLessThan(1e-10 * scale);
      }),
      { numRuns: 200 },
    );
    // …and so does Hull's call, to every digit the reference and float64 share.
    const hull = { right: 'call' as const, spot: 42, strike: 40, time: 0.5, rate: 0.1, volatility: 0.2 };
    expect(Math.abs(blackScholes(hull).price - referenceBlackScholes(hull))).toBeLessThan(1e-12);
  });

  it('put–call parity: c − p = S·e^{−qT} − K·e^{−rT}', () => {
    fc.assert(
      fc.property(inputsArb, (p) => {
        const c = blackScholes({ ...p, right: 'call' }).price;
        const put = blackScholes({ ...p, right: 'put' }).price;
        const forward = p.spot * Math.exp(-p.dividendYield * p.time) - p.strike * Math.exp(-p.rate * p.time);
        expect(Math.abs(c - put - forward)).toBeLessThan(1e-10 * Math.max(1, p.spot, p.strike));
      }),
      { numRuns: 200 },
    );
  });

  it('Greeks agree with finite differences', () => {
    // Away from expiry (σ√T ≥ 0.03): closer in, central differences need smaller steps than float64 allows.
    const away = inputsArb.filter((p) => p.volatility * Math.sqrt(p.time) >= 0.03);
    fc.assert(
      fc.property(away, (p) => {
        const g = blackScholes(p);
        const at = (change: Partial<PricingInputs>) => blackScholes({ ...p, ...change }).price;
        const hS = p.spot * 1e-4;
        const hv = 1e-5;
        const ht = 1e-6;
        const hr = 1e-6;
        const close = (a: number, b: number, tol: number) =>
          expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b)));
        close(g.delta, (at({ spot: p.spot + hS }) - at({ spot: p.spot - hS })) / (2 * hS), 1e-5);
        close(
          g.gamma,
          (at({ spot: p.spot + hS }) - 2 * g.price + at({ spot: p.spot - hS })) / (hS * hS),
          1e-3,
        );
        close(
          g.vega,
          (at({ volatility: p.volatility + hv }) - at({ volatility: p.volatility - hv })) / (2 * hv),
          1e-5,
        );
        close(g.theta, -(at({ time: p.time + ht }) - at({ time: p.time - ht })) / (2 * ht), 1e-4);
        close(g.rho, (at({ rate: p.rate + hr }) - at({ rate: p.rate - hr })) / (2 * hr), 1e-5);
      }),
      { numRuns: 200 },
    );
  });

  it('the edges are finite: no time left is intrinsic value, no volatility the discounted forward', () => {
    const base = { spot: 110, strike: 100, rate: 0.05, volatility: 0.3 };
    expect(blackScholes({ ...base, right: 'call', time: 0 }).price).toBe(10);
    expect(blackScholes({ ...base, right: 'put', time: 0 }).price).toBe(0);
    const noVol = blackScholes({ ...base, right: 'call', time: 1, volatility: 0 }).price;
    expect(noVol).toBeCloseTo(110 - 100 * Math.exp(-0.05), 12);
    expect(() => blackScholes({ ...base, right: 'call', time: 1, spot: Number.NaN })).toThrow(
      'spot: must be finite',
    );
    expect(() => toDecimalPrice(Number.POSITIVE_INFINITY)).toThrow(/not finite/);
    expect(toDecimalPrice(4.759422392871535).toFixed()).toBe('4.7594223929');
  });
});

describe('American options', () => {
  it("binomial tree: Hull's five-step American put, 4.49", () => {
    const put = { right: 'put' as const, spot: 50, strike: 50, time: 5 / 12, rate: 0.1, volatility: 0.4 };
    expect(round(binomial(put, 5), 2)).toBe(4.49);
    // A European tree converges to Black–Scholes.
    expect(Math.abs(binomial(put, 4000, false) - blackScholes(put).price)).toBeLessThan(2e-3);
  });

  it('an American call without dividends is worth its European value', () => {
    fc.assert(
      fc.property(inputsArb, (p) => {
        const call = { ...p, right: 'call' as const, dividendYield: 0 };
        const intrinsic = Math.max(0, call.spot - call.strike);
        expect(bjerksundStensland(call)).toBe(Math.max(intrinsic, blackScholes(call).price));
      }),
      { numRuns: 100 },
    );
  });

  it('Bjerksund–Stensland: between the European value and the tree, within 5% of a 1,000-step tree', () => {
    fc.assert(
      fc.property(inputsArb, (p) => {
        const american = bjerksundStensland(p);
        const european = blackScholes(p).price;
        const tree = (binomial(p, 1000) + binomial(p, 1001)) / 2;
        const intrinsic = Math.max(0, p.right === 'call' ? p.spot - p.strike : p.strike - p.spot);
        expect(american).toBeGreaterThanOrEqual(Math.max(intrinsic, european) - 1e-12);
        // A lower bound by construction (a flat exercise boundary): never far above the tree.
        expect(american).toBeLessThanOrEqual(tree + 2e-3 * Math.max(1, tree));
        // The 1993 approximation's flat boundary gives up some early-exercise premium: measured worst ~4% of
        // the value on deep in-the-money, long-dated, high-volatility puts over this domain (3% with T ≤ 1, σ ≤ 0.5).
        expect(Math.abs(american - tree)).toBeLessThanOrEqual(0.05 * Math.max(1, tree));
        expect(optionPrice(p, 'american')).toBe(american);
        expect(optionPrice(p, 'european')).toBe(european);
      }),
      { numRuns: 40 },
    );
  });
});
