import { z } from 'zod';
import { decimalString } from '../schemas/decimal-string.ts';
import { webUrl } from '../schemas/web-url.ts';
import { PUBLISHED_LIMITS } from './rate-limit.ts';

/**
 * Who hears about what, and how (GET/PUT /notifications, CDK context `notificationPolicy`): routes (a
 * channel and a recipient), rules (which categories and severities go to which routes), the on-call
 * ladder (tiers paged in turn until someone acknowledges) and the alert-fatigue settings.
 */
export const ALERT_CATEGORIES = [
  'warning',
  'critical',
  'liquidation-approaching',
  'approaching',
  'recovery',
  'deleverage',
  'liquidation',
  'manual-action',
  'system',
] as const;
export type AlertCategory = (typeof ALERT_CATEGORIES)[number];

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const severityRank = (s: Severity) => SEVERITIES.indexOf(s);

export const CHANNEL_KINDS = ['telegram', 'email', 'sms', 'webhook', 'websocket'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/** E.164: +, country code, up to 15 digits in all. */
export const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'an E.164 phone number such as +447700900123');

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM (24 h)');

const quietHoursSchema = z
  .object({
    start: hhmm,
    end: hhmm,
    /** IANA time zone of the recipient. */
    timeZone: z.string().refine(
      (tz) => {
        try {
          new Intl.DateTimeFormat('en-GB', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      },
      { error: 'an IANA time zone such as Europe/London' },
    ),
  })
  .strict();

export const routeSchema = z.discriminatedUnion('channel', [
  z
    .object({
      name: z.string().min(1),
      channel: z.literal('telegram'),
      chatId: z.string().regex(/^-?\d{1,20}$|^@\w{5,}$/, 'a numeric chat id or @channel'),
    })
    .strict(),
  z.object({ name: z.string().min(1), channel: z.literal('email'), address: z.email() }).strict(),
  z.object({ name: z.string().min(1), channel: z.literal('sms'), phoneNumber: e164 }).strict(),
  z.object({ name: z.string().min(1), channel: z.literal('webhook') }).strict(),
  z.object({ name: z.string().min(1), channel: z.literal('websocket') }).strict(),
]);

const routeOptions = z
  .object({
    /** Non-critical notifications inside these hours wait until they end (critical ones never wait). */
    quietHours: quietHoursSchema.optional(),
    /** Non-critical notifications are collected into one digest per `digestMinutes` instead. */
    digest: z.boolean().default(false),
  })
  .strict();

/**
 * Storm mode (shared/notify/storm.ts): when more than `startAccounts` distinct accounts have alerts for
 * people within `windowSeconds`, per-account alerts stop going to people; one market-wide incident message
 * goes to each route instead, updated at most every `updateSeconds`, until fewer than `endAccounts`
 * accounts had alerts in the last window (hysteresis) — then a final summary, and per-account alerts resume.
 */
export const STORM_DEFAULTS = {
  enabled: true,
  /** N: a storm starts when more than this many distinct accounts alert within the window. */
  startAccounts: 20,
  /** M: it ends when fewer than this many alerted within the window (M ≤ N: hysteresis). */
  endAccounts: 5,
  /** W: the sliding window, seconds. */
  windowSeconds: 60,
  /** At most one update of the storm's message per this many seconds. */
  updateSeconds: 30,
  /** K: the worst accounts (lowest ratio) each message lists. */
  worstAccounts: 10,
  /** Which alerts storm mode gathers (a person's own actions, `manual-action`, always go one by one). */
  categories: [
    'warning',
    'critical',
    'liquidation-approaching',
    'approaching',
    'recovery',
    'deleverage',
    'liquidation',
    'system',
  ] as AlertCategory[],
};

const rateLimitSchema = z
  .object({
    count: z.number().int().min(1).max(100_000),
    perSeconds: z.number().int().min(1).max(3600),
  })
  .strict();

const stormSchema = z
  .object({
    enabled: z.boolean().default(STORM_DEFAULTS.enabled),
    startAccounts: z.number().int().min(1).max(1_000_000).default(STORM_DEFAULTS.startAccounts),
    endAccounts: z.number().int().min(1).max(1_000_000).default(STORM_DEFAULTS.endAccounts),
    windowSeconds: z.number().int().min(1).max(3600).default(STORM_DEFAULTS.windowSeconds),
    updateSeconds: z.number().int().min(1).max(3600).default(STORM_DEFAULTS.updateSeconds),
    worstAccounts: z.number().int().min(0).max(50).default(STORM_DEFAULTS.worstAccounts),
    categories: z.array(z.enum(ALERT_CATEGORIES)).default(() => [...STORM_DEFAULTS.categories]),
  })
  .strict()
  .refine((s) => s.endAccounts <= s.startAccounts, {
    error: 'endAccounts must not exceed startAccounts (the storm ends below where it starts)',
    path: ['endAccounts'],
  });

/** The published per-channel limits (shared/notify/rate-limit.ts), overridable per deployment. */
const rateLimitsSchema = z
  .object({
    email: rateLimitSchema.default(PUBLISHED_LIMITS.email),
    sms: rateLimitSchema.default(PUBLISHED_LIMITS.sms),
    telegram: rateLimitSchema.default(PUBLISHED_LIMITS.telegram),
    telegramGroup: rateLimitSchema.default(PUBLISHED_LIMITS.telegramGroup),
    telegramChat: rateLimitSchema.default(PUBLISHED_LIMITS.telegramChat),
    webhook: rateLimitSchema.default(PUBLISHED_LIMITS.webhook),
    topic: rateLimitSchema.default(PUBLISHED_LIMITS.topic),
  })
  .strict();

export const notificationPolicySchema = z
  .object({
    routes: z
      .array(z.intersection(routeSchema, routeOptions.partial()))
      .default([{ name: 'console', channel: 'websocket' }]),
    rules: z
      .array(
        z
          .object({
            categories: z.array(z.enum(ALERT_CATEGORIES)).min(1),
            minSeverity: z.enum(SEVERITIES).default('info'),
            routes: z.array(z.string().min(1)).min(1),
          })
          .strict(),
      )
      .default([{ categories: [...ALERT_CATEGORIES], minSeverity: 'info', routes: ['console'] }]),
    /** Pages go up this ladder until acknowledged: each tier is paged `pagesPerTier` times, `ackMinutes` apart. */
    onCall: z
      .array(
        z
          .object({
            tier: z.string().min(1),
            routes: z.array(z.string().min(1)).min(1),
            ackMinutes: z.number().int().min(1).max(1440).default(10),
            pagesPerTier: z.number().int().min(1).max(5).default(2),
          })
          .strict(),
      )
      .default([]),
    /** Categories that page (in addition to every critical notification). */
    pageCategories: z
      .array(z.enum(ALERT_CATEGORIES))
      .default(['liquidation-approaching', 'liquidation', 'system']),
    fatigue: z
      .object({
        /**
         * One alert per account and category per episode: an episode lasts until the account has stayed
         * SAFE this long. Re-entering WARNING while it flaps around the line is the same episode.
         */
        quietPeriodMinutes: z.number().int().min(0).max(43_200).default(1440),
        /** Predictive alert when the ratio is within this fraction above the next worse threshold. */
        approachingFraction: decimalString
          .refine((d) => d.greaterThanOrEqualTo(0) && d.lessThan(1), { error: 'between 0 and 1' })
          .optional(),
        digestMinutes: z.number().int().min(5).max(1440).default(60),
      })
      .strict()
      .default({ quietPeriodMinutes: 1440, digestMinutes: 60 }),
    /** How long a one-click acknowledgement link stays valid. */
    ackLinkMinutes: z.number().int().min(5).max(10_080).default(120),
    /**
     * What acknowledging a page quiets. `incident` (the default, as before): an incident has one page, and
     * every later paging alert of the incident joins it, so an acknowledgement quiets the whole incident.
     * `page`: each paging alert has a page (a ladder) of its own, and an acknowledgement stops that one
     * only; a later paging alert of the same incident (a worse level, an automation failure) pages afresh.
     */
    ackScope: z.enum(['incident', 'page']).default('incident'),
    /** The console's address, for links in messages. */
    consoleUrl: webUrl.optional(),
    /** Storm mode: one market-wide message instead of thousands of per-account ones. */
    storm: stormSchema.default(() => ({ ...STORM_DEFAULTS, categories: [...STORM_DEFAULTS.categories] })),
    /** Messages to people never exceed these (excess waits; nothing is dropped). */
    rateLimits: rateLimitsSchema.default(() => ({ ...PUBLISHED_LIMITS })),
  })
  .strict()
  .superRefine((p, ctx) => {
    const names = new Set(p.routes.map((r) => r.name));
    if (names.size !== p.routes.length)
      ctx.addIssue({ code: 'custom', path: ['routes'], message: 'route names must be unique' });
    p.rules.forEach((rule, i) =>
      rule.routes.forEach((r, j) => {
        if (!names.has(r))
          ctx.addIssue({ code: 'custom', path: ['rules', i, 'routes', j], message: `no route named ${r}` });
      }),
    );
    p.onCall.forEach((tier, i) =>
      tier.routes.forEach((r, j) => {
        if (!names.has(r))
          ctx.addIssue({ code: 'custom', path: ['onCall', i, 'routes', j], message: `no route named ${r}` });
      }),
    );
  });

export type NotificationPolicy = z.output<typeof notificationPolicySchema>;
export type Route = NotificationPolicy['routes'][number];
