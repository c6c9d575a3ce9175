import { z } from 'zod';
import { parseOrThrow } from '../../shared/errors.ts';
import type { Dispatcher } from '../lib/dispatcher.ts';
import { awsDispatcher } from '../lib/notifications.ts';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { alertApproaching } from '../lib/approaching.ts';
import { streamChanges } from '../lib/broadcast.ts';
import { readEnv } from '../lib/env.ts';
import { RiskRepository } from '../lib/risk-repository.ts';
import { withMetrics } from '../lib/runtime.ts';

export const pagingInputSchema = z.object({
  /** `start` pages the first tier; `escalate` runs after each wait; `flush` sends held deliveries (schedule). */
  action: z.enum(['start', 'escalate', 'flush']),
  pageId: z.string().min(1).optional(),
  /** The rung the workflow last saw (from the previous step's output). */
  tier: z.number().int().min(0).optional(),
  attempt: z.number().int().min(0).optional(),
});

export async function runPagingStep(raw: unknown, d: Pick<Dispatcher, 'pageStep' | 'flushHeld'>) {
  const input = parseOrThrow(pagingInputSchema, raw, ['input']);
  if (input.action === 'flush') return { flushed: await d.flushHeld() };
  if (!input.pageId) throw new Error('input.pageId: required for start and escalate');
  return d.pageStep(input.action, input.pageId, { tier: input.tier ?? 0, attempt: input.attempt ?? 0 });
}

let deps: { dispatcher: Dispatcher; repo: RiskRepository; riskState: string } | undefined;

/**
 * The notifications Lambda: the on-call ladder's steps, the held-delivery flush, and predictive
 * (approaching) alerts from the risk-state stream — one thin handler over the dispatcher.
 */
export const handler = withMetrics(async (event: unknown) => {
  if (!deps) {
    const env = readEnv();
    deps = {
      dispatcher: awsDispatcher(),
      repo: new RiskRepository(new DynamoDBClient({}), env.tables),
      riskState: env.tables.riskState,
    };
  }
  const d = deps;
  if (!(event && typeof event === 'object' && 'Records' in event)) return runPagingStep(event, d.dispatcher);
  const changes = streamChanges(event as DynamoDBStreamEvent, { [d.riskState]: 'riskState' });
  return {
    approaching: await alertApproaching(changes, {
      policy: () => d.dispatcher.policy(),
      getAccount: (id) => d.repo.getAccount(id),
      dispatch: (alert) => d.dispatcher.dispatch(alert),
    }),
  };
});
