import { Decimal } from '../../shared/decimal.ts';
import type { LiquidationPriority, Strategy } from '../../shared/deleverage/ordering.ts';
import { planDeleverage, type Plan } from '../../shared/deleverage/planner.ts';
import type { EscalationConfig } from '../../shared/escalation/settings.ts';
import { parseEvaluationInput } from '../../shared/margin/evaluate.ts';
import { toEngineInput } from '../../shared/pipeline/records.ts';
import { defaultTarget } from '../../shared/replay/policy.ts';
import { thresholdsFor } from '../../shared/risk/account-thresholds.ts';
import type { RiskRepository } from './risk-repository.ts';

export interface PlanForAccount {
  accountId: string;
  incidentId: string;
  step: string;
  fullLiquidation: boolean;
  policy: EscalationConfig['policy'];
  /** When the plan is made (TWAP slices start then). */
  now?: Date;
  /** Manual requests may override the configured policy. */
  overrides?: { targetRatio?: Decimal; strategy?: Strategy; liquidationPriority?: LiquidationPriority };
}

/**
 * The account as stored now (positions joined to their latest prices) planned by the configured policy:
 * shared by the automated escalation steps and the manual API actions. Null if the account is gone.
 */
export async function planForAccount(
  repo: Pick<RiskRepository, 'getAccount' | 'getPositions' | 'getPrices' | 'getRiskState'>,
  r: PlanForAccount,
): Promise<Plan | null> {
  const [account, positions, state] = await Promise.all([
    repo.getAccount(r.accountId),
    repo.getPositions(r.accountId),
    repo.getRiskState(r.accountId),
  ]);
  if (!account) return null;
  const prices = await repo.getPrices(positions.map((p) => p.instrument));
  const input = parseEvaluationInput(toEngineInput(account, positions, prices));
  const thresholds = thresholdsFor(input.account, new Decimal(state?.equity ?? '0'));
  return planDeleverage({
    input,
    targetRatio:
      r.overrides?.targetRatio ?? defaultTarget(r.policy, thresholds.warning, thresholds.hysteresis),
    strategy: r.overrides?.strategy ?? r.policy.strategy,
    liquidationPriority: r.overrides?.liquidationPriority ?? r.policy.liquidationPriority,
    execution: r.policy.execution,
    incidentId: r.incidentId,
    step: r.step,
    fullLiquidation: r.fullLiquidation,
    orderMethod: r.policy.orders[r.fullLiquidation ? 'liquidation' : 'deleverage'],
    // Tiered accounts: a liquidation first tries stepping positions down a tier, if that leaves LIQUIDATION.
    stepDownFloor: thresholds.liquidation.plus(thresholds.hysteresis),
    now: r.now,
  });
}
