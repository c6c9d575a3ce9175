import { z } from 'zod';
import { Decimal, ZERO, sum, toEdge } from '../decimal.ts';
import { InputError, type OrderRejectionCode } from '../errors.ts';
import { buildBook, evaluateBook, withAccountFields, type ValidatedInput } from '../margin/evaluate.ts';
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

/**
 * Whether the account's model prices a position from its cost (gross: initial on cost; a tiered table on
 * the entry notional): a longer position's average cost must then be the weighted one, even where that is
 * no finite decimal. Elsewhere the average cost changes nothing a model reads, so it is kept, exactly.
 */
function pricesFromCost(input: ValidatedInput): boolean {
  return input.account.model === 'gross' || input.account.params.maintenanceBasis === 'entry';
}

/**
 * The book after the orders fill (each at its limit price, a market order at the current price). Orders
 * are netted per instrument, so a batch's result does not depend on how it is listed, and an order with
 * its exact reverse leaves the book as it was. Per instrument, with Δ the net signed quantity and F the
 * signed fill notional Σ q·price:
 * - the position goes to quantity Q + Δ; its average cost is kept when it shrinks or grows (weighted when
 *   the model prices from cost), and is the lowest fill price of the net's side when it opens or flips;
 * - spot: cash moves by −multiplier · F. Contracts: the wallet moves so that equity moves exactly as the
 *   fills say (cash − multiplier · Σ Q·avgCost falls by multiplier · F): realised PnL on a reduction, and
 *   on an increase at a kept average cost the difference from the fill price (a venue would weight the
 *   entry instead; equity, requirements and every ratio are the same, only the wallet/entry split differs).
 * Prices stay the current ones: a fill away from the market shows at once in equity. Every figure stays
 * a finite decimal (no division), so the fast path evaluates the book after.
 */
export function applyOrders(
  input: ValidatedInput,
  orders: readonly Order[],
  options: Pick<WhatIfOptions, 'marks'> = {},
): { input: ValidatedInput; fills: Decimal[] } {
  const valuation = MODELS[input.account.model].valuation;
  const weighted = pricesFromCost(input);
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
    const multiplier = current?.multiplier ?? orders[indexes[0]!]!.multiplier ?? new Decimal(1);
    if (valuation === 'spot') cash = cash.minus(multiplier.times(notional));
    if (net.isZero() && !current) {
      if (valuation === 'derivative') cash = cash.minus(multiplier.times(notional)); // a round trip's PnL
      continue;
    }
    const quantity = current?.quantity ?? ZERO;
    const avgCost = current?.avgCost ?? current?.price;
    const after = quantity.plus(net);
    // The net's side: its lowest fill price (an entry for a new or flipped position), its weighted price.
    const side = indexes.filter((i) => signedQuantity(orders[i]!).isNegative() === net.isNegative());
    const lowest = side.reduce((m, i) => Decimal.min(m, fills[i]!), fills[side[0] ?? indexes[0]!]!);
    const opens = quantity.isZero() || (!after.isZero() && after.isNegative() !== quantity.isNegative());
    const grows = !opens && !net.isZero() && net.isNegative() === quantity.isNegative();
    let entry = avgCost ?? lowest;
    if (opens) {
      entry = weighted
        ? sum(side.map((i) => orders[i]!.quantity.times(fills[i]!))).dividedBy(
            sum(side.map((i) => orders[i]!.quantity)),
          )
        : lowest;
    } else if (grows && weighted) {
      const sidePrice = sum(side.map((i) => orders[i]!.quantity.times(fills[i]!))).dividedBy(
        sum(side.map((i) => orders[i]!.quantity)),
      );
      entry = quantity.abs().times(avgCost!).plus(net.abs().times(sidePrice)).dividedBy(after.abs());
    }
    if (valuation === 'derivative')
      cash = cash
        .minus(multiplier.times(notional))
        .plus(multiplier.times(after.times(entry).minus(quantity.times(avgCost ?? ZERO))));
    if (current) {
      positions[index!] = {
        ...current,
        quantity: after,
        ...(current.avgCost !== undefined || valuation === 'derivative' || opens ? { avgCost: entry } : {}),
      };
    } else {
      const mark = options.marks?.get(instrument) ?? lowest;
      positions.push({
        ...newPosition(instrument, mark, orders[indexes[0]!]!.multiplier),
        quantity: after,
        avgCost: entry,
      });
    }
  }
  // The same parsed params (and so the same compiled rule) as the account before: only cash moved.
  return { input: withAccountFields(input, { cash }, positions), fills };
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
