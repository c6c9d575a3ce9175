/**
 * Option pricing for the risk models (issue 27): Black–Scholes–Merton for European options, a
 * Cox–Ross–Rubinstein binomial tree and the Bjerksund–Stensland (1993) approximation for American ones,
 * with analytic Greeks.
 *
 * Numbers: this module computes in float64 (JS numbers). A model price is an estimate with model error far
 * above 1e-15 — the inputs (volatility above all) are themselves estimates — so the price is not money: a
 * caller that turns it into a requirement converts once, at the edge, to a Decimal rounded to the cent
 * fractions it needs (`toDecimalPrice`), and never lets a non-finite value through (every function here
 * returns a finite number for finite, valid inputs; invalid inputs throw a RangeError naming the field).
 *
 * Conventions (Haug, "The Complete Guide to Option Pricing Formulas", 2nd ed., ch. 1): S spot, K strike,
 * T years to expiry, r the continuously compounded risk-free rate, q the continuous dividend yield (cost of
 * carry b = r − q), σ the volatility. T = 0 gives intrinsic value; σ = 0 the discounted intrinsic value of
 * the forward.
 *
 * Checked in test/unit/margin/options/pricing.test.ts: Hull's and Haug's published examples (to the digits
 * printed), an independent 60-digit Decimal Black–Scholes (to 1e-10), put–call parity (to 1e-10), Greeks
 * against finite differences, the binomial tree against Hull's 5-step American put, and Bjerksund–Stensland
 * against a 1,000-step tree.
 */
import { Decimal } from '../../decimal.ts';

export type Right = 'call' | 'put';

export interface PricingInputs {
  right: Right;
  spot: number;
  strike: number;
  /** Years to expiry (ACT/365 from the evaluation date, say). */
  time: number;
  rate: number;
  dividendYield?: number;
  volatility: number;
}

export interface Greeks {
  price: number;
  /** ∂V/∂S */
  delta: number;
  /** ∂²V/∂S² */
  gamma: number;
  /** ∂V/∂σ (per 1.00 of volatility, not per point) */
  vega: number;
  /** ∂V/∂t, calendar time passing (= −∂V/∂T), per year */
  theta: number;
  /** ∂V/∂r */
  rho: number;
}

function check(inputs: PricingInputs): void {
  const { spot, strike, time, rate, volatility } = inputs;
  const q = inputs.dividendYield ?? 0;
  const finite: [string, number][] = [
    ['spot', spot],
    ['strike', strike],
    ['time', time],
    ['rate', rate],
    ['dividendYield', q],
    ['volatility', volatility],
  ];
  for (const [name, v] of finite) if (!Number.isFinite(v)) throw new RangeError(`${name}: must be finite`);
  if (!(spot > 0)) throw new RangeError('spot: must be greater than 0');
  if (!(strike > 0)) throw new RangeError('strike: must be greater than 0');
  if (time < 0) throw new RangeError('time: must not be negative');
  if (volatility < 0) throw new RangeError('volatility: must not be negative');
}

/**
 * Standard normal CDF to double precision: Hart (1968) algorithm 5666 as given by West, "Better
 * approximations to cumulative normal functions" (Wilmott, 2005); relative error ~1e-15 throughout.
 */
export function normalCdf(x: number): number {
  const a = Math.abs(x);
  let c: number;
  if (a > 37) c = 0;
  else {
    const e = Math.exp((-a * a) / 2);
    if (a < 7.07106781186547) {
      let n = 3.52624965998911e-2 * a + 0.700383064443688;
      n = n * a + 6.37396220353165;
      n = n * a + 33.912866078383;
      n = n * a + 112.079291497871;
      n = n * a + 221.213596169931;
      n = n * a + 220.206867912376;
      let d = 8.83883476483184e-2 * a + 1.75566716318264;
      d = d * a + 16.064177579207;
      d = d * a + 86.7807322029461;
      d = d * a + 296.564248779674;
      d = d * a + 637.333633378831;
      d = d * a + 793.826512519948;
      d = d * a + 440.413735824752;
      c = (e * n) / d;
    } else {
      let b = a + 0.65;
      b = a + 4 / b;
      b = a + 3 / b;
      b = a + 2 / b;
      b = a + 1 / b;
      c = e / b / 2.506628274631;
    }
  }
  return x > 0 ? 1 - c : c;
}

