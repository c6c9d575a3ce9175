import { createHash } from 'node:crypto';
import { ExecutionAlreadyExists, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { executionName } from '../../shared/escalation/settings.ts';
import { riskLevelChangedSchema } from '../../shared/events/schemas.ts';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export interface StartResult {
  started: boolean;
  name: string | null;
  reason: string;
}

/**
 * Starts the escalation of an incident when an account moves to WARNING or worse. The execution name is
 * derived from account and incident, so a second start for the same incident is refused by Step
 * Functions and becomes a no-op here.
 */
export async function startEscalation(
  detail: unknown,
  sfn: Pick<SFNClient, 'send'>,
  stateMachineArn: string,
): Promise<StartResult> {
  const event = riskLevelChangedSchema.parse(detail);
  if (event.to === 'SAFE' || event.incidentId === null)
    return { started: false, name: null, reason: `level ${event.to}: nothing to escalate` };
  const name = executionName(event.accountId, event.incidentId, sha256);
  try {
    await sfn.send(
      new StartExecutionCommand({
        stateMachineArn,
        name,
        input: JSON.stringify({ accountId: event.accountId, incidentId: event.incidentId }),
      }),
    );
    return { started: true, name, reason: `incident ${event.incidentId} at ${event.to}` };
  } catch (e) {
    if (e instanceof ExecutionAlreadyExists || (e as { name?: string }).name === 'ExecutionAlreadyExists') {
      return { started: false, name, reason: 'already escalating this incident' };
    }
    throw e;
  }
}
