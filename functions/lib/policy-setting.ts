import { parseOrThrow } from '../../shared/errors.ts';
import { notificationPolicySchema, type NotificationPolicy } from '../../shared/notify/policy.ts';
import type { SettingsRepository } from './actions-repository.ts';

/** The Settings item holding the notification policy (GET/PUT /notifications). */
export const POLICY_SETTING = 'notifications';

/** The stored policy, or the deployment's default (CDK context `notificationPolicy`), validated. */
export async function readPolicy(
  settings: Pick<SettingsRepository, 'getRaw'>,
  fallback: unknown,
): Promise<NotificationPolicy> {
  const stored = await settings.getRaw(POLICY_SETTING);
  const raw = stored && Object.keys(stored as object).length > 0 ? stored : fallback;
  return parseOrThrow(notificationPolicySchema, raw ?? {}, ['notifications']);
}
