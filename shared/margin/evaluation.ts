import { ZERO, type Decimal } from '../decimal.ts';
import type { ModelName } from '../schemas/account.ts';
import type { Move } from './distance.ts';

export interface PositionEvaluation {
  instrument: string;
  quantity: Decimal;
  price: Decimal;
  /** Signed: negative for shorts. */
  marketValue: Decimal;
  initialRequirement: Decimal;
  maintenanceRequirement: Decimal;
  /** This price alone (others unchanged) triggers the margin call; null if no price does; absent if not asked. */
  callPrice?: Decimal | null;
  /** This price alone (others unchanged) takes equity to zero; null if no price does; absent if not asked. */
  zeroEquityPrice?: Decimal | null;
  liquidationPrice?: Decimal | null;
  bankruptcyPrice?: Decimal | null;
}

/**
 * A summary from the fast path is a lazy object (fields are getters on its prototype, each decimal made on
 * first read): read the fields, or evaluationToJson() for a plain copy; never spread it or list its keys.
 */
export interface Evaluation {
  accountId: string;
  model: ModelName;
  asOf: string;
  cash: Decimal;
  equity: Decimal;
  longMarketValue: Decimal;
  /** Positive size of short market value. */
  shortMarketValue: Decimal;
  grossExposure: Decimal;
  netExposure: Decimal;
  /** Gross exposure / equity; 0 for a flat book; null when equity ≤ 0 with exposure (see leverageOf). */
  leverage: Decimal | null;
  initialRequirement: Decimal;
  maintenanceRequirement: Decimal;
  excessLiquidity: Decimal;
  availableFunds: Decimal;
  buyingPower: Decimal;
  /** Equity / maintenance requirement; null when there is no requirement. */
  marginRatio: Decimal | null;
  /** Equity as a percentage of gross exposure; null when flat. */
  marginLevelPct: Decimal | null;
  callRatio: Decimal;
  inMarginCall: boolean;
  distanceToCall: { call: Move; zeroEquity: Move };
  positions: PositionEvaluation[];
  details: Record<string, Decimal | boolean | string | number | null>;
  violations: string[];
}

/**
 * Gross exposure / equity. A flat book has no leverage (0, whatever its equity); with exposure and
 * equity ≤ 0 leverage is unbounded: null, never a division by zero (decimal.js counts 0 as positive).
 */
export function leverageOf(grossExposure: Decimal, equity: Decimal): Decimal | null {
  if (grossExposure.isZero()) return ZERO;
  return equity.greaterThan(0) ? grossExposure.dividedBy(equity) : null;
}
