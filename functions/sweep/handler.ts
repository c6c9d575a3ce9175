import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { ScheduledEvent } from 'aws-lambda';
import { readEnv } from '../lib/env.ts';
import { lambdaDeps, withMetrics, type HandlerDeps } from '../lib/runtime.ts';

/**
 * The scheduled full sweep, the backstop behind guard bands: one work message per parallel-scan segment,
 * so every account is re-evaluated each period (default 15 minutes) whatever the streams did, and
 * segments run in parallel workers. The minute watch sweep (functions/watch) covers unbanded accounts.
 */
export function makeSweepHandler(deps: () => HandlerDeps) {
  return async (event: Pick<ScheduledEvent, 'id' | 'time'>): Promise<{ segments: number }> => {
    const d = deps();
    const total = d.env.sweepSegments;
    await d.workQueue.enqueue(
      Array.from({ length: total }, (_, segment) => ({
        kind: 'segment' as const,
        segment,
        totalSegments: total,
        sweepId: `${event.time}:${event.id}`,
      })),
    );
    d.telemetry.count('SweepSegmentsEnqueued', total);
    return { segments: total };
  };
}

/**
 * EventBridge delivers a scheduled event at least once: a repeat of the same event id must not run a
 * second sweep. Powertools idempotency, keyed on the event id, on the Idempotency table.
 */
export function idempotentOnEventId<R>(
  run: (event: Pick<ScheduledEvent, 'id' | 'time'>) => Promise<R>,
  persistenceStore: BasePersistenceLayer,
) {
  return makeIdempotent(run, {
    persistenceStore,
    config: new IdempotencyConfig({ eventKeyJmesPath: 'id', expiresAfterSeconds: 3600 }),
  });
}

let sweepOnce: ((event: ScheduledEvent) => Promise<{ segments: number }>) | undefined;
export const handler = withMetrics(async (event: ScheduledEvent) => {
  sweepOnce ??= idempotentOnEventId(
    makeSweepHandler(lambdaDeps),
    new DynamoDBPersistenceLayer({ tableName: readEnv().tables.idempotency }),
  );
  return sweepOnce(event);
});
