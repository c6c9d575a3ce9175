import { Decimal, ZERO } from '../decimal.ts';
import { buildBook, evaluateBook, type EvaluateOptions, type ValidatedInput } from '../margin/evaluate.ts';
import type { Evaluation } from '../margin/evaluation.ts';
import type { Position } from '../schemas/position.ts';
import { applyFills, estimateFill, type ExecutionAssumptions, type Fill, type Side } from './execution.ts';
import { orderIdempotencyKey } from './idempotency-key.ts';
import { instruct, type ExecutionMethod, type OrderInstruction } from './order-instructions.ts';
import { maintenanceBasisPrice, tiersFor, type TieredParams } from '../margin/tiered.ts';
import { stepDownQuantity } from './tier-step-down.ts';
import {
  orderForLiquidation,
  orderForStrategy,
  type Candidate,
  type LiquidationPriority,
  type Strategy,
} from './ordering.ts';

export interface PlanRequest {
  input: ValidatedInput;
  options?: EvaluateOptions;
  targetRatio: Decimal;
  strategy: Strategy;
  liquidationPriority: LiquidationPriority;
  execution: ExecutionAssumptions;
  incidentId: string;
  /** Escalation step the orders belong to, part of each idempotency key (e.g. "deleverage", "liquidate"). */
  step: string;
  /** Skip partial plans: close everything (the liquidation step). */
  fullLiquidation?: boolean;
  /** How the orders are to be worked (limit, market, stop, TWAP); none: plain orders, as before. */
  orderMethod?: ExecutionMethod;
  /** When the plan is made: TWAP slices start here. @default the epoch, for deterministic plans */
  now?: Date;
  /**
   * Tiered model, liquidation step: the ratio a step-down to the next lower risk tier must restore for the
   * venue-style partial liquidation to be enough (otherwise every position is closed). None: close all.
   */
  stepDownFloor?: Decimal;
}

export interface PlannedOrder {
  instrument: string;
  side: Side;
  quantity: Decimal;
  referencePrice: Decimal;
  estimatedPrice: Decimal;
  estimatedFees: Decimal;
  idempotencyKey: string;
  instruction?: OrderInstruction;
}

export interface Plan {
  accountId: string;
  incidentId: string;
  step: string;
  kind: 'none' | 'deleverage' | 'liquidation';
  strategy: Strategy;
  liquidationPriority: LiquidationPriority;
  targetRatio: Decimal;
  ratioBefore: Decimal | null;
  /** Ratio once every order fills at the assumed price; null when the book ends flat. */
  projectedRatio: Decimal | null;
  projectedEquity: Decimal;
  restoresTarget: boolean;
  orders: PlannedOrder[];
  reason: string;
  /** The account's cash (collateral) when planned: a bankrupt liquidation's loss starts from it. */
  collateral: Decimal;
}

/** Ratio as a score: no requirement with non-negative equity is as good as it gets. */
function score(e: Evaluation): Decimal {
  if (e.marginRatio !== null) return e.marginRatio;
  return e.equity.isNegative() ? new Decimal(-Infinity) : new Decimal(Infinity);
}

function meets(e: Evaluation, target: Decimal): boolean {
  return score(e).greaterThanOrEqualTo(target);
}

/** Quantity of n lots, never more than the position (the last lot may be odd). */
function lots(n: number, lot: Decimal, cap: Decimal): Decimal {
  const q = lot.times(n);
  return q.greaterThan(cap) ? cap : q;
}

function lotCount(quantity: Decimal, lot: Decimal): number {
  return quantity.dividedBy(lot).ceil().toNumber(); // a count of lots, not money
}

/** Smallest n in [1, max] with ok(n), given ok(max); assumes more reduction never hurts. */
function smallest(max: number, ok: (n: number) => boolean): number {
  let lo = 1;
  let hi = max;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (ok(mid)) hi = mid;
    else lo = mid + 1;
  }
  return hi;
}

