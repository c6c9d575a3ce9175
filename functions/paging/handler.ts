import { z } from 'zod';
import { parseOrThrow } from '../../shared/errors.ts';
import type { Dispatcher } from '../lib/dispatcher.ts';
import { awsDispatcher } from '../lib/notifications.ts';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { alertApproaching } from '../lib/approaching.ts';
import { streamChanges } from '../lib/broadcast.ts';
import { readEnv } from '../lib/env.ts';
import { SqsDeadLetter } from '../lib/queues.ts';
import { RiskRepository } from '../lib/risk-repository.ts';
import { withMetrics } from '../lib/runtime.ts';
import { classified, PermanentError } from '../lib/step-errors.ts';

export const pagingInputSchema = z.object({
  /**
   * `start` pages the first tier; `escalate` runs after each wait; `flush` sends held deliveries
   * (schedule); `failed` is the workflow's catch path: the ladder stopped after its retries.
   */
  action: z.enum(['start', 'escalate', 'flush', 'failed']),
  pageId: z.string().min(1).optional(),
  /** The rung the workflow last saw (from the previous step's output). */
  tier: z.number().int().min(0).optional(),
  attempt: z.number().int().min(0).optional(),
  /** Set by the catch path on `failed`: Step Functions' `{Error, Cause}`. */
  error: z.unknown().optional(),
});

export interface PagingStepDeps extends Pick<Dispatcher, 'pageStep' | 'flushHeld'> {
  /**
   * A ladder that failed after its retries: recorded (the dead-letter queue, alarmed) and told to ops.
   * @default - not reported (local mode: the failed run is in its report)
   */
  reportFailure?: (failure: { pageId: string; error: unknown }) => Promise<void>;
}

/**
 * One step of the paging workflow (or the flush). Its failure reaches Step Functions classified
 * (functions/lib/step-errors.ts): `TransientError` is retried with backoff, `PermanentError` goes
 * straight to the catch path.
 */
export function runPagingStep(raw: unknown, d: PagingStepDeps) {
  return classified(async () => {
    const input = parseOrThrow(pagingInputSchema, raw, ['input']);
    if (input.action === 'flush') return { flushed: await d.flushHeld() };
    if (!input.pageId)
      throw new PermanentError('InputError', 'input.pageId: required for start, escalate and failed');
    if (input.action === 'failed') {
      await d.reportFailure?.({ pageId: input.pageId, error: input.error ?? 'unknown' });
      return { pageId: input.pageId, reported: d.reportFailure !== undefined };
    }
    return d.pageStep(input.action, input.pageId, {
      tier: input.tier ?? 0,
      attempt: input.attempt ?? 0,
    });
  });
}

/** Both records of a failed ladder are attempted; either failing fails the step (retried: both again). */
async function reportEach(...reports: (() => Promise<unknown>)[]): Promise<void> {
  const results = await Promise.allSettled(reports.map((r) => r()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

let deps:
  { steps: PagingStepDeps; dispatcher: Dispatcher; repo: RiskRepository; riskState: string } | undefined;

/**
 * The notifications Lambda: the on-call ladder's steps, the held-delivery flush, and predictive
 * (approaching) alerts from the risk-state stream — one thin handler over the dispatcher.
 */
export const handler = withMetrics(async (event: unknown) => {
  if (!deps) {
    const env = readEnv();
    const dispatcher = awsDispatcher();
    const deadLetter = new SqsDeadLetter(new SQSClient({}), env.deadLetterQueueUrl);
    const opsTopicArn = process.env.OPS_TOPIC_ARN;
    const sns = new SNSClient({});
    deps = {
      dispatcher,
      steps: {
        pageStep: (...args) => dispatcher.pageStep(...args),
        flushHeld: () => dispatcher.flushHeld(),
        reportFailure: ({ pageId, error }) =>
          reportEach(
            () =>
              deadLetter.send('paging-failed', { pageId, error }, [
                { field: 'pageId', message: 'the on-call ladder stopped after its retries' },
              ]),
            async () => {
              if (!opsTopicArn) return;
              await sns.send(
                new PublishCommand({
                  TopicArn: opsTopicArn,
                  Subject: 'Margin Guard: an on-call page stopped climbing its ladder',
                  Message:
                    `The paging workflow of page ${pageId} failed after its retries: nobody further up the ` +
                    `ladder will be paged for it. Check the page and page by hand.\n\n` +
                    `Error: ${JSON.stringify(error).slice(0, 2000)}`,
                }),
              );
            },
          ),
      },
      repo: new RiskRepository(new DynamoDBClient({}), env.tables),
      riskState: env.tables.riskState,
    };
  }
  const d = deps;
  if (!(event && typeof event === 'object' && 'Records' in event)) return runPagingStep(event, d.steps);
  const changes = streamChanges(event as DynamoDBStreamEvent, { [d.riskState]: 'riskState' });
  return {
    approaching: await alertApproaching(changes, {
      policy: () => d.dispatcher.policy(),
      getAccount: (id) => d.repo.getAccount(id),
      dispatch: (alert) => d.dispatcher.dispatch(alert),
    }),
  };
});
