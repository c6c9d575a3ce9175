import { Decimal, ZERO, max, min } from '../../decimal.ts';
import type { Position } from '../../schemas/position.ts';
import type { Requirement } from '../model.ts';
import type { PositionRule } from '../model.ts';
import { contractOf, longDated, nakedRates, type OptionContract } from './contract.ts';

/**
 * Reg T / FINRA 4210(f)(2) strategy-based requirements, per unit of a strategy, following the Cboe Margin
 * Manual (April 2000, "Initial and maintenance margin requirements") and FINRA Regulatory Notice 12-44 (spreads:
 * long legs paid in full, the short side margined at the lesser of its uncovered requirement and the maximum
 * potential loss).
 *
 * Convention: this engine's requirement is compared with net liquidation equity (cash + Σ qty·mult·price, a
 * short option counted as the liability it is), as every other model here. The manual's figures are on the
 * basis where a short option's proceeds are applied and long options have no loan value; the two differ by
 * the options' market value, so each strategy's net requirement is
 *     net = R_manual + Σ long option value − Σ short option value,
 * floored at 0. E.g. a naked short put: R = P + 20%·U − OTM → net = 20%·U − OTM: the "proceeds applied"
 * figure the Cboe's strategy-based examples print (see test/unit/margin/options/strategies.test.ts).
 *
 * All money is Decimal; U is the underlying price, V an option's price (per unit of underlying), m its
 * multiplier, a unit of every strategy is one contract of each option leg (two of a butterfly's body) and m
 * shares of stock.
 */

export type StrategyKind =
  | 'long-option'
  | 'naked-call'
  | 'naked-put'
  | 'stock'
  | 'vertical-spread'
  | 'short-straddle'
  | 'butterfly'
  | 'condor'
  | 'iron-condor'
  | 'box-spread'
  | 'covered-call'
  | 'covered-put'
  | 'protective-put'
  | 'protective-call'
  | 'collar'
  | 'conversion'
  | 'short-collar'
  | 'reversal';

/** Prices the strategies read: each position's own price, and each underlying's. */
export interface Quote {
  price(index: number): Decimal;
  underlying(name: string): Decimal;
}

/** One leg of a strategy: which position, and how many of its units (contracts, or shares' quantity units) one strategy unit takes. */
export interface StrategyLeg {
  index: number;
  perUnit: number;
}

export interface StrategyInstance {
  kind: StrategyKind;
  underlying: string;
  legs: StrategyLeg[];
  /** Requirement of one unit, net-liquidation basis, ≥ 0. */
  cost(quote: Quote): Requirement;
}

export interface Leg {
  index: number;
  position: Position;
  /** Options only. */
  contract?: OptionContract;
  /** +1 long, −1 short. */
  sign: 1 | -1;
}

const TEN_PERCENT = new Decimal('0.10');
const SEVENTY_FIVE_PERCENT = new Decimal('0.75');

const intrinsic = (c: OptionContract, u: Decimal) =>
  c.right === 'call' ? max(ZERO, u.minus(c.strike)) : max(ZERO, c.strike.minus(u));
/** Out-of-the-money amount of a short option (what the uncovered rule subtracts). */
const outOfTheMoney = (c: OptionContract, u: Decimal) =>
  c.right === 'call' ? max(ZERO, c.strike.minus(u)) : max(ZERO, u.minus(c.strike));
const floor0 = (r: Requirement): Requirement => ({
  initial: max(ZERO, max(r.initial, r.maintenance)),
  maintenance: max(ZERO, r.maintenance),
});
const same = (d: Decimal): Requirement => ({ initial: d, maintenance: d });

/**
 * Short uncovered call or put, per contract (net basis: the manual's "100% of the option's value" is the
 * liability equity already counts):
 *   call: max(rate·U − OTM, 10%·U) · m;  put: max(rate·U − OTM, 10%·K) · m
 * (rate 20%, 15% on broad-based indexes; times |factor| for leveraged ETFs). Initial = maintenance.
 */