export function normalPdf(x: number): number {
  return Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
}

/** European price and Greeks, Black–Scholes–Merton with a continuous dividend yield. */
export function blackScholes(inputs: PricingInputs): Greeks {
  check(inputs);
  const { right, spot: S, strike: K, time: T, rate: r, volatility: v } = inputs;
  const q = inputs.dividendYield ?? 0;
  const dq = Math.exp(-q * T);
  const dr = Math.exp(-r * T);
  const phi = right === 'call' ? 1 : -1;
  const sd = v * Math.sqrt(T);
  if (!(sd > 0)) {
    // No uncertainty left: the discounted intrinsic value of the forward; Greeks of that kinked line.
    const forward = S * dq - K * dr;
    const inTheMoney = phi * forward > 0;
    return {
      price: Math.max(0, phi * forward),
      delta: inTheMoney ? phi * dq : 0,
      gamma: 0,
      vega: 0,
      theta: inTheMoney ? phi * (-q * S * dq + r * K * dr) * -1 : 0,
      rho: inTheMoney ? phi * T * K * dr : 0,
    };
  }
  const d1 = (Math.log(S / K) + (r - q + (v * v) / 2) * T) / sd;
  const d2 = d1 - sd;
  const Nd1 = normalCdf(phi * d1);
  const Nd2 = normalCdf(phi * d2);
  const price = phi * (S * dq * Nd1 - K * dr * Nd2);
  const pdf = normalPdf(d1);
  return {
    price,
    delta: phi * dq * Nd1,
    gamma: (dq * pdf) / (S * sd),
    vega: S * dq * pdf * Math.sqrt(T),
    theta: (-S * dq * pdf * v) / (2 * Math.sqrt(T)) + phi * (q * S * dq * Nd1 - r * K * dr * Nd2),
    rho: phi * K * T * dr * Nd2,
  };
}

/** d1 and d2 of Black–Scholes (for reporting and the tests' published values). */
export function blackScholesD(inputs: PricingInputs): { d1: number; d2: number } {
  check(inputs);
  const { spot: S, strike: K, time: T, rate: r, volatility: v } = inputs;
  const q = inputs.dividendYield ?? 0;
  const sd = v * Math.sqrt(T);
  const d1 = (Math.log(S / K) + (r - q + (v * v) / 2) * T) / sd;
  return { d1, d2: d1 - sd };
}

/**
 * Cox–Ross–Rubinstein binomial tree (u = e^{σ√Δt}, d = 1/u, p = (e^{(r−q)Δt} − d)/(u − d)), American or
 * European. Converges to Black–Scholes (European) as steps grow, oscillating in odd/even steps.
 */
export function binomial(inputs: PricingInputs, steps: number, american = true): number {
  check(inputs);
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError('steps: must be a positive integer');
  const { right, spot: S, strike: K, time: T, rate: r, volatility: v } = inputs;
  const q = inputs.dividendYield ?? 0;
  const phi = right === 'call' ? 1 : -1;
  if (T === 0 || v === 0) {
    const euro = blackScholes(inputs).price;
    return american ? Math.max(euro, phi * (S - K)) : euro;
  }
  const dt = T / steps;
  const u = Math.exp(v * Math.sqrt(dt));
  const d = 1 / u;
  const disc = Math.exp(-r * dt);
  const p = (Math.exp((r - q) * dt) - d) / (u - d);
  if (!(p > 0 && p < 1))
    throw new RangeError('steps: too few for these inputs (risk-neutral probability outside (0, 1))');
  // Spot at node (n, i) is S·u^(n − 2i): powers of u from −steps to steps, computed once.
  const power = new Float64Array(2 * steps + 1);
  for (let k = -steps; k <= steps; k++) power[k + steps] = u ** k;
  const values = new Float64Array(steps + 1);
  for (let i = 0; i <= steps; i++) values[i] = Math.max(0, phi * (S * power[2 * steps - 2 * i]! - K));
  for (let n = steps - 1; n >= 0; n--) {
    for (let i = 0; i <= n; i++) {
      const cont = disc * (p * values[i]! + (1 - p) * values[i + 1]!);
      values[i] = american ? Math.max(cont, phi * (S * power[n - 2 * i + steps]! - K)) : cont;
    }
  }
  return values[0]!;
}

