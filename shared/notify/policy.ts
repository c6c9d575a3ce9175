import { z } from 'zod';
import { decimalString } from '../schemas/decimal-string.ts';

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
    /** The console's address, for links in messages. */
    consoleUrl: z.url().optional(),
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
