import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { evaluateBatch } from '../lib/evaluate-batch.ts';
import type { WorkMessage } from '../lib/queues.ts';
import { withPriceCache } from '../lib/price-cache.ts';
import { lambdaDeps, withMetrics, type HandlerDeps } from '../lib/runtime.ts';

const workMessageSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('segment'),
    segment: z.number().int().min(0),
    totalSegments: z.number().int().min(1),
    startKey: z.record(z.string(), z.unknown()).optional(),
    sweepId: z.string(),
  }),
  z.object({
    kind: z.literal('accounts'),
    accountIds: z.array(z.string().min(1)).min(1),
    reason: z.string(),
    ticks: z.record(z.string(), z.string()).optional(),
    coalesce: z.boolean().optional(),
  }),
]);

/** Leave this much of the invocation for the continuation message and metrics. */
const SAFETY_MS = 20_000;

async function evaluateAll(
  d: HandlerDeps,
  accountIds: readonly string[],
  ticks?: Readonly<Record<string, string>>,
): Promise<void> {
  const { failures } = await evaluateBatch(accountIds, d, {
    concurrency: d.concurrency,
    ...(ticks ? { ticks } : {}),
  });
  if (failures.length > 0) {
    for (const f of failures)
      d.log.error('evaluation failed', { accountId: f.item, error: (f.error as Error).message });
    throw new Error(`${failures.length} of ${accountIds.length} evaluations failed`);
  }
}

async function processMessage(
  base: HandlerDeps,
  message: WorkMessage,
  remainingMs: () => number,
): Promise<void> {
  const d = { ...base, store: withPriceCache(base.store) };
  if (message.kind === 'accounts') return evaluateAll(d, message.accountIds, message.ticks);
  // A segment is scanned page by page; if time runs short, the rest goes back on the queue.
  let start = message.startKey;
  do {
    const page = await d.repo.scanAccounts(message.segment, message.totalSegments, start);
    await evaluateAll(d, page.accountIds);
    start = page.next;
    if (start && remainingMs() < SAFETY_MS) {
      await d.workQueue.enqueue([{ ...message, startKey: start }]);
      d.telemetry.count('SweepContinuations');
      return;
    }
  } while (start);
}

/** SQS work: sweep segments and account batches. Failed messages are retried, then redriven to the DLQ. */
export function makeWorkQueueHandler(deps: () => HandlerDeps) {
  return async (
    event: SQSEvent,
    context?: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<SQSBatchResponse> => {
    const d = deps();
    const remaining = () => context?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY;
    const failures: string[] = [];
    for (const record of event.Records as SQSRecord[]) {
      let body: unknown;
      try {
        body = JSON.parse(record.body);
      } catch {
        body = undefined;
      }
      const parsed = workMessageSchema.safeParse(body);
      if (!parsed.success) {
        await d.deadLetter.send(
          'invalid-work-message',
          record.body,
          parsed.success ? undefined : parsed.error.issues,
        );
        d.telemetry.count('DeadLettered');
        continue;
      }
      try {
        await processMessage(d, parsed.data as WorkMessage, remaining);
      } catch (e) {
        d.log.error('work message failed', { messageId: record.messageId, error: (e as Error).message });
        failures.push(record.messageId);
      }
    }
    return { batchItemFailures: failures.map((id) => ({ itemIdentifier: id })) };
  };
}

export const handler = withMetrics(makeWorkQueueHandler(lambdaDeps));
