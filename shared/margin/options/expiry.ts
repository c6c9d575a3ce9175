import { Decimal, ZERO, max } from '../../decimal.ts';
import { InputError } from '../../errors.ts';
import { positionSchema, type Position } from '../../schemas/position.ts';
import { contractOf, expired, isOption } from './contract.ts';

/**
 * Expired options are settled, never priced (issue 27). The engine refuses an expired option
 * (optionBookIssues); the caller settles the book first with the official settlement price of each
 * underlying (the closing price on the expiry date, or an index's special opening quotation):
 *
 * - OCC exercise by exception: an option in the money by at least $0.01 is exercised (a long one) or
 *   assigned (a short one); otherwise it expires worthless;
 * - cash-settled (index options by default): cash += q · m · intrinsic;
 * - physically settled: a call delivers q · m shares at the strike (shares += q·m, cash −= q·m·K), a put
 *   takes them (shares −= q·m, cash += q·m·K) — q signed, so an assignment is the same formula;
 * - the shares go to the held underlying position (its price kept), or a new one priced at the settlement
 *   price; a position netted to zero is removed.
 */

export const EXERCISE_THRESHOLD = new Decimal('0.01');

export interface Settlement {
  instrument: string;
  outcome: 'cash-settled' | 'exercised' | 'assigned' | 'expired-worthless';
  /** Cash moved (signed). */
  cash: Decimal;
  /** Shares of the underlying delivered (+) or taken (−). */
  shares: Decimal;
}

export interface SettledBook {
  positions: Position[];
  cash: Decimal;
  settlements: Settlement[];
}

export function settleExpiredOptions(
  positions: readonly Position[],
  cash: Decimal,
  asOf: string,
  settlementPrices: ReadonlyMap<string, Decimal>,
): SettledBook {
  const settlements: Settlement[] = [];
  const delivered = new Map<string, Decimal>();
  let balance = cash;
  const missing = new Set<string>();
  const kept: Position[] = [];
  for (const p of positions) {
    if (!isOption(p) || !expired(contractOf(p), asOf)) {
      kept.push(p);
      continue;
    }
    const c = contractOf(p);
    const s = settlementPrices.get(c.underlying);
    if (!s) {
      missing.add(c.underlying);
      continue;
    }
    const intrinsic = max(ZERO, c.right === 'call' ? s.minus(c.strike) : c.strike.minus(s));
    const units = p.quantity.times(c.multiplier);
    const exercised = intrinsic.greaterThanOrEqualTo(EXERCISE_THRESHOLD) && !p.quantity.isZero();
    if (!exercised) {
      settlements.push({ instrument: p.instrument, outcome: 'expired-worthless', cash: ZERO, shares: ZERO });
      continue;
    }
    const outcome = p.quantity.isPositive() ? 'exercised' : 'assigned';
    if (c.settlement === 'cash') {
      const amount = units.times(intrinsic);
      balance = balance.plus(amount);
      settlements.push({ instrument: p.instrument, outcome: 'cash-settled', cash: amount, shares: ZERO });
      continue;
    }
    const shares = c.right === 'call' ? units : units.negated();
    const amount = shares.times(c.strike).negated();
    balance = balance.plus(amount);
    delivered.set(c.underlying, (delivered.get(c.underlying) ?? ZERO).plus(shares));
    settlements.push({ instrument: p.instrument, outcome, cash: amount, shares });
  }
  if (missing.size > 0)
    throw new InputError(
      [...missing].map((u) => ({
        field: `settlementPrices.${u}`,
        message: `required: an expired option on ${u} is settled at its settlement price`,
      })),
    );
  const out: Position[] = [];
  for (const p of kept) {
    const add = isOption(p) ? undefined : delivered.get(p.instrument);
    if (add === undefined) {
      out.push(p);
      continue;
    }
    delivered.delete(p.instrument);
    const quantity = p.quantity.plus(add);
    if (!quantity.isZero()) out.push({ ...p, quantity });
  }
  for (const [underlying, shares] of delivered) {
    if (shares.isZero()) continue;
    // A new holding with every default a parsed position has.
    out.push(
      positionSchema.parse({
        instrument: underlying,
        quantity: shares.toFixed(),
        price: settlementPrices.get(underlying)!.toFixed(),
      }),
    );
  }
  return { positions: out, cash: balance, settlements };
}
