import { Decimal } from '../shared/decimal.ts';
import type { EvaluationJson } from '../shared/margin/serialize.ts';
import { renderPairs, renderTable } from './table.ts';

/** A signed fraction ("-0.1577") as a percentage ("-15.77%"), rounded in decimal. */
function pct(fraction: string | null): string | null {
  return fraction === null ? null : `${new Decimal(fraction).times(100).toDecimalPlaces(2).toFixed()}%`;
}

function fixed(value: string, places: number): string {
  return new Decimal(value).toDecimalPlaces(places).toFixed();
}

function money(value: string | null): string | null {
  if (value === null) return null;
  const [whole, frac] = value.split('.');
  const grouped = whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac ? `${grouped}.${frac.slice(0, 6)}` : grouped;
}

export function formatEvaluationTable(e: EvaluationJson): string {
  const call = e.distanceToCall.call;
  const zero = e.distanceToCall.zeroEquity;
  const summary = renderPairs([
    ['account', `${e.accountId} (${e.model}, as of ${e.asOf})`],
    ['equity', money(e.equity)],
    ['cash', money(e.cash)],
    ['long market value', money(e.longMarketValue)],
    ['short market value', money(e.shortMarketValue)],
    ['gross exposure', money(e.grossExposure)],
    ['leverage', e.leverage === null ? 'unbounded (equity ≤ 0)' : `${fixed(e.leverage, 2)}x`],
    ['initial requirement', money(e.initialRequirement)],
    ['maintenance requirement', money(e.maintenanceRequirement)],
    ['excess liquidity', money(e.excessLiquidity)],
    ['available funds', money(e.availableFunds)],
    ['buying power', money(e.buyingPower)],
    ['margin ratio', e.marginRatio === null ? 'no requirement' : fixed(e.marginRatio, 4)],
    ['margin level', e.marginLevelPct === null ? null : `${fixed(e.marginLevelPct, 2)}%`],
    ['in margin call', e.inMarginCall ? `YES (ratio below ${e.callRatio})` : 'no'],
    ['move to margin call', call.move === null ? 'none reaches it' : pct(call.move)],
    ['move to zero equity', zero.move === null ? 'none reaches it' : pct(zero.move)],
    ...Object.entries(e.details).map(([k, v]): [string, string | null] => [k, v === null ? null : String(v)]),
  ]);
  const positions = renderTable(
    ['instrument', 'quantity', 'price', 'market value', 'maintenance', 'call price', 'zero-equity price'],
    e.positions.map((p) => [
      p.instrument,
      p.quantity,
      p.price,
      money(p.marketValue),
      money(p.maintenanceRequirement),
      p.callPrice ?? null,
      p.zeroEquityPrice ?? null,
    ]),
  );
  const violations = e.violations.length
    ? `\n\nviolations:\n${e.violations.map((v) => `  - ${v}`).join('\n')}`
    : '';
  return `${summary}\n\n${positions}${violations}`;
}
