import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { fromZodError, type FieldIssue } from '../../shared/errors.ts';
import { riskLevelChangedSchema } from '../../shared/events/schemas.ts';
import { tableEnvName } from '../lib/table-definitions.ts';
import { ActionsRepository } from '../lib/actions-repository.ts';
import { forEachLimit } from '../lib/concurrency.ts';
import { requireEnv } from '../lib/env.ts';
import { SqsDeadLetter, type DeadLetter } from '../lib/queues.ts';
import { logger, metrics, withMetrics } from '../lib/runtime.ts';
import type { Telemetry } from '../lib/telemetry.ts';
import { ESCALATION_START_LIMITS } from './limits.ts';
import { countFailedAttempts, startEscalation, type StartOptions } from './start.ts';

export interface StarterDeps {
  sfn: Pick<SFNClient, 'send'>;
  stateMachineArn: string;
  deadLetter: DeadLetter;
  telemetry: Telemetry;
  log: Pick<typeof logger, 'info' | 'warn' | 'error'>;
  /** Backoff bounds, and in tests the sleep and random behind them. */
  start?: Omit<StartOptions, 'onRetry' | 'failedAttempts'>;
  /** Failed attempts at an incident so far (its next execution's attempt); every start is the first without it. */
  failedAttempts?: StartOptions['failedAttempts'];
  /** StartExecution calls in flight per invocation. */
  parallelism?: number;
}

/** The EventBridge event the StartOnRisk rule puts on the start queue, as the message body. */
const startMessageSchema = z.object({
  'detail-type': z.literal('RiskLevelChanged'),
  detail: riskLevelChangedSchema,
});

function parseBody(body: string): { ok: true; detail: unknown } | { ok: false; issues: FieldIssue[] } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, issues: [{ field: 'body', message: 'not JSON' }] };
  }
  const parsed = startMessageSchema.safeParse(json);
  return parsed.success
    ? { ok: true, detail: parsed.data.detail }
    : { ok: false, issues: fromZodError(parsed.error).issues };
}

/**
 * Start-queue messages → escalation starts: parse each body, start, report. A start still throttled after
 * its retries (or failing otherwise) is a batch item failure: the message comes back after the visibility
 * timeout and, after maxReceiveCount receives, lands in the start dead-letter queue. A body that can never
 * start (not the event, or not a valid RiskLevelChanged) is dead-lettered with the field named, once.
 */
export function makeStarterHandler(deps: () => StarterDeps) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const d = deps();
    const failures = await forEachLimit(
      event.Records,
      d.parallelism ?? ESCALATION_START_LIMITS.parallelism,
      async (record: SQSRecord) => {
        const parsed = parseBody(record.body);
        if (!parsed.ok) {
          await d.deadLetter.send('invalid-escalation-start', record.body, parsed.issues);
          d.telemetry.count('DeadLettered');
          return;
        }
        const result = await startEscalation(parsed.detail, d.sfn, d.stateMachineArn, {
          ...d.start,
          failedAttempts: d.failedAttempts,
          onRetry: () => d.telemetry.count('EscalationStartRetries'),
        });
        if (result.started) d.telemetry.count('EscalationsStarted');
        if (result.started && result.name?.match(/-r\d+$/)) d.telemetry.count('EscalationsRestarted');
        d.log.info('escalation start', { messageId: record.messageId, ...result });
      },
    );
    for (const f of failures) {
      d.log.error('escalation start failed; the message returns to the queue', {
        messageId: f.item.messageId,
        error: (f.error as Error).message,
      });
      d.telemetry.count('EscalationStartsDeferred');
    }
    return { batchItemFailures: failures.map((f) => ({ itemIdentifier: f.item.messageId })) };
  };
}

/**
 * Real clients, once per container. The Step Functions client does not retry: startEscalation's backoff
 * is the one policy. The failed-attempt reads (one GetItem for an incident that never failed) keep the
 * SDK's retries; still failing, the message is retried.
 */
let cached: StarterDeps | undefined;
function lambdaStarterDeps(): StarterDeps {
  if (cached) return cached;
  const actions = new ActionsRepository(new DynamoDBClient({}), requireEnv(tableEnvName('actions')));
  cached = {
    sfn: new SFNClient({
      maxAttempts: 1,
      requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 },
    }),
    stateMachineArn: requireEnv('STATE_MACHINE_ARN'),
    deadLetter: new SqsDeadLetter(new SQSClient({}), requireEnv('DEAD_LETTER_QUEUE_URL')),
    failedAttempts: (accountId, incidentId) =>
      countFailedAttempts((a, i, step) => actions.getStep(a, i, step), accountId, incidentId),
    telemetry: { count: (name, value = 1) => metrics.addMetric(name, MetricUnit.Count, value) },
    log: logger,
  };
  return cached;
}

export const handler = withMetrics(makeStarterHandler(lambdaStarterDeps));