export function nakedPerContract(leg: Leg, u: Decimal): Decimal {
  const c = leg.contract!;
  const { rate, minimumRate } = nakedRates(leg.position);
  const floor = minimumRate.times(c.right === 'call' ? u : c.strike);
  return max(rate.times(u).minus(outOfTheMoney(c, u)), floor).times(c.multiplier);
}

/** A long option alone: paid in full (no loan value), or 75% of its value with more than nine months to run. */
export function longPerContract(leg: Leg, v: Decimal, asOf: string): Decimal {
  const value = v.times(leg.contract!.multiplier);
  return longDated(leg.contract!, asOf) ? value.times(SEVENTY_FIVE_PERCENT) : value;
}

/** Requirement of one unit of a leg on its own (an option contract, or one quantity unit of stock). */
export function standaloneCost(leg: Leg, quote: Quote, stockRule: PositionRule, asOf: string): Requirement {
  const p = leg.position;
  if (!leg.contract) {
    const unit = { ...p, quantity: new Decimal(leg.sign) };
    return stockRule.requirement(unit, quote.price(leg.index));
  }
  if (leg.sign > 0) return same(longPerContract(leg, quote.price(leg.index), asOf));
  return same(nakedPerContract(leg, quote.underlying(leg.contract.underlying)));
}

export function standaloneKind(leg: Leg): StrategyKind {
  if (!leg.contract) return 'stock';
  if (leg.sign > 0) return 'long-option';
  return leg.contract.right === 'call' ? 'naked-call' : 'naked-put';
}

/**
 * Maximum loss at expiration of same-expiry option legs (n contracts each, signed): −min over S of
 * Σ n·sign·intrinsic(S), read at S = 0 and every strike (the payoff is piecewise linear with kinks only
 * there; templates guarantee a non-negative slope past the highest strike). FINRA 12-44's "maximum potential
 * loss", which is the manual's figure for spreads (the strike difference), butterflies, condors, iron condors
 * and boxes.
 */
export function maximumLoss(legs: readonly { contract: OptionContract; signed: number }[]): Decimal {
  const points = [ZERO, ...legs.map((l) => l.contract.strike)];
  let worst = ZERO;
  for (const s of points) {
    let payoff = ZERO;
    for (const l of legs) payoff = payoff.plus(intrinsic(l.contract, s).times(l.signed));
    if (payoff.lessThan(worst)) worst = payoff;
  }
  return worst.negated().times(legs[0]!.contract.multiplier);
}

/** Defined-risk option-only strategies: R = maximum loss; net = R + Σ signed option values. */
function definedRisk(kind: StrategyKind, legs: readonly Leg[], perUnit: readonly number[]): StrategyInstance {
  const terms = legs.map((l, k) => ({ contract: l.contract!, signed: l.sign * perUnit[k]! }));
  const loss = maximumLoss(terms);
  return {
    kind,
    underlying: legs[0]!.contract!.underlying,
    legs: legs.map((l, k) => ({ index: l.index, perUnit: perUnit[k]! })),
    cost(quote) {
      let net = loss;
      legs.forEach((l, k) => {
        net = net.plus(quote.price(l.index).times(l.contract!.multiplier).times(terms[k]!.signed));
      });
      return floor0(same(net));
    },
  };
}

/**
 * Short straddle or strangle (one short call, one short put): the greater of the two uncovered requirements
 * plus the other side's value (manual); on the net basis max(call's net, put's net).
 */
function shortStraddle(call: Leg, put: Leg): StrategyInstance {
  return {
    kind: 'short-straddle',
    underlying: call.contract!.underlying,
    legs: [
      { index: call.index, perUnit: 1 },
      { index: put.index, perUnit: 1 },
    ],
    cost(quote) {
      const u = quote.underlying(call.contract!.underlying);
      return same(max(nakedPerContract(call, u), nakedPerContract(put, u)));
    },
  };
}

