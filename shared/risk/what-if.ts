import { z } from 'zod';
import { Decimal, ZERO, sum, toEdge } from '../decimal.ts';
import { InputError, type OrderRejectionCode } from '../errors.ts';
import { buildBook, evaluateBook, type ValidatedInput } from '../margin/evaluate.ts';
import type { Evaluation } from '../margin/evaluation.ts';
import { evaluationToJson } from '../margin/serialize.ts';
import { newPosition, signedQuantity } from '../margin/open-orders.ts';
import { MODELS } from '../margin/registry.ts';
import { orderSchema, type Order, type OrderSide } from '../schemas/order.ts';
import type { Position } from '../schemas/position.ts';
import { thresholdsFor } from './account-thresholds.ts';
import { classify, type RiskLevel } from './levels.ts';
import {
  addsRisk,
  allows,
  DEFAULT_RESTRICTION_POLICY,
  orderEffect,
  permits,
  restrictionFor,
  type OrderEffect,
  type Restriction,
  type RestrictionPolicy,
} from './restrictions.ts';

/** Proposed orders, as the API and embedders send them. */
export const proposedOrdersSchema = z.array(orderSchema).min(1, 'at least one order').max(200);

export interface WhatIfOptions {
  /** The account's tracked state (hysteresis, an open call); without it, judged from the evaluation alone. */
  previous?: { level: RiskLevel | null; inMarginCall: boolean } | null;
  policy?: RestrictionPolicy;
  /** Current prices of instruments the account does not hold (a market order in one needs it). */
  marks?: ReadonlyMap<string, Decimal>;
  /** Evaluation date (YYYY-MM-DD) when the account does not carry one. */
  asOf?: string;
  /** Per-position call and zero-equity prices too (the full evaluation; slower). Default false: the fast path. */
  positionPrices?: boolean;
}

export interface OrderFill {
  instrument: string;
  side: OrderSide;
  quantity: Decimal;
  /** The limit price, or the current price for a market order. */
  fillPrice: Decimal;
  /** What the order does to its position, the batch's earlier orders applied. */
  effect: OrderEffect;
}

export interface Rejection {
  code: OrderRejectionCode;
  /** Index of the order at fault; null for the batch as a whole. */
  order: number | null;
  message: string;
}

export interface WhatIfState {
  evaluation: Evaluation;
  level: RiskLevel;
  inMarginCall: boolean;
  restriction: Restriction;
}

export interface WhatIfResult {
  before: WhatIfState;
  /** Null when the book after the orders breaks a rule of its model (a `model-rule` rejection says which). */
  after: WhatIfState | null;
  orders: OrderFill[];
  accepted: boolean;
  rejections: Rejection[];
}

/** avgCost and realised PnL (per unit of multiplier) after a fill of `change` at `price`. */
function fill(held: Decimal, avgCost: Decimal, change: Decimal, price: Decimal) {
  const after = held.plus(change);
  if (change.isZero()) return { quantity: held, avgCost, realised: ZERO };
  if (held.isZero()) return { quantity: after, avgCost: price, realised: ZERO };
  if (held.isNegative() === change.isNegative()) {
    const cost = held.abs().times(avgCost).plus(change.abs().times(price));
    return { quantity: after, avgCost: cost.dividedBy(after.abs()), realised: ZERO };
  }
  if (after.isZero() || after.isNegative() === held.isNegative())
    return { quantity: after, avgCost, realised: change.negated().times(price.minus(avgCost)) };
  return { quantity: after, avgCost: price, realised: held.times(price.minus(avgCost)) }; // flip
}

/**
 * The book after the orders fill (each at its limit price, a market order at the current price). Orders
 * are netted per instrument, so a batch's result does not depend on how it is listed, and an order with
 * its exact reverse leaves the book as it was: cash moves by −multiplier · Σ signed quantity · price (spot;
 * for contracts the same change of equity, as realised PnL into the wallet), and the position by the net
 * quantity, priced at the average price of the orders on the net's side (a longer position's average cost
 * is weighted, a shorter one's is kept, a flipped one's is that price). Prices stay the current ones: a
 * fill away from the market shows at once in equity.
 */