export function planDeleverage(request: PlanRequest): Plan {
  const { input, targetRatio, execution } = request;
  const { model, book } = buildBook(input, request.options);
  const evaluate = (working: ValidatedInput) =>
    evaluateBook(
      model,
      { ...book, account: working.account, positions: working.positions },
      { positionPrices: false },
    );
  const after = (working: ValidatedInput, fills: Fill[]) => applyFills(working, fills, model.valuation);
  const fillOf = (p: Position, q: Decimal) => estimateFill(p, q, p.price, execution);

  const before = evaluate(input);
  const candidates: Candidate[] = input.positions.flatMap((position, index) =>
    position.quantity.isZero()
      ? []
      : [
          {
            index,
            position,
            maintenance: before.positions[index]!.maintenanceRequirement,
            size: position.quantity.abs().times(position.multiplier).times(position.price),
            liquidity:
              position.averageDailyVolume === undefined
                ? null
                : position.averageDailyVolume.times(position.price),
          },
        ],
  );

  const finish = (kind: Plan['kind'], fills: Fill[], reason: string): Plan => {
    const projected = evaluate(after(input, fills));
    return {
      accountId: input.account.id,
      incidentId: request.incidentId,
      step: request.step,
      kind,
      strategy: request.strategy,
      liquidationPriority: request.liquidationPriority,
      targetRatio,
      ratioBefore: before.marginRatio,
      projectedRatio: projected.marginRatio,
      projectedEquity: projected.equity,
      restoresTarget: meets(projected, targetRatio),
      orders: fills.map((f) => {
        const position = input.positions.find((p) => p.instrument === f.instrument)!;
        const order = {
          instrument: f.instrument,
          side: f.side,
          quantity: f.quantity,
          referencePrice: position.price,
          estimatedPrice: f.price,
          estimatedFees: f.fees,
          idempotencyKey: orderIdempotencyKey(
            input.account.id,
            request.incidentId,
            request.step,
            f.instrument,
          ),
        };
        return request.orderMethod
          ? {
              ...order,
              instruction: instruct(order, position, request.orderMethod, request.now ?? new Date(0)),
            }
          : order;
      }),
      reason,
      collateral: input.account.cash,
    };
  };

  const liquidate = (reason: string) =>
    finish(
      'liquidation',
      orderForLiquidation(request.liquidationPriority, candidates).map((c) =>
        fillOf(c.position, c.position.quantity.abs()),
      ),
      reason,
    );

  if (candidates.length === 0) return finish('none', [], 'no positions to reduce');
  if (request.fullLiquidation && request.stepDownFloor && model.name === 'tiered') {
    // Step every position above the first tier down one tier; enough if it lifts the ratio to the floor.
    // Each on its own instrument's table, at the price its tier is taken at (the entry on an entry basis).
    const params = book.params as TieredParams;
    const steps = orderForLiquidation(request.liquidationPriority, candidates).flatMap((c) => {
      const { close } = stepDownQuantity(
        c.position,
        maintenanceBasisPrice(params, c.position, c.position.price),
        tiersFor(params, c.position.instrument),
      );
      return close.isPositive() ? [fillOf(c.position, close)] : [];
    });
    if (steps.length > 0 && meets(evaluate(after(input, steps)), request.stepDownFloor))
      return finish(
        'liquidation',
        steps,
        'stepped down to the next lower risk tier: enough to leave LIQUIDATION',
      );
  }
  if (request.fullLiquidation) return liquidate('liquidation step: every position is closed');
  if (meets(before, targetRatio))
    return finish('none', [], `ratio already at or above the target ${targetRatio.toFixed()}`);

  if (request.strategy === 'proportional') {
    // The same fraction (in thousandths, rounded up to lots) off every position.
    const cut = (k: number) =>
      candidates.map((c) => {
        const lot = c.position.lotSize;
        const wanted = c.position.quantity.abs().times(k).dividedBy(1000);
        return fillOf(
          c.position,
          Decimal.min(c.position.quantity.abs(), wanted.dividedBy(lot).ceil().times(lot)),
        );
      });
    if (!meets(evaluate(after(input, cut(1000))), targetRatio))
      return liquidate('closing everything is the only way to the target');
    const k = smallest(1000, (n) => meets(evaluate(after(input, cut(n))), targetRatio));
    return finish(
      'deleverage',
      cut(k).filter((f) => f.quantity.greaterThan(0)),
      `every position cut by ${k / 10}%`,
    );
  }

  let working = input;
  let current = before;
  const fills: Fill[] = [];
  for (const c of orderForStrategy(request.strategy, candidates)) {
    const position = c.position;
    const lot = position.lotSize;
    let available = position.quantity.abs();
    if (request.strategy === 'liquidity-aware' && position.averageDailyVolume !== undefined) {
      const cap = position.averageDailyVolume
        .times(execution.maxAdvFraction)
        .dividedBy(lot)
        .floor()
        .times(lot);
      available = Decimal.min(available, cap);
    }
    if (available.lessThanOrEqualTo(ZERO)) continue;
    const fullFill = fillOf(position, available);
    const afterFull = evaluate(after(working, [fullFill]));
    // Never trade a position whose reduction does not raise the ratio (e.g. a hedge leg).
    if (!score(afterFull).greaterThan(score(current))) continue;
    if (meets(afterFull, targetRatio)) {
      const n = smallest(lotCount(available, lot), (m) =>
        meets(evaluate(after(working, [fillOf(position, lots(m, lot, available))])), targetRatio),
      );
      fills.push(fillOf(position, lots(n, lot, available)));
      return finish('deleverage', fills, `${request.strategy}: ${fills.length} order(s) restore the target`);
    }
    fills.push(fullFill);
    working = after(working, [fullFill]);
    current = afterFull;
  }
  return liquidate(`${request.strategy} deleveraging cannot reach the target ${targetRatio.toFixed()}`);
}

/** The fills a plan assumes (each order at its estimated price and fees), to apply it to a book. */
export function plannedFills(plan: Plan): Fill[] {
  return plan.orders.map((o) => ({
    instrument: o.instrument,
    side: o.side,
    quantity: o.quantity,
    price: o.estimatedPrice,
    fees: o.estimatedFees,
  }));
}
