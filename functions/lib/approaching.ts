import { Decimal } from '../../shared/decimal.ts';
import { InputError } from '../../shared/errors.ts';
import { parseEvaluationInput } from '../../shared/margin/evaluate.ts';
import type { Alert } from '../../shared/notify/alert.ts';
import { approachingAlert } from '../../shared/notify/approaching.ts';
import type { NotificationPolicy } from '../../shared/notify/policy.ts';
import { toEngineAccount, type AccountItem } from '../../shared/pipeline/records.ts';
import type { StoredRiskState } from '../../shared/pipeline/stored-state.ts';
import { thresholdsFor } from '../../shared/risk/account-thresholds.ts';
import type { ChangedItem } from './broadcast.ts';

export interface ApproachingDeps {
  policy: () => Promise<NotificationPolicy>;
  getAccount: (accountId: string) => Promise<AccountItem | null>;
  dispatch: (alert: Alert) => Promise<unknown>;
}

/**
 * Predictive alerts from written evaluations (the risk-state stream): a state whose ratio is within the
 * policy's `approachingFraction` above its next worse threshold. Advisory: it sees what is written (level
 * changes, ratio moves of `ratioDelta`, heartbeats, sweeps), not every tick.
 */
export async function alertApproaching(changes: readonly ChangedItem[], d: ApproachingDeps): Promise<number> {
  const written = changes.filter(
    (c) => c.table === 'riskState' && c.newImage && c.newImage.version !== c.oldImage?.version,
  );
  if (written.length === 0) return 0;
  const fraction = (await d.policy()).fatigue.approachingFraction;
  if (!fraction) return 0;
  let sent = 0;
  for (const c of written) {
    const state = c.newImage as unknown as StoredRiskState;
    if (state.dataProblem) continue;
    const account = await d.getAccount(state.accountId);
    if (!account) continue;
    let parsed: ReturnType<typeof parseEvaluationInput>['account'];
    try {
      parsed = parseEvaluationInput({ account: toEngineAccount(account), positions: [] }).account;
    } catch (e) {
      // Changed to something invalid since the state was written: its next evaluation names the field
      // (invalid-data); no prediction from it, and no failed batch for the others.
      if (e instanceof InputError) continue;
      throw e;
    }
    const alert = approachingAlert(
      {
        accountId: state.accountId,
        level: state.level,
        marginRatio: state.marginRatio,
        evaluatedAt: state.evaluatedAt,
        callMove: state.evaluation?.distanceToCall.call.move ?? null,
        incidentId: state.tracker?.incident?.id ?? null,
      },
      thresholdsFor(parsed, new Decimal(state.equity ?? '0')),
      fraction,
    );
    if (alert) {
      await d.dispatch(alert);
      sent += 1;
    }
  }
  return sent;
}
