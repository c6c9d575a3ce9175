import { createHash } from 'node:crypto';
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

/** What a plan is made of: the account, its positions and their latest prices (with their times). */
export interface PlanBasis {
  account: NonNullable<Awaited<ReturnType<RiskRepository['getAccount']>>>;
  positions: Awaited<ReturnType<RiskRepository['getPositions']>>;
  prices: Awaited<ReturnType<RiskRepository['getPrices']>>;
  equity: string;
}

type PlanRepo = Pick<RiskRepository, 'getAccount' | 'getPositions' | 'getPrices' | 'getRiskState'>;

/** The account as stored now, positions joined to their latest prices. Null if the account is gone. */
export async function loadPlanBasis(repo: PlanRepo, accountId: string): Promise<PlanBasis | null> {
  const [account, positions, state] = await Promise.all([
    repo.getAccount(accountId),
    repo.getPositions(accountId),
    repo.getRiskState(accountId),
  ]);
  if (!account) return null;
  const prices = await repo.getPrices(positions.map((p) => p.instrument));
  return { account, positions, prices, equity: state?.equity ?? '0' };
}

/** A basis planned by the configured policy (with a manual request's overrides). */
export function planFromBasis(basis: PlanBasis, r: Omit<PlanForAccount, 'accountId'>): Plan {
  const input = parseEvaluationInput(toEngineInput(basis.account, basis.positions, basis.prices));
  const thresholds = thresholdsFor(input.account, new Decimal(basis.equity));
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

/**
 * The account as stored now (positions joined to their latest prices) planned by the configured policy:
 * shared by the automated escalation steps and the manual API actions. Null if the account is gone.
 */
export async function planForAccount(repo: PlanRepo, r: PlanForAccount): Promise<Plan | null> {
  const basis = await loadPlanBasis(repo, r.accountId);
  return basis && planFromBasis(basis, r);
}

/**
 * A manual plan's id: a digest of everything the plan was made from — the account, each position, each
 * price and its time, the equity, the policy and the request's kind and options. The same decision on the
 * same data is the same id (a double click, a retry, a second tab); a newer price, a fill or other options
 * make another one, so a confirmation of a plan older than its prices is told apart.
 */
export function planIdOf(
  basis: PlanBasis,
  request: { kind: 'deleverage' | 'liquidate'; plan: Plan; policy: EscalationConfig['policy'] },
): string {
  const { plan } = request;
  const canonical = canonicalJson([
    basis.account,
    [...basis.positions].sort((a, b) => (a.instrument < b.instrument ? -1 : 1)),
    [...basis.prices.entries()].sort(([a], [b]) => (a < b ? -1 : 1)),
    basis.equity,
    request.kind,
    plan.targetRatio.toFixed(),
    plan.strategy,
    plan.liquidationPriority,
    request.policy,
  ]);
  return `plan-${createHash('sha256').update(canonical).digest('base64url').slice(0, 32)}`;
}

/** JSON with every object's keys sorted (a stored item's attribute order is not part of its meaning). */
function canonicalJson(v: unknown): string {
  if (v instanceof Decimal) return JSON.stringify(v.toFixed());
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}