/** φ of Bjerksund–Stensland (1993), Haug eq. (3.24). */
function bsPhi(
  S: number,
  T: number,
  gamma: number,
  H: number,
  I: number,
  r: number,
  b: number,
  v: number,
): number {
  const v2 = v * v;
  const lambda = (-r + gamma * b + 0.5 * gamma * (gamma - 1) * v2) * T;
  const d = -(Math.log(S / H) + (b + (gamma - 0.5) * v2) * T) / (v * Math.sqrt(T));
  const kappa = (2 * b) / v2 + (2 * gamma - 1);
  return (
    Math.exp(lambda) *
    S ** gamma *
    (normalCdf(d) - (I / S) ** kappa * normalCdf(d - (2 * Math.log(I / S)) / (v * Math.sqrt(T))))
  );
}

/** The American call of Bjerksund–Stensland (1993) in cost-of-carry form (Haug §3.3.2). */
function bs1993Call(S: number, K: number, T: number, r: number, b: number, v: number): number {
  if (b >= r) {
    // Never optimal to exercise early: the European value.
    return blackScholes({
      right: 'call',
      spot: S,
      strike: K,
      time: T,
      rate: r,
      dividendYield: r - b,
      volatility: v,
    }).price;
  }
  const v2 = v * v;
  const beta = 0.5 - b / v2 + Math.sqrt((b / v2 - 0.5) ** 2 + (2 * r) / v2);
  // β → 1 (no carry and no rate) leaves no early-exercise premium: the European value, not ∞ · 0.
  if (!(beta > 1 + 1e-6))
    return blackScholes({
      right: 'call',
      spot: S,
      strike: K,
      time: T,
      rate: r,
      dividendYield: r - b,
      volatility: v,
    }).price;
  const bInf = (beta / (beta - 1)) * K;
  const b0 = Math.max(K, (r / (r - b)) * K);
  const ht = (-(b * T + 2 * v * Math.sqrt(T)) * b0) / (bInf - b0);
  const I = b0 + (bInf - b0) * (1 - Math.exp(ht));
  if (S >= I) return S - K;
  const alpha = (I - K) * I ** -beta;
  return (
    alpha * S ** beta -
    alpha * bsPhi(S, T, beta, I, I, r, b, v) +
    bsPhi(S, T, 1, I, I, r, b, v) -
    bsPhi(S, T, 1, K, I, r, b, v) -
    K * bsPhi(S, T, 0, I, I, r, b, v) +
    K * bsPhi(S, T, 0, K, I, r, b, v)
  );
}

/**
 * American option by Bjerksund–Stensland (1993); a put through the put–call transformation
 * P(S, K, T, r, b, σ) = C(K, S, T, r − b, −b, σ). Never below the intrinsic value.
 */
export function bjerksundStensland(inputs: PricingInputs): number {
  check(inputs);
  const { right, spot: S, strike: K, time: T, rate: r, volatility: v } = inputs;
  const b = r - (inputs.dividendYield ?? 0);
  const intrinsic = Math.max(0, right === 'call' ? S - K : K - S);
  if (T === 0 || v === 0) return Math.max(intrinsic, blackScholes(inputs).price);
  const value = right === 'call' ? bs1993Call(S, K, T, r, b, v) : bs1993Call(K, S, T, r - b, -b, v);
  // Extreme inputs can overflow the closed form's powers: the tree is the fallback, never a NaN.
  if (!Number.isFinite(value)) return Math.max(intrinsic, binomial(inputs, 1000));
  // An American option is worth at least the European one; the approximation can round just below it.
  return Math.max(intrinsic, value, blackScholes(inputs).price);
}

/** The model price: Black–Scholes for European, Bjerksund–Stensland for American. */
export function optionPrice(inputs: PricingInputs, style: 'american' | 'european'): number {
  return style === 'european' ? blackScholes(inputs).price : bjerksundStensland(inputs);
}

/**
 * A model price as a Decimal for money arithmetic, rounded to `places` (default 10) decimal places: the
 * one place a float crosses into the Decimal world. Throws on a non-finite value (never NaN in output).
 */
export function toDecimalPrice(value: number, places = 10): Decimal {
  if (!Number.isFinite(value)) throw new RangeError(`model price is not finite: ${value}`);
  return new Decimal(value.toFixed(places));
}