/** Stock-and-option strategies. The stock leg takes m shares (m / stock multiplier quantity units) per unit. */
interface StockOptionTerms {
  stock: Leg;
  stockUnits: number;
  longPut?: Leg;
  longCall?: Leg;
  shortCall?: Leg;
  shortPut?: Leg;
}

function stockPart(t: StockOptionTerms, quote: Quote, stockRule: PositionRule): Requirement {
  const shares = { ...t.stock.position, quantity: new Decimal(t.stock.sign * t.stockUnits) };
  return stockRule.requirement(shares, quote.price(t.stock.index));
}

/**
 * Covered call (long stock, short call) and covered put (short stock, short put): no requirement on the short
 * option; the stock margined at market (FINRA 4210(c): 25% long, 30% / $5 short; Reg T 50% initial), plus the
 * short option's in-the-money amount, which is not lent against (the stock is worth no more than the strike to
 * the writer). Net: stock + m·ITM − m·V.
 *
 * Protective put (long stock, long put) and protective call (short stock, long call), maintenance: the lesser
 * of 10% of the exercise price plus the out-of-the-money amount and the stock's own requirement; the option
 * paid in full. Initial: the stock's Reg T initial plus the option.
 *
 * Collar (long stock, long put, short call) and conversion (the same strike and expiry): the protective put's
 * maintenance with the short call covered by the same shares. Short collar / reversal: the mirror (short stock,
 * long call, short put).
 */
function stockStrategy(kind: StrategyKind, t: StockOptionTerms, stockRule: PositionRule): StrategyInstance {
  const optionLegs = [t.longPut, t.longCall, t.shortCall, t.shortPut].filter((l): l is Leg => !!l);
  const underlying = optionLegs[0]!.contract!.underlying;
  return {
    kind,
    underlying,
    legs: [
      { index: t.stock.index, perUnit: t.stockUnits },
      ...optionLegs.map((l) => ({ index: l.index, perUnit: 1 })),
    ],
    cost(quote) {
      const u = quote.price(t.stock.index);
      const stock = stockPart(t, quote, stockRule);
      const value = (l: Leg) => quote.price(l.index).times(l.contract!.multiplier);
      const itm = (l: Leg) => intrinsic(l.contract!, u).times(l.contract!.multiplier);
      let maintenance = stock.maintenance;
      let initial = stock.initial;
      const hedge = t.longPut ?? t.longCall;
      if (hedge) {
        const c = hedge.contract!;
        // The hedge's out-of-the-money amount (U − K for a put, K − U for a call): what the stock can lose first.
        const protectedLoss = TEN_PERCENT.times(c.strike).plus(outOfTheMoney(c, u)).times(c.multiplier);
        maintenance = min(protectedLoss, maintenance).plus(value(hedge));
        initial = initial.plus(value(hedge));
      }
      const written = t.shortCall ?? t.shortPut;
      if (written) {
        maintenance = maintenance.plus(itm(written)).minus(value(written));
        initial = initial.plus(itm(written)).minus(value(written));
      }
      return floor0({ initial, maintenance });
    },
  };
}

const sameSeries = (a: OptionContract, b: OptionContract) =>
  a.underlying === b.underlying && a.multiplier.equals(b.multiplier);

/**
 * May `long` cover `short` in a spread? Same underlying and contract size, the long expiring no earlier,
 * and not a European long against an American short (the short could be assigned while the long cannot be
 * exercised).
 */
export function covers(long: OptionContract, short: OptionContract): boolean {
  return (
    sameSeries(long, short) &&
    long.right === short.right &&
    long.expiry >= short.expiry &&
    !(long.style === 'european' && short.style === 'american')
  );
}

/** A cap on candidate strategies per underlying; past it only two-leg strategies are considered (documented). */
export const MAX_CANDIDATES = 4000;

/**
 * Every strategy instance that may be formed from the legs of one underlying. Strategies never span
 * underlyings. Each returned instance is a candidate for the pairing optimiser (pairing.ts).
 */