export function applyOrders(
  input: ValidatedInput,
  orders: readonly Order[],
  options: Pick<WhatIfOptions, 'marks'> = {},
): { input: ValidatedInput; fills: Decimal[] } {
  const valuation = MODELS[input.account.model].valuation;
  const held = new Map(input.positions.map((p, i) => [p.instrument, i]));
  const issues: { field: string; message: string }[] = [];
  const fills = orders.map((o, i) => {
    const position = held.has(o.instrument) ? input.positions[held.get(o.instrument)!] : undefined;
    if (position && o.multiplier && !o.multiplier.equals(position.multiplier))
      issues.push({
        field: `orders[${i}].multiplier`,
        message: `${o.instrument} is held with multiplier ${position.multiplier.toFixed()}`,
      });
    const price = o.price ?? position?.price ?? options.marks?.get(o.instrument);
    if (!price)
      issues.push({
        field: `orders[${i}].price`,
        message: `required: no current price for ${o.instrument}, so a market order cannot be priced`,
      });
    return price ?? ZERO;
  });
  if (issues.length > 0) throw new InputError(issues);

  const groups = new Map<string, number[]>();
  orders.forEach((o, i) => groups.set(o.instrument, [...(groups.get(o.instrument) ?? []), i]));
  let cash = input.account.cash;
  const positions: Position[] = [...input.positions];
  for (const [instrument, indexes] of groups) {
    const index = held.get(instrument);
    const current = index === undefined ? undefined : positions[index]!;
    const net = sum(indexes.map((i) => signedQuantity(orders[i]!)));
    const notional = sum(indexes.map((i) => signedQuantity(orders[i]!).times(fills[i]!)));
    const first = orders[indexes[0]!]!;
    const multiplier = current?.multiplier ?? first.multiplier ?? new Decimal(1);
    // The net's side: its average price, positive whatever the other side did.
    const side = indexes.filter((i) => !signedQuantity(orders[i]!).isNegative() === !net.isNegative());
    const sideSize = sum(side.map((i) => orders[i]!.quantity));
    const sidePrice = net.isZero()
      ? ZERO
      : sum(side.map((i) => orders[i]!.quantity.times(fills[i]!))).dividedBy(sideSize);
    if (valuation === 'spot') cash = cash.minus(multiplier.times(notional));
    else cash = cash.minus(multiplier.times(notional.minus(net.times(sidePrice))));
    if (net.isZero()) continue; // nothing held changes (a round trip only moved cash)
    const quantity = current?.quantity ?? ZERO;
    const avgCost = current?.avgCost ?? current?.price ?? sidePrice;
    const after = fill(quantity, avgCost, net, sidePrice);
    if (valuation === 'derivative') cash = cash.plus(multiplier.times(after.realised));
    if (current) {
      positions[index!] = {
        ...current,
        quantity: after.quantity,
        ...(current.avgCost !== undefined || valuation === 'derivative' ? { avgCost: after.avgCost } : {}),
      };
    } else {
      const mark = options.marks?.get(instrument) ?? sidePrice;
      positions.push({
        ...newPosition(instrument, mark, first.multiplier),
        quantity: after.quantity,
        avgCost: after.avgCost,
      });
    }
  }
  return { input: { account: { ...input.account, cash }, positions }, fills };
}

function stateOf(
  input: ValidatedInput,
  previous: { level: RiskLevel | null; inMarginCall: boolean } | null,
  policy: RestrictionPolicy,
  options: WhatIfOptions,
): WhatIfState {
  const { model, book } = buildBook(input, { asOf: options.asOf });
  const evaluation = evaluateBook(model, book, { positionPrices: options.positionPrices ?? false });
  const t = thresholdsFor(input.account, evaluation.equity);
  const level = classify(evaluation.marginRatio, evaluation.equity, previous?.level ?? null, t);
  // An open call resolves only above callRatio + hysteresis (as the tracker does).
  const clears =
    evaluation.marginRatio === null
      ? !evaluation.equity.isNegative()
      : evaluation.marginRatio.greaterThanOrEqualTo(evaluation.callRatio.plus(t.hysteresis));
  const inMarginCall = evaluation.inMarginCall || (previous?.inMarginCall === true && !clears);
  return { evaluation, level, inMarginCall, restriction: restrictionFor(policy, level, inMarginCall) };
}

