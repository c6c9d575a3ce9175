import { z } from 'zod';
import { parseOrThrow } from '../../shared/errors.ts';
import type { Dispatcher } from '../lib/dispatcher.ts';
import { awsDispatcher } from '../lib/notifications.ts';
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

let dispatcher: Dispatcher | undefined;
/** The on-call ladder's steps and the held-delivery flush: one thin handler over the dispatcher. */
export const handler = withMetrics(async (event: unknown) =>
  runPagingStep(event, (dispatcher ??= awsDispatcher())),
);
