import { z } from 'zod';
import { Decimal } from '../decimal.ts';
import { buildBook, evaluateBook, type EvaluateOptions, type ValidatedInput } from '../margin/evaluate.ts';
import { decimalString } from '../schemas/decimal-string.ts';
import type { Position } from '../schemas/position.ts';
import { classify, type RiskLevel, type Thresholds } from './levels.ts';

export const stressScenarioSchema = z.object({
  name: z.string().min(1),
  /** Moves keyed by instrument (its own move) or by asset class (scaled by each position's leverage factor). */
  shocks: z.record(
    z.string(),
    decimalString.refine((d) => d.greaterThan(-1), { error: 'must be above -1 (-100%)' }),
  ),
});
export type StressScenario = z.output<typeof stressScenarioSchema>;

const named = (name: string, shocks: Record<string, string>): StressScenario => ({
  name,
  shocks: Object.fromEntries(Object.entries(shocks).map(([k, v]) => [k, new Decimal(v)])),
});

export const DEFAULT_STRESS_SCENARIOS: StressScenario[] = [
  named('flash crash (equities -10%)', { equity: '-0.10' }),
  named('COVID-19 crash 2020 (equities -34%)', { equity: '-0.34' }),
  named('2008 crisis (equities -50%)', { equity: '-0.50' }),
  named('crypto winter (crypto -70%)', { crypto: '-0.70' }),
  named('short squeeze (equities +25%)', { equity: '0.25' }),
  named('everything down (equities -20%, crypto -50%, futures -15%)', {
    equity: '-0.20',
    crypto: '-0.50',
    future: '-0.15',
  }),
];

export interface StressResult {
  scenario: string;
  equity: Decimal;
  pnl: Decimal;
  marginRatio: Decimal | null;
  level: RiskLevel;
  inMarginCall: boolean;
}

function shocked(position: Position, shocks: StressScenario['shocks']): Position {
  const own = shocks[position.instrument];
  const market = shocks[position.assetClass];
  const move = own ?? (market === undefined ? new Decimal(0) : market.times(position.leverageFactor));
  // An inverse or leveraged product cannot fall below zero.
  const price = Decimal.max(new Decimal('1e-12'), position.price.times(move.plus(1)));
  return { ...position, price };
}

export function stressTest(
  input: ValidatedInput,
  scenarios: readonly StressScenario[],
  thresholds: Thresholds,
  options: EvaluateOptions = {},
): StressResult[] {
  const { model, book } = buildBook(input, options);
  const base = evaluateBook(model, book, { positionPrices: false });
  return scenarios.map((s) => {
    const e = evaluateBook(
      model,
      { ...book, positions: book.positions.map((p) => shocked(p, s.shocks)) },
      { positionPrices: false },
    );
    return {
      scenario: s.name,
      equity: e.equity,
      pnl: e.equity.minus(base.equity),
      marginRatio: e.marginRatio,
      level: classify(e.marginRatio, e.equity, null, thresholds),
      inMarginCall: e.inMarginCall,
    };
  });
}
