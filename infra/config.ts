import { z } from 'zod';
import { parseOrThrow } from '../shared/errors.ts';
import { webUrl } from '../shared/schemas/web-url.ts';

/**
 * Deployment settings from CDK context (`cdk.json` or `-c key=value`), validated with defaults; a bad
 * value fails synth naming the context key.
 */
const subscriptionSchema = z
  .object({
    protocol: z.enum(['email', 'sms', 'https']),
    endpoint: z.string().min(3),
    /** Only messages with these severities (info, warning, critical); all when absent. */
    severities: z.array(z.enum(['info', 'warning', 'critical'])).optional(),
  })
  .strict();
export type SubscriptionConfig = z.output<typeof subscriptionSchema>;

function jsonIfString(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

export const deployConfigSchema = z.object({
  stage: z
    .string()
    .regex(/^[a-z][a-z0-9-]{1,20}$/, 'lowercase letters, digits and -')
    .default('dev'),
  /** Full sweep of every account: the backstop behind guard bands. */
  sweepRateMinutes: z.coerce.number().int().min(1).max(60).default(15),
  /** Watch sweep: accounts without a band, and holders of prices that just turned stale. */
  watchRateMinutes: z.coerce.number().int().min(1).max(15).default(1),
  /** How often the all-accounts summary behind GET /summary is recomputed. */
  summaryRateMinutes: z.coerce.number().int().min(1).max(60).default(5),
  /** Prefix of the console's hosted login domain (globally unique); margin-guard-<stage>-<account> when absent. */
  consoleDomainPrefix: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'lowercase letters, digits and -')
    .optional(),
  /** Extra login callback URLs, e.g. a developer's http://localhost:8080/ against a deployed stack. */
  consoleCallbackUrls: z.preprocess(jsonIfString, z.array(webUrl)).default([]),
  /** Partitions per instrument in the guard-band table (fixed for the table's life). */
  bandShards: z.coerce.number().int().min(1).max(256).default(8),
  /**
   * Tables the guard-band index is striped over (at most bandShards; fixed for the index's life). Each
   * on-demand table has its own 40,000 WU/s quota: at 1M accounts a crash's band rewrites need about 8
   * (`npm run capacity`).
   */
  bandTables: z.coerce.number().int().min(1).max(32).default(8),
  sweepSegments: z.coerce.number().int().min(1).max(100).default(8),
  staleAfterSeconds: z.coerce.number().int().min(10).default(300),
  heartbeatMinutes: z.coerce.number().int().min(1).default(240),
  ratioDelta: z
    .string()
    .regex(/^\d+(\.\d+)?$/)
    .default('0.05'),
  historyTtlDays: z.coerce.number().int().min(1).max(3650).default(90),
  logRetentionDays: z.coerce.number().int().min(1).default(30),
  inlineFanoutLimit: z.coerce.number().int().min(0).default(200),
  /** Where alarm notifications go (optional). */
  alarmEmail: z.email().optional(),
  /** Subscribers to risk alerts and on-call pages; a JSON string on the command line. */
  alertSubscriptions: z.preprocess(jsonIfString, z.array(subscriptionSchema)).default([]),
  pageSubscriptions: z.preprocess(jsonIfString, z.array(subscriptionSchema)).default([]),
  /**
   * Refused: a policy in the context would put every contact in the template and in the functions'
   * environment. Store it in Secrets Manager (notificationPolicySecretName) or with PUT /notifications.
   */
  notificationPolicy: z
    .never({
      error:
        'not accepted: the policy holds contacts, which must not sit in the template; store it as a Secrets Manager secret and name it in notificationPolicySecretName, or PUT /notifications',
    })
    .optional(),
  /**
   * Secrets Manager secret holding the default notification policy (routes, rules, on-call tiers,
   * fatigue; JSON), used until one is stored via PUT /notifications.
   */
  notificationPolicySecretName: z.string().min(1).optional(),
  /** Secrets Manager secret holding the Telegram bot token. */
  telegramSecretName: z.string().min(1).optional(),
  /** SES-verified sender address for e-mail routes. */
  notificationSender: z.email().optional(),
  /**
   * SES identities (addresses or domains) the sender is verified under; ses:SendEmail is allowed on these
   * only, from notificationSender only. Defaults to the sender address and its domain.
   */
  notificationSenderIdentities: z
    .preprocess(
      jsonIfString,
      z.array(z.union([z.email(), z.string().regex(/^(?=.{1,253}$)([a-z0-9-]+\.)+[a-z]{2,}$/i, 'a domain')])),
    )
    .optional(),
  /** Secrets Manager secret holding a chat webhook URL; alerts and pages are forwarded to it. */
  webhookSecretName: z.string().min(1).optional(),
});

export type DeployConfig = z.output<typeof deployConfigSchema> & { isProd: boolean };

export function readDeployConfig(context: Record<string, unknown>): DeployConfig {
  const config = parseOrThrow(deployConfigSchema, context, ['context']);
  return { ...config, isProd: config.stage === 'prod' };
}

export const CONTEXT_KEYS = Object.keys(deployConfigSchema.shape);
