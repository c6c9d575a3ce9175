import type { APIGatewayProxyEvent } from 'aws-lambda';
import { z } from 'zod';
import { Decimal } from '../../shared/decimal.ts';
import { buildBook, parseEvaluationInput } from '../../shared/margin/evaluate.ts';
import { heldPositions, toEngineInput, valuationPrice } from '../../shared/pipeline/records.ts';
import type { StoredRiskState } from '../../shared/pipeline/stored-state.ts';
import { thresholdsFor } from '../../shared/risk/account-thresholds.ts';
import {
  allows,
  DEFAULT_RESTRICTION_POLICY,
  restrictionFor,
  type Restriction,
  type RestrictionPolicy,
} from '../../shared/risk/restrictions.ts';
import { riskStateFromJson } from '../../shared/risk/tracker-json.ts';
import { proposedOrdersSchema, whatIf, whatIfToJson } from '../../shared/risk/what-if.ts';
import { withdrawable } from '../../shared/risk/withdrawable.ts';
import { HttpError, json, notFound, parseBody } from './http.ts';
import type { ApiDeps, Route } from './route-types.ts';

/** The restriction in force: stored with the state, or (a state written before restrictions) the policy's. */
export function restrictionOf(state: StoredRiskState, policy: RestrictionPolicy): Restriction {
  return (
    state.restriction ??
    restrictionFor(policy, state.level, riskStateFromJson(state.tracker).marginCall !== null)
  );
}

export const whatIfBody = z.strictObject({
  orders: proposedOrdersSchema,
  /** Per-position call and zero-equity prices in the evaluations too (slower); default false. */
  positionPrices: z.boolean().default(false),
});

const policyOf = (d: ApiDeps) => d.restrictionPolicy ?? DEFAULT_RESTRICTION_POLICY;

/** The account as stored now, its held positions at their latest prices, and its tracked state. */
async function loadBook(d: ApiDeps, id: string, extraInstruments: readonly string[] = []) {
  const [account, positions, state] = await Promise.all([
    d.repo.getAccount(id),
    d.repo.getPositions(id),
    d.repo.getRiskState(id),
  ]);
  if (!account) throw notFound(`account ${id}`);
  const held = heldPositions(positions);
  const prices = await d.repo.getPrices([...held.map((p) => p.instrument), ...extraInstruments]);
  const missing = held.filter((p) => !prices.has(p.instrument)).map((p) => p.instrument);
  if (missing.length > 0)
    throw new HttpError(
      409,
      'missing-prices',
      `no price for ${missing.sort().join(', ')}: margin cannot be computed`,
    );
  const input = parseEvaluationInput(toEngineInput(account, held, prices));
  const tracked = state
    ? { level: state.level, inMarginCall: riskStateFromJson(state.tracker).marginCall !== null }
    : null;
  return { input, prices, tracked, state };
}

const asOf = (d: ApiDeps) => (d.now?.() ?? new Date()).toISOString().slice(0, 10);

export const BROKER_CONTROL_ROUTES: Route[] = [
  {
    method: 'GET',
    path: '/accounts/{id}/withdrawable',
    summary:
      'Cash that can leave without changing the account’s level or putting it into a margin call (exact, from the distance solver), and what its trading restriction allows now',
    handle: async (e: APIGatewayProxyEvent, d) => {
      const id = accountIdOf(e);
      const { input, tracked, state } = await loadBook(d, id);
      const { model, book } = buildBook(input, { asOf: asOf(d) });
      const w = withdrawable(model, book, {
        level: tracked?.level ?? null,
        inMarginCall: tracked?.inMarginCall ?? false,
        thresholdsAt: (equity) => thresholdsFor(input.account, equity),
      });
      const restriction = restrictionFor(policyOf(d), w.level, tracked?.inMarginCall ?? false);
      // Rounded down at the edge: never more than the exact bound.
      const amount = w.amount.toDecimalPlaces(12, Decimal.ROUND_DOWN);
      return json(200, {
        accountId: id,
        level: w.level,
        inMarginCall: tracked?.inMarginCall ?? false,
        restriction,
        withdrawable: amount.isZero() ? '0' : amount.toFixed(),
        inclusive: w.inclusive,
        limitedBy: w.limitedBy,
        allowed: allows(restriction).withdrawals ? (amount.isZero() ? '0' : amount.toFixed()) : '0',
        cash: input.account.cash.toFixed(),
        // The latest evaluation's data problem (stale or missing prices): the figures above trust them.
        dataProblem: state?.dataProblem ?? null,
      });
    },
  },
  {
    method: 'POST',
    path: '/accounts/{id}/what-if',
    summary:
      'Pre-trade what-if: the account’s margin after proposed orders (instrument, side, quantity, price or market), its level and restriction then, and whether the orders would be accepted; nothing is stored',
    body: whatIfBody,
    handle: async (e, d) => {
      const id = accountIdOf(e);
      const body = parseBody(e, whatIfBody);
      const { input, prices, tracked, state } = await loadBook(
        d,
        id,
        body.orders.map((o) => o.instrument),
      );
      const marks = new Map([...prices].map(([k, p]) => [k, new Decimal(valuationPrice(p))]));
      const result = whatIf(input, body.orders, {
        previous: tracked,
        policy: policyOf(d),
        marks,
        asOf: asOf(d),
        positionPrices: body.positionPrices,
      });
      return json(200, {
        accountId: id,
        ...whatIfToJson(result),
        dataProblem: state?.dataProblem ?? null,
      });
    },
  },
];

function accountIdOf(e: APIGatewayProxyEvent): string {
  const id = e.pathParameters?.id ?? '';
  if (!/^[A-Za-z0-9._:@-]{1,128}$/.test(id))
    throw new HttpError(400, 'invalid-input', 'path.id: not a valid account id');
  return id;
}
