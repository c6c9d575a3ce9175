import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { DynamoWaitStore, SfnTaskCallbacks, wakeEscalation } from '../lib/escalation-waits.ts';
import { requireEnv } from '../lib/env.ts';
import { tableEnvName } from '../lib/table-definitions.ts';
import { withMetrics } from '../lib/runtime.ts';

/** The RiskLevelChanged event as EventBridge delivers it (only the account is needed). */
const wakeEventSchema = z.object({
  'detail-type': z.string(),
  detail: z.object({ accountId: z.string().min(1), to: z.string().nullable().optional() }),
});

let deps: Parameters<typeof wakeEscalation>[2] | undefined;

/**
 * The WakeOnLevelChange rule's target: ends the account's escalation wait, if one is waiting. A throttled
 * or failing SendTaskSuccess throws, so Lambda retries the asynchronous invocation (twice, then the start
 * dead-letter queue; the wait still ends at its backstop).
 */
export const handler = withMetrics(async (event: unknown) => {
  const e = wakeEventSchema.parse(event);
  deps ??= {
    waits: new DynamoWaitStore(new DynamoDBClient({}), requireEnv(tableEnvName('actions'))),
    callbacks: new SfnTaskCallbacks(new SFNClient({})),
  };
  const woken = await wakeEscalation(e.detail.accountId, `${e['detail-type']} → ${e.detail.to ?? '—'}`, deps);
  return { accountId: e.detail.accountId, woken };
});
