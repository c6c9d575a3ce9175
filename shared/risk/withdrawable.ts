import { Decimal, ZERO } from '../decimal.ts';
import { solveScale } from '../margin/distance.ts';
import { bookEquity } from '../margin/evaluate.ts';
import type { Book, CommonParams, MaintenanceCurve, MarginModel } from '../margin/model.ts';
import { rawLevel, type RiskLevel, type Thresholds } from './levels.ts';

export interface Withdrawable {
  /**
   * The largest withdrawal that keeps the account's level and keeps it out of a margin call. When
   * `inclusive` is false (SAFE, whose line is "ratio above warning") it is the least upper bound: any
   * amount below it keeps SAFE, exactly this amount lands on the warning line (WARNING).
   */
  amount: Decimal;
  inclusive: boolean;
  /** Which line binds: the level's lower threshold, the margin call, or an open call (nothing may leave). */
  limitedBy: 'level' | 'margin-call' | 'in-margin-call';
  /** The level the withdrawal keeps (the tracked one, or the raw level when none is given). */
  level: RiskLevel;
}

const MINUS_ONE = new Decimal(-1);

/** The ratio a level needs to be kept (its lower threshold), and whether the line itself keeps it. */
function levelFloor(level: RiskLevel, t: Thresholds): { ratio: Decimal; inclusive: boolean } | null {
  switch (level) {
    case 'SAFE':
      return { ratio: t.warning, inclusive: false };
    case 'WARNING':
      return { ratio: t.critical, inclusive: true };
    case 'CRITICAL':
      return { ratio: t.liquidation, inclusive: true };
    case 'LIQUIDATION':
      return null; // nothing is worse
  }
}

/**
 * How much cash can leave the account without changing its level or putting it into a margin call,
 * exactly, from the distance solver. A withdrawal w takes cash to cash − w: equity falls one for one
 * (equity(w) = equity − w) and the requirement is the model's at that cash (it moves only where the model
 * prices cash itself: a cash account's debit, from w = cash on). On that axis the solver finds the lowest w
 * where equity(w) − k · maintenance(w) reaches 0, for k the level's lower threshold and for k the call
 * ratio; the smaller bound wins.
 *
 * Thresholds can depend on equity (a large account's adjustment): a withdrawal that takes equity below a
 * switch is judged by the thresholds there (never stricter, so the bound only grows and is solved again).
 */
export function withdrawable(
  model: MarginModel<CommonParams>,
  book: Book<CommonParams>,
  options: {
    level?: RiskLevel | null;
    /** A margin call the tracker holds open (it resolves only above callRatio + hysteresis). */
    inMarginCall?: boolean;
    thresholdsAt: (equity: Decimal) => Thresholds;
  },
): Withdrawable {
  const cash = book.account.cash;
  const equity = bookEquity(model, book);
  const maintenanceAt = (w: Decimal) =>
    model.requirements(w.isZero() ? book : { ...book, account: { ...book.account, cash: cash.minus(w) } })
      .maintenance;
  const maintenance = maintenanceAt(ZERO);
  const callRatio = book.params.callRatio;
  const t0 = options.thresholdsAt(equity);
  const level =
    options.level ?? rawLevel(maintenance.isZero() ? null : equity.dividedBy(maintenance), equity, t0);
  const inCall =
    options.inMarginCall === true ||
    equity.lessThan(maintenance.times(callRatio)) ||
    (maintenance.isZero() && equity.isNegative());
  if (inCall) return { amount: ZERO, inclusive: true, limitedBy: 'in-margin-call', level };

  const curve: MaintenanceCurve = { at: maintenanceAt, breakpoints: cash.isPositive() ? [cash] : [] };
  /** The lowest withdrawal at which equity − k · maintenance reaches 0 (0 when it already has). */
  const bound = (k: Decimal): Decimal | null => {
    const roots = solveScale({
      equityConstant: equity,
      equitySlope: MINUS_ONE,
      curve,
      threshold: k,
      origin: ZERO,
    });
    return roots.breached ? ZERO : roots.up;
  };
  const byCall = bound(callRatio);
  let result: Withdrawable = {
    amount: byCall ?? equity,
    inclusive: true,
    limitedBy: 'margin-call',
    level,
  };
  let t = t0;
  for (let round = 0; round < 8; round++) {
    const floor = levelFloor(level, t);
    const byLevel = floor ? bound(floor.ratio) : null;
    if (byLevel !== null && (byCall === null || byLevel.lessThanOrEqualTo(byCall))) {
      // The SAFE line ("above warning") keeps nothing on it, unless there is no requirement there (a
      // null ratio is SAFE at any equity ≥ 0).
      const inclusive = floor!.inclusive || maintenanceAt(byLevel).isZero();
      result = { amount: byLevel, inclusive, limitedBy: 'level', level };
    } else result = { amount: byCall ?? equity, inclusive: true, limitedBy: 'margin-call', level };
    // Thresholds at the equity the withdrawal leaves: looser below a size switch, so solve again there.
    const after = options.thresholdsAt(equity.minus(result.amount));
    if (
      after.warning.equals(t.warning) &&
      after.critical.equals(t.critical) &&
      after.liquidation.equals(t.liquidation)
    )
      break;
    t = after;
  }
  return result;
}