/**
 * Pre-trade what-if: the account's margin after the proposed orders (every field of an evaluation), its
 * level and restriction then, and whether the orders are accepted under the restriction policy:
 * - each order must be one the account's restriction now permits (reduce-only: `no-new-risk`; whole
 *   closes only: `close-only`), judged in turn with the batch's earlier orders applied;
 * - orders that add risk (open, add to or flip a position) must leave available funds (equity − initial
 *   requirement, open orders included) non-negative, and the account under a restriction that still
 *   allows new risk. Orders that only reduce are accepted whatever the funds (they free margin).
 * Pure; the same function serves the API and brokers who embed the engine. Throws InputError on bad input.
 */
export function whatIf(
  input: ValidatedInput,
  orders: readonly Order[],
  options: WhatIfOptions = {},
): WhatIfResult {
  const policy = options.policy ?? DEFAULT_RESTRICTION_POLICY;
  const before = stateOf(input, options.previous ?? null, policy, options);
  const applied = applyOrders(input, orders, options);

  const rejections: Rejection[] = [];
  const running = new Map(input.positions.map((p) => [p.instrument, p.quantity]));
  const fills: OrderFill[] = orders.map((o, i) => {
    const change = signedQuantity(o);
    const effect = orderEffect(running.get(o.instrument) ?? ZERO, change);
    running.set(o.instrument, (running.get(o.instrument) ?? ZERO).plus(change));
    if (!permits(before.restriction, effect))
      rejections.push({
        code: before.restriction === 'close-only' ? 'restricted-close-only' : 'restricted-no-new-risk',
        order: i,
        message:
          before.restriction === 'close-only'
            ? `the account is close-only: ${o.side} ${o.quantity.toFixed()} ${o.instrument} would ${effect} the position, not close it`
            : `the account is reduce-only (no-new-risk): ${o.side} ${o.quantity.toFixed()} ${o.instrument} would ${effect} the position`,
      });
    return {
      instrument: o.instrument,
      side: o.side,
      quantity: o.quantity,
      fillPrice: applied.fills[i]!,
      effect,
    };
  });

  let after: WhatIfState | null = null;
  try {
    after = stateOf(
      applied.input,
      { level: before.level, inMarginCall: before.inMarginCall },
      policy,
      options,
    );
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    rejections.push({ code: 'model-rule', order: null, message: e.message });
  }
  if (after && fills.some((f) => addsRisk(f.effect))) {
    if (after.evaluation.availableFunds.isNegative())
      rejections.push({
        code: 'insufficient-funds',
        order: null,
        message: `available funds after the orders would be ${after.evaluation.availableFunds.toFixed()} (equity ${after.evaluation.equity.toFixed()} below the initial requirement ${after.evaluation.initialRequirement.toFixed()})`,
      });
    if (!allows(after.restriction).newRisk)
      rejections.push({
        code: 'restricted-after',
        order: null,
        message: `the orders add risk and would leave the account ${after.level}${after.inMarginCall ? ' in a margin call' : ''}, restricted to ${after.restriction}`,
      });
  }
  return { before, after, orders: fills, accepted: rejections.length === 0, rejections };
}

function stateToJson(s: WhatIfState) {
  return {
    level: s.level,
    inMarginCall: s.inMarginCall,
    restriction: s.restriction,
    evaluation: evaluationToJson(s.evaluation),
  };
}

/** A what-if for the edges: decimal strings (derived values to 12 places), as evaluations are. */
export function whatIfToJson(r: WhatIfResult) {
  return {
    accepted: r.accepted,
    rejections: r.rejections,
    orders: r.orders.map((o) => ({
      instrument: o.instrument,
      side: o.side,
      quantity: toEdge(o.quantity),
      fillPrice: toEdge(o.fillPrice),
      effect: o.effect,
    })),
    before: stateToJson(r.before),
    after: r.after && stateToJson(r.after),
  };
}
