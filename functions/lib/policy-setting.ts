import { parseOrThrow } from '../../shared/errors.ts';
import { notificationPolicySchema, type NotificationPolicy } from '../../shared/notify/policy.ts';
import type { SettingsRepository } from './actions-repository.ts';

/** The Settings item holding the notification policy (GET/PUT /notifications). */
export const POLICY_SETTING = 'notifications';

/**
 * The deployment's default policy, read only when none is stored: a value, or a lookup (on AWS the
 * Secrets Manager secret named by NOTIFICATION_POLICY_SECRET_NAME, functions/lib/notifications.ts).
 */
export type PolicyFallback = unknown | (() => Promise<unknown>);

/** The stored policy (the encrypted Settings table), or the deployment's default, validated. */
export async function readPolicy(
  settings: Pick<SettingsRepository, 'getRaw'>,
  fallback: PolicyFallback,
): Promise<NotificationPolicy> {
  const stored = await settings.getRaw(POLICY_SETTING);
  const raw =
    stored && Object.keys(stored as object).length > 0
      ? stored
      : typeof fallback === 'function'
        ? await (fallback as () => Promise<unknown>)()
        : fallback;
  return parseOrThrow(notificationPolicySchema, raw ?? {}, ['notifications']);
}
