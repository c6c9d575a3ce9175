import { Decimal, ONE } from '../../decimal.ts';
import type { FieldIssue } from '../../errors.ts';
import type { ModelName } from '../../schemas/account.ts';
import type { OptionRight, OptionSettlement, OptionStyle, UnderlyingClass } from '../../schemas/option.ts';
import type { Position } from '../../schemas/position.ts';

/** An option position's contract terms with the defaults applied. */
export interface OptionContract {
  underlying: string;
  right: OptionRight;
  strike: Decimal;
  expiry: string;
  style: OptionStyle;
  underlyingClass: UnderlyingClass;
  settlement: OptionSettlement;
  multiplier: Decimal;
}

const INDEX_CLASSES: ReadonlySet<UnderlyingClass> = new Set(['narrow-index', 'broad-index']);
const BROAD_CLASSES: ReadonlySet<UnderlyingClass> = new Set([
  'broad-index',
  'broad-etf',
  'leveraged-broad-etf',
]);
const LEVERAGED_CLASSES: ReadonlySet<UnderlyingClass> = new Set(['leveraged-etf', 'leveraged-broad-etf']);

export function isOption(p: Position): boolean {
  return p.instrumentType === 'option';
}

export function hasOptions(positions: readonly Position[]): boolean {
  return positions.some(isOption);
}

/** The terms of an option position (parsed positions carry them; checkOptionFields made them required). */
export function contractOf(p: Position): OptionContract {
  const underlyingClass = p.underlyingClass!;
  const index = INDEX_CLASSES.has(underlyingClass);
  return {
    underlying: p.underlying!,
    right: p.right!,
    strike: p.strike!,
    expiry: p.expiry!,
    style: p.style ?? (index ? 'european' : 'american'),
    underlyingClass,
    settlement: p.settlement ?? (index ? 'cash' : 'physical'),
    multiplier: p.multiplier,
  };
}

/**
 * FINRA 4210(f)(2)(D) / Cboe Margin Manual, short uncovered options: the percentage of the underlying's value
 * (20%; 15% for broad-based indexes and ETFs on them) and the minimum percentage (10%), both times |leverage
 * factor| for leveraged ETFs (the position's own `leverageFactor`), each capped at 100%.
 */
export function nakedRates(p: Position): { rate: Decimal; minimumRate: Decimal } {
  const cls = p.underlyingClass!;
  const factor = LEVERAGED_CLASSES.has(cls) ? p.leverageFactor.abs() : ONE;
  const base = new Decimal(BROAD_CLASSES.has(cls) ? '0.15' : '0.20');
  const cap = (d: Decimal) => (d.greaterThan(1) ? ONE : d);
  return { rate: cap(base.times(factor)), minimumRate: cap(new Decimal('0.10').times(factor)) };
}

/** ISO date plus whole calendar months (clamped to the month's last day). */
function addMonths(iso: string, months: number): string {
  const [y, m, d] = iso.split('-').map(Number) as [number, number, number];
  const target = new Date(Date.UTC(y, m - 1 + months, 1));
  const last = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d, last));
  return target.toISOString().slice(0, 10);
}

/**
 * FINRA 4210(f)(2)(C)/(D): a listed option with more than nine months until expiration has loan value
 * (margin 75% of its value); one with nine months or less must be paid for in full.
 */
export function longDated(contract: OptionContract, asOf: string): boolean {
  let horizon = nineMonths.get(asOf);
  if (horizon === undefined) {
    if (nineMonths.size > 1000) nineMonths.clear();
    nineMonths.set(asOf, (horizon = addMonths(asOf, 9)));
  }
  return contract.expiry > horizon;
}
const nineMonths = new Map<string, string>();

/** Expired: past its last trading day. An expired option must be settled (cash or shares), never priced. */
export function expired(contract: OptionContract, asOf: string): boolean {
  return contract.expiry < asOf;
}

/** Models that price option positions: strategy-based Reg T, and the cash model (long options paid in full). */
const OPTION_MODELS: ReadonlySet<ModelName> = new Set(['reg-t', 'cash']);

/**
 * Rules of an option book that span positions: the model must price options, the underlying must be a
 * linear instrument held in the book or priced by `underlyingPrice` (one price and one class per underlying),
 * and (with asOf) no option may be expired.
 */
export function optionBookIssues(
  model: ModelName,
  positions: readonly Position[],
  asOf?: string,
): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const byName = new Map(positions.map((p, i) => [p.instrument, i]));
  const classes = new Map<string, { cls: UnderlyingClass; price?: Decimal; at: number }>();
  positions.forEach((p, i) => {
    if (!isOption(p)) return;
    if (!OPTION_MODELS.has(model)) {
      issues.push({
        field: `positions[${i}].instrumentType`,
        message: `options are margined by the reg-t (strategy-based) or cash model; the ${model} model does not price them`,
      });
      return;
    }
    const c = contractOf(p);
    const held = byName.get(c.underlying);
    if (held !== undefined) {
      const u = positions[held]!;
      if (isOption(u))
        issues.push({ field: `positions[${i}].underlying`, message: `${c.underlying} is itself an option` });
      else if (p.underlyingPrice !== undefined && !p.underlyingPrice.equals(u.price))
        issues.push({
          field: `positions[${i}].underlyingPrice`,
          message: `${p.underlyingPrice.toFixed()} disagrees with the held ${c.underlying} at ${u.price.toFixed()} (positions[${held}].price)`,
        });
    } else if (p.underlyingPrice === undefined) {
      issues.push({
        field: `positions[${i}].underlyingPrice`,
        message: `required: the book does not hold ${c.underlying}`,
      });
    }
    const seen = classes.get(c.underlying);
    if (!seen) classes.set(c.underlying, { cls: c.underlyingClass, price: p.underlyingPrice, at: i });
    else {
      if (seen.cls !== c.underlyingClass)
        issues.push({
          field: `positions[${i}].underlyingClass`,
          message: `${c.underlyingClass} disagrees with positions[${seen.at}] (${seen.cls}) on ${c.underlying}`,
        });
      if (held === undefined && seen.price && p.underlyingPrice && !seen.price.equals(p.underlyingPrice))
        issues.push({
          field: `positions[${i}].underlyingPrice`,
          message: `${p.underlyingPrice.toFixed()} disagrees with positions[${seen.at}] (${seen.price.toFixed()}) on ${c.underlying}`,
        });
    }
    if (asOf !== undefined && expired(c, asOf))
      issues.push({
        field: `positions[${i}].expiry`,
        message: `expired on ${c.expiry} (evaluating ${asOf}): settle it (settleExpiredOptions) before evaluation; an expired option is never priced`,
      });
  });
  return issues;
}
