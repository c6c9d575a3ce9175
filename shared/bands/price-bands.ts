import { Decimal, sum } from '../decimal.ts';
import { sharedSamples, solveScale } from '../margin/distance.ts';
import { bookEquity } from '../margin/evaluate.ts';
import type { Book, CommonParams, MaintenanceCurve, MarginModel } from '../margin/model.ts';
import type { StayCondition } from './stay-conditions.ts';
import { hasOptions } from '../margin/options/contract.ts';

/**
 * A guard band: while the instrument's price stays strictly inside (low, high) — and every other held
 * instrument stays inside its own band at the same time — the account's level and margin-call state
 * cannot change. null: no move that way can change them.
 */
export interface PriceBand {
  instrument: string;
  /** The price the band was computed around. */
  price: Decimal;
  low: Decimal | null;
  high: Decimal | null;
}

export type BandSet =
  | {
      kind: 'banded';
      bands: PriceBand[];
      /**
       * Instruments held without a band, whose every tick evaluates the account (an always-evaluate row
       * each): the stale-priced ones of an account whose other prices are fresh. The bands above hold while
       * these stay where they are, which only a tick of theirs can change (pipeline/assess.ts).
       */
      pinned?: readonly string[];
    }
  /** No band can be given: the account is evaluated on every tick of what it holds and every minute. */
  | { kind: 'always'; reason: string };

/** Band edges are kept to this many significant digits, rounded inwards. */
export const BAND_DIGITS = 12;

/**
 * The engine itself rounds at 40 significant digits. Bands keep every gap above this fraction of the
 * book's size, so a ratio that the engine rounds can never land on the other side of a threshold.
 */
const ROUNDING_MARGIN = new Decimal('1e-30');

const Down = Decimal.clone({ rounding: Decimal.ROUND_DOWN });

/** slack · part / whole, never rounded up: the allowances of all positions must not add up past the slack. */
function shareOf(slack: Decimal, part: Decimal, whole: Decimal): Decimal {
  return new Decimal(new Down(slack).times(part).dividedBy(whole));
}

function inwardLow(low: Decimal): Decimal {
  return low.plus(low.abs().times(ROUNDING_MARGIN)).toSignificantDigits(BAND_DIGITS, Decimal.ROUND_CEIL);
}

function inwardHigh(high: Decimal): Decimal {
  return high.minus(high.abs().times(ROUNDING_MARGIN)).toSignificantDigits(BAND_DIGITS, Decimal.ROUND_FLOOR);
}

/**
 * Per-instrument price bands that keep every stay condition.
 *
 * Each condition's gap g = E − θ·M − K has slack |g(p₀)| (less a rounding margin). The slack is split
 * across positions by their share of gross dollar exposure (|qty·mult·price|): an equal relative move
 * of every price uses up the slack evenly. Position i may then use up at most its allowance aᵢ:
 * the band edge is the nearest price at which the gap, with only i moving and the requirement taken
 * from the model's bound curve (exact for separable models), has lost aᵢ. That is the distance
 * solver's own problem (piecewise affine, walked breakpoint by breakpoint), so tier bounds, the Reg T
 * $5 rule or a scenario switch inside a band are accounted for. For a joint move inside all bands,
 * g(p) ≥ g(p₀) − Σ(loss of each) > g(p₀) − Σaᵢ ≥ margin > 0 (the same for `below` with signs flipped).
 */
export function priceBands(
  model: MarginModel<CommonParams>,
  book: Book<CommonParams>,
  conditions: readonly StayCondition[],
  equity: Decimal = bookEquity(model, book),
): BandSet {
  const positions = book.positions;
  // A strategy-based requirement nets legs, so no per-position curve bounds a joint move (issue 27).
  if (hasOptions(positions))
    return { kind: 'always', reason: 'option book: strategy pairing is not banded yet' };
  const exposures = positions.map((p) => p.quantity.times(p.multiplier));
  const moving = positions.map((_, i) => i).filter((i) => !exposures[i]!.isZero());
  if (moving.length === 0) return { kind: 'banded', bands: [] };

  const maintenance = model.requirements(book).maintenance;
  const dollars = moving.map((i) => exposures[i]!.times(positions[i]!.price).abs());
  const gross = sum(dollars);

  const slacks = conditions.map((c) => {
    const gap = equity.minus(c.threshold.times(maintenance)).minus(c.offset);
    const size = equity.abs().plus(gross).plus(c.threshold.abs().times(maintenance)).plus(c.offset.abs());
    const slack = (c.side === 'above' ? gap : gap.negated()).minus(size.times(ROUNDING_MARGIN));
    return { condition: c, gap, slack };
  });
  const tight = slacks.find((s) => !s.slack.greaterThan(0)); // not isPositive: 0 counts as positive there
  if (tight) return { kind: 'always', reason: `no room: ${tight.condition.reason}` };

  const bands: PriceBand[] = [];
  for (const [k, i] of moving.entries()) {
    const position = positions[i]!;
    const exposure = exposures[i]!;
    const curves = model.bandCurves(book, i);
    const curveFor: Record<StayCondition['side'], MaintenanceCurve> = {
      above: sharedSamples(curves.upper),
      below: sharedSamples(curves.lower),
    };
    // Equity with only this position moving: (E − e·p₀) + e·x.
    const equityWithout = equity.minus(exposure.times(position.price));
    let low: Decimal | null = null;
    let high: Decimal | null = null;
    for (const { condition, gap, slack } of slacks) {
      const allowance = shareOf(slack, dollars[k]!, gross);
      // h(x) = ±(g_i(x) − g(p₀)) + allowance: positive at p₀, reaches 0 where the allowance is used up.
      const sign = condition.side === 'above' ? 1 : -1;
      const roots = solveScale({
        equityConstant: equityWithout.minus(condition.offset).minus(gap).times(sign).plus(allowance),
        equitySlope: exposure.times(sign),
        curve: curveFor[condition.side],
        threshold: condition.threshold.times(sign),
        origin: position.price,
      });
      if (roots.breached) return { kind: 'always', reason: `no room: ${condition.reason}` };
      if (roots.down !== null && (low === null || roots.down.greaterThan(low))) low = roots.down;
      if (roots.up !== null && (high === null || roots.up.lessThan(high))) high = roots.up;
    }
    const band: PriceBand = {
      instrument: position.instrument,
      price: position.price,
      low: low === null || !low.greaterThan(0) ? null : inwardLow(low),
      high: high === null ? null : inwardHigh(high),
    };
    if ((band.low && !band.low.lessThan(band.price)) || (band.high && !band.high.greaterThan(band.price)))
      return { kind: 'always', reason: `band of ${position.instrument} narrower than its rounding` };
    bands.push(band);
  }
  return { kind: 'banded', bands };
}
