import { z } from 'zod';
import { escalationPolicySchema } from '../replay/policy.ts';
import { RISK_LEVELS } from '../risk/levels.ts';

/**
 * Operator settings (GET/PUT /config and /alerts), stored once for the system. Every field has a default,
 * so an empty store is a working configuration.
 */
export const escalationConfigSchema = z
  .object({
    /** How deleverage and liquidation plans are built (strategy, priority, target, fees and slippage). */
    policy: escalationPolicySchema.default(() => escalationPolicySchema.parse({})),
    /**
     * Re-check interval while the incident's orders are working (the broker's fills and rejections are
     * seen at the next re-check); otherwise an escalation waits for the account's next level change.
     */
    waitSeconds: z.number().int().min(0).max(86_400).default(300),
    /**
     * The longest an escalation waits for a level change before it re-checks anyway (a backstop: a wake-up
     * lost past its retries, a level the evaluator has not reached yet). Waits end early on every
     * RiskLevelChanged of the account (functions/lib/escalation-waits.ts).
     */
    wakeBackstopSeconds: z.number().int().min(60).max(86_400).default(3_600),
    /** Re-check interval while an account is on manual hold. */
    holdPollSeconds: z.number().int().min(1).max(86_400).default(600),
    /** Orders still working this long after they were requested page on-call. */
    fillTimeoutSeconds: z.number().int().min(10).max(86_400).default(900),
    /** How many times a deleverage that ended short (rejected, cancelled, partly filled) is re-planned. */
    maxReplans: z.number().int().min(0).max(10).default(2),
  })
  .strict();
export type EscalationConfig = z.output<typeof escalationConfigSchema>;

export const alertSettingsSchema = z
  .object({
    /** Levels that send an alert (alerts topic). */
    alertLevels: z.array(z.enum(RISK_LEVELS)).default(['WARNING', 'CRITICAL', 'LIQUIDATION']),
    /** Levels that page on-call (pages topic); failures of the automation always page. */
    pageLevels: z.array(z.enum(RISK_LEVELS)).default(['LIQUIDATION']),
    /** Also tell on-call when an incident resolves. */
    notifyResolved: z.boolean().default(true),
  })
  .strict();
export type AlertSettings = z.output<typeof alertSettingsSchema>;

/**
 * Step Functions execution names: ≤ 80 of [A-Za-z0-9-_], unique per (account, incident, attempt). The
 * first attempt keeps the plain name; attempt n > 0 (a restart after n failed ones) ends in `-r<n>`.
 */
export function executionName(
  accountId: string,
  incidentId: string,
  hash: (s: string) => string,
  attempt = 0,
): string {
  const safe = accountId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40);
  const name = `${safe}-${hash(incidentId).slice(0, 32)}`;
  return attempt > 0 ? `${name}-r${attempt}` : name;
}

/**
 * The step record (Actions table, `STEP#<incident>#failed-a<n>`) the catch path writes when attempt n at
 * an incident failed; the starter counts them to name the next attempt.
 */
export const failedAttemptStep = (attempt: number) => `failed-a${attempt}`;
