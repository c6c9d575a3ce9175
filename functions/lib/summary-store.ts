import type { OverviewSummary } from '../../shared/console/summary.ts';
import type { SettingsRepository } from './actions-repository.ts';

/** The Settings item the all-accounts summary is kept in: the summary job writes it, GET /summary reads it. */
export const SUMMARY_SETTING = 'overview-summary';

export async function readSummary(
  settings: Pick<SettingsRepository, 'getRaw'>,
): Promise<OverviewSummary | null> {
  const value = (await settings.getRaw(SUMMARY_SETTING)) as Partial<OverviewSummary>;
  return value.asOf ? (value as OverviewSummary) : null;
}
