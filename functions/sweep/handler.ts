import type { ScheduledEvent } from 'aws-lambda';
import { lambdaDeps, metrics, type HandlerDeps } from '../lib/runtime.ts';

/**
 * The scheduled sweep: one work message per parallel-scan segment, so every account is re-evaluated each
 * period (nothing goes stale even when no stream event arrives) and segments run in parallel workers.
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

const inner = makeSweepHandler(lambdaDeps);
export const handler = async (event: ScheduledEvent) => {
  try {
    return await inner(event);
  } finally {
    metrics.publishStoredMetrics();
  }
};