export function candidateStrategies(legs: readonly Leg[], stockRule: PositionRule): StrategyInstance[] {
  const options = legs.filter((l) => l.contract);
  const stocks = legs.filter((l) => !l.contract);
  const out: StrategyInstance[] = [];
  const calls = options.filter((l) => l.contract!.right === 'call');
  const puts = options.filter((l) => l.contract!.right === 'put');
  const longs = (xs: Leg[]) => xs.filter((l) => l.sign > 0);
  const shorts = (xs: Leg[]) => xs.filter((l) => l.sign < 0);

  // Vertical spreads (and calendar/diagonal spreads with the long expiring no earlier): long + short, same right.
  for (const group of [calls, puts])
    for (const s of shorts(group))
      for (const l of longs(group))
        if (covers(l.contract!, s.contract!)) out.push(definedRisk('vertical-spread', [l, s], [1, 1]));

  // Short straddles and strangles.
  for (const c of shorts(calls))
    for (const p of shorts(puts)) if (sameSeries(c.contract!, p.contract!)) out.push(shortStraddle(c, p));

  // Stock with options: the stock leg takes m shares per unit.
  for (const st of stocks) {
    const perUnit = (o: Leg) => {
      const ratio = o.contract!.multiplier.dividedBy(st.position.multiplier);
      return ratio.isInteger() && ratio.greaterThan(0) && ratio.lessThan(1e9) ? ratio.toNumber() : null;
    };
    const add = (kind: StrategyKind, terms: Omit<StockOptionTerms, 'stock' | 'stockUnits'>, anchor: Leg) => {
      const units = perUnit(anchor);
      if (units !== null)
        out.push(stockStrategy(kind, { stock: st, stockUnits: units, ...terms }, stockRule));
    };
    if (st.sign > 0) {
      for (const c of shorts(calls)) add('covered-call', { shortCall: c }, c);
      for (const p of longs(puts)) add('protective-put', { longPut: p }, p);
      for (const p of longs(puts))
        for (const c of shorts(calls))
          if (
            sameSeries(p.contract!, c.contract!) &&
            p.contract!.strike.lessThanOrEqualTo(c.contract!.strike)
          ) {
            const conversion =
              p.contract!.strike.equals(c.contract!.strike) && p.contract!.expiry === c.contract!.expiry;
            add(conversion ? 'conversion' : 'collar', { longPut: p, shortCall: c }, p);
          }
    } else {
      for (const p of shorts(puts)) add('covered-put', { shortPut: p }, p);
      for (const c of longs(calls)) add('protective-call', { longCall: c }, c);
      for (const c of longs(calls))
        for (const p of shorts(puts))
          if (
            sameSeries(p.contract!, c.contract!) &&
            p.contract!.strike.lessThanOrEqualTo(c.contract!.strike)
          ) {
            const reversal =
              p.contract!.strike.equals(c.contract!.strike) && p.contract!.expiry === c.contract!.expiry;
            add(reversal ? 'reversal' : 'short-collar', { longCall: c, shortPut: p }, c);
          }
    }
  }
  if (out.length > MAX_CANDIDATES) return out;

  // Same-expiry multi-leg structures (a strategy's legs are distinct positions: one strike and expiry each).
  const sameExpiry = (xs: Leg[]) =>
    xs.every(
      (x) => x.contract!.expiry === xs[0]!.contract!.expiry && sameSeries(x.contract!, xs[0]!.contract!),
    );
  const byStrike = (xs: Leg[]) => [...xs].sort((a, b) => a.contract!.strike.comparedTo(b.contract!.strike));
  const signs = (xs: Leg[]) => xs.map((x) => x.sign).join('');
  for (const group of [calls, puts]) {
    const sorted = byStrike(group);
    const n = sorted.length;
    // Butterflies: K1 < K2 < K3 equidistant, +1 −2 +1 (long) or −1 +2 −1 (short).
    for (let a = 0; a < n; a++)
      for (let b = a + 1; b < n; b++)
        for (let c = b + 1; c < n; c++) {
          const legs3 = [sorted[a]!, sorted[b]!, sorted[c]!];
          const [k1, k2, k3] = legs3.map((l) => l.contract!.strike) as [Decimal, Decimal, Decimal];
          if (!sameExpiry(legs3) || !k1.lessThan(k2) || !k2.lessThan(k3)) continue;
          if (!k2.minus(k1).equals(k3.minus(k2))) continue;
          const pattern = signs(legs3);
          if (pattern === '1-11' || pattern === '-11-1') out.push(definedRisk('butterfly', legs3, [1, 2, 1]));
        }
    // Condors: K1 < K2 < K3 < K4 with K2 − K1 = K4 − K3, + − − + (long) or − + + − (short).
    for (let a = 0; a < n; a++)
      for (let b = a + 1; b < n; b++)
        for (let c = b + 1; c < n; c++)
          for (let d = c + 1; d < n; d++) {
            const legs4 = [sorted[a]!, sorted[b]!, sorted[c]!, sorted[d]!];
            const k = legs4.map((l) => l.contract!.strike);
            if (
              !sameExpiry(legs4) ||
              !k[0]!.lessThan(k[1]!) ||
              !k[1]!.lessThan(k[2]!) ||
              !k[2]!.lessThan(k[3]!)
            )
              continue;
            if (!k[1]!.minus(k[0]!).equals(k[3]!.minus(k[2]!))) continue;
            const pattern = signs(legs4);
            if (pattern === '1-1-11' || pattern === '-111-1')
              out.push(definedRisk('condor', legs4, [1, 1, 1, 1]));
          }
  }
  // Iron condors / iron butterflies (put spread below a call spread) and boxes (the same two strikes).
  const sp = byStrike(puts);
  const sc = byStrike(calls);
  for (let a = 0; a < sp.length; a++)
    for (let b = a + 1; b < sp.length; b++) {
      const [p1, p2] = [sp[a]!, sp[b]!];
      if (!p1.contract!.strike.lessThan(p2.contract!.strike) || p1.sign === p2.sign) continue;
      for (let c = 0; c < sc.length; c++)
        for (let d = c + 1; d < sc.length; d++) {
          const [c3, c4] = [sc[c]!, sc[d]!];
          if (!c3.contract!.strike.lessThan(c4.contract!.strike) || c3.sign === c4.sign) continue;
          const legs4 = [p1, p2, c3, c4];
          if (!sameExpiry(legs4)) continue;
          const pattern = signs(legs4);
          const box =
            p1.contract!.strike.equals(c3.contract!.strike) &&
            p2.contract!.strike.equals(c4.contract!.strike);
          if (box && (pattern === '-11-1' || pattern === '1-1-11')) {
            // Long box: +C(K1) −C(K2) −P(K1) +P(K2); short box: the reverse.
            out.push(definedRisk('box-spread', legs4, [1, 1, 1, 1]));
          } else if (
            p2.contract!.strike.lessThanOrEqualTo(c3.contract!.strike) &&
            (pattern === '1-1-11' || pattern === '-11-1')
          ) {
            // Short iron condor: +P1 −P2 −C3 +C4; long iron condor: −P1 +P2 +C3 −C4.
            out.push(definedRisk('iron-condor', legs4, [1, 1, 1, 1]));
          }
        }
    }
  return out;
}

/** Legs of a book: every position with a non-zero quantity, options with their terms. */
export function legsOf(positions: readonly Position[]): Leg[] {
  return positions.flatMap((position, index) =>
    position.quantity.isZero()
      ? []
      : [
          {
            index,
            position,
            contract: position.instrumentType === 'option' ? contractOf(position) : undefined,
            sign: position.quantity.isNegative() ? (-1 as const) : (1 as const),
          },
        ],
  );
}
