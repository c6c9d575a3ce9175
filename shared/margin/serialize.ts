import { Decimal, toEdge, toEdgeOrNull } from '../decimal.ts';
import type { Move } from './distance.ts';
import type { Evaluation, PositionEvaluation } from './evaluation.ts';

/** JSON shape of an evaluation: every Decimal as a decimal string. */
export type EvaluationJson = ReturnType<typeof evaluationToJson>;

function moveToJson(move: Move) {
  return { move: toEdgeOrNull(move.move), fall: toEdgeOrNull(move.fall), rise: toEdgeOrNull(move.rise) };
}

function positionToJson(p: PositionEvaluation) {
  return {
    instrument: p.instrument,
    quantity: toEdge(p.quantity),
    price: toEdge(p.price),
    marketValue: toEdge(p.marketValue),
    initialRequirement: toEdge(p.initialRequirement),
    maintenanceRequirement: toEdge(p.maintenanceRequirement),
    ...(p.callPrice !== undefined ? { callPrice: toEdgeOrNull(p.callPrice) } : {}),
    ...(p.zeroEquityPrice !== undefined ? { zeroEquityPrice: toEdgeOrNull(p.zeroEquityPrice) } : {}),
    ...(p.liquidationPrice !== undefined ? { liquidationPrice: toEdgeOrNull(p.liquidationPrice) } : {}),
    ...(p.bankruptcyPrice !== undefined ? { bankruptcyPrice: toEdgeOrNull(p.bankruptcyPrice) } : {}),
  };
}

function detailToJson(value: Evaluation['details'][string]) {
  return value instanceof Decimal ? toEdge(value) : value;
}

export function evaluationToJson(e: Evaluation) {
  return {
    accountId: e.accountId,
    model: e.model,
    asOf: e.asOf,
    cash: toEdge(e.cash),
    equity: toEdge(e.equity),
    longMarketValue: toEdge(e.longMarketValue),
    shortMarketValue: toEdge(e.shortMarketValue),
    grossExposure: toEdge(e.grossExposure),
    netExposure: toEdge(e.netExposure),
    leverage: toEdgeOrNull(e.leverage),
    initialRequirement: toEdge(e.initialRequirement),
    maintenanceRequirement: toEdge(e.maintenanceRequirement),
    excessLiquidity: toEdge(e.excessLiquidity),
    availableFunds: toEdge(e.availableFunds),
    buyingPower: toEdge(e.buyingPower),
    marginRatio: toEdgeOrNull(e.marginRatio),
    marginLevelPct: toEdgeOrNull(e.marginLevelPct),
    callRatio: toEdge(e.callRatio),
    inMarginCall: e.inMarginCall,
    distanceToCall: {
      call: moveToJson(e.distanceToCall.call),
      zeroEquity: moveToJson(e.distanceToCall.zeroEquity),
    },
    positions: e.positions.map(positionToJson),
    details: Object.fromEntries(Object.entries(e.details).map(([k, v]) => [k, detailToJson(v)])),
    violations: e.violations,
  };
}
