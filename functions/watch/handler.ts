import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { ScheduledEvent } from 'aws-lambda';
import { newlyStaleInstruments } from '../../shared/pipeline/newly-stale.ts';
import { readEnv } from '../lib/env.ts';
import { accountMessages } from '../lib/queues.ts';
import { lambdaDeps, withMetrics, type HandlerDeps } from '../lib/runtime.ts';
import { idempotentOnEventId } from '../sweep/handler.ts';

export interface WatchResult {
  watched: number;
  staleInstruments: string[];
  staleHolders: number;
}

/**
 * The minute sweep, now that price ticks only reach accounts whose bands they cross: it evaluates the
 * accounts on the watch list (no band: missing prices, invalid data, no room left; not stale prices, whose
 * first returning tick finds them) and the holders of instruments whose price has just turned stale (no
 * tick will ever reach them). Stale counts in market time (shared/market-hours.ts): a closing price turns
 * stale `staleAfter` into the next session if no tick came, not `staleAfter` after the close: the open is
 * not a fan-out, nor is the close for prices that name their session (shared/pipeline/newly-stale.ts).
 * Work goes to the work queue.
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
    await d.workQueue.enqueue(accountMessages(ids, `watch:${event.id}`));
    d.telemetry.count('WatchedAccounts', watched);
    d.telemetry.count('StaleInstrumentsFound', staleInstruments.length);
    return { watched, staleInstruments, staleHolders: ids.length - watched };
  };
}

let watchOnce: ((event: ScheduledEvent) => Promise<WatchResult>) | undefined;
export const handler = withMetrics(async (event: ScheduledEvent) => {
  if (!watchOnce) {
    const env = readEnv();
    watchOnce = idempotentOnEventId(
      makeWatchHandler(lambdaDeps, env.watchWindowMs),
      new DynamoDBPersistenceLayer({ tableName: env.tables.idempotency }),
    );
  }
  return watchOnce(event);
});
