import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { ScheduledEvent } from 'aws-lambda';
import { newlyStaleInstruments } from '../../shared/pipeline/newly-stale.ts';
import { readEnv } from '../lib/env.ts';
import { lambdaDeps, withMetrics, type HandlerDeps } from '../lib/runtime.ts';
import { idempotentOnEventId } from '../sweep/handler.ts';

const ACCOUNTS_PER_MESSAGE = 25;

export interface WatchResult {
  watched: number;
  staleInstruments: string[];
  staleHolders: number;
}

/**
 * The minute sweep, now that price ticks only reach accounts whose bands they cross: it evaluates the
 * accounts that have no band (data problems, stale prices, no room left) and the holders of instruments
 * whose price has just turned stale (no tick will ever reach them). Work goes to the work queue.
 */
export function makeWatchHandler(deps: () => HandlerDeps, windowMs: number) {
  return async (event: Pick<ScheduledEvent, 'id' | 'time'>): Promise<WatchResult> => {
    const d = deps();
    const now = d.now?.() ?? new Date();
    const accounts = new Set<string>();
    for await (const page of d.bands.watchedAccounts()) page.forEach((id) => accounts.add(id));
    const watched = accounts.size;

    const prices = [];
    for await (const page of d.repo.scanPrices()) prices.push(...page);
    const staleInstruments = newlyStaleInstruments(prices, now, d.config.staleAfterMs, windowMs);
    for (const instrument of staleInstruments)
      for await (const page of d.repo.holders(instrument)) page.forEach((id) => accounts.add(id));

    const ids = [...accounts].sort();
    const messages = [];
    for (let i = 0; i < ids.length; i += ACCOUNTS_PER_MESSAGE) {
      messages.push({
        kind: 'accounts' as const,
        accountIds: ids.slice(i, i + ACCOUNTS_PER_MESSAGE),
        reason: `watch:${event.id}`,
      });
    }
    await d.workQueue.enqueue(messages);
    d.telemetry.count('WatchedAccounts', watched);
    d.telemetry.count('StaleInstrumentsFound', staleInstruments.length);
    return { watched, staleInstruments, staleHolders: ids.length - watched };
  };
}

let watchOnce: ((event: ScheduledEvent) => Promise<WatchResult>) | undefined;
export const handler = withMetrics(async (event: ScheduledEvent) => {
  const env = readEnv();
  watchOnce ??= idempotentOnEventId(
    makeWatchHandler(lambdaDeps, env.watchWindowMs),
    new DynamoDBPersistenceLayer({ tableName: env.tables.idempotency }),
  );
  return watchOnce(event);
});
