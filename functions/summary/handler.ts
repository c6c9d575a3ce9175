import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { OverviewTotals, type OverviewSummary } from '../../shared/console/summary.ts';
import { SettingsRepository } from '../lib/actions-repository.ts';
import { readEnv } from '../lib/env.ts';
import { OverviewRepository } from '../lib/overview-repository.ts';
import { withMetrics } from '../lib/runtime.ts';
import { SUMMARY_SETTING } from '../lib/summary-store.ts';

export interface SummaryDeps {
  overview: Pick<OverviewRepository, 'allRows' | 'auditSince'>;
  settings: Pick<SettingsRepository, 'put'>;
  now: () => Date;
}

/**
 * Scheduled: totals over the overview index (its small projection, a page at a time) and the last 24 h
 * of the audit trail, kept as one item. A request reads that item, never the million rows behind it.
 */
export async function refreshSummary(d: SummaryDeps): Promise<OverviewSummary> {
  const now = d.now();
  const totals = new OverviewTotals();
  for await (const page of d.overview.allRows()) for (const row of page) totals.add(row);
  for (const a of await d.overview.auditSince(new Date(now.getTime() - 86_400_000), now))
    totals.addAction(a.action);
  const summary = totals.summary(now.toISOString());
  await d.settings.put(SUMMARY_SETTING, summary);
  return summary;
}

let deps: SummaryDeps | undefined;
export const handler = withMetrics(async () => {
  if (!deps) {
    const env = readEnv();
    const client = new DynamoDBClient({});
    deps = {
      overview: new OverviewRepository(client, env.tables),
      settings: new SettingsRepository(client, env.tables.settings),
      now: () => new Date(),
    };
  }
  const summary = await refreshSummary(deps);
  return { accounts: summary.accounts, asOf: summary.asOf };
});
