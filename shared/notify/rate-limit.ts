/**
 * Per-channel rate limits for messages to people, and the token bucket that keeps the dispatcher under
 * them. Pure: the buckets are plain values (arrays of milliseconds) the dispatcher stores, one item per
 * channel, with a conditional write.
 *
 * Published limits (defaults of the notification policy's `rateLimits`; a deployment with a raised quota
 * sets its own):
 *
 * - **Amazon SES**: the account's *maximum sending rate*, per Region. The sandbox allows 1 message per
 *   second ("You can send a maximum of 1 message per second", docs.aws.amazon.com/ses/latest/dg/
 *   request-production-access.html). A production account's rate is whatever SES granted it — the quotas
 *   page (docs.aws.amazon.com/ses/latest/dg/quotas.html) now says it "varies based on your specific use
 *   case"; 14/s is the long-standing starter quota, used here as the default. Read yours with
 *   `aws sesv2 get-account` (SendQuota.MaxSendRate) and set `rateLimits.email`.
 * - **Telegram Bot API** (core.telegram.org/bots/faq, "My bot is hitting limits"): about 30 messages per
 *   second overall per bot; no more than 20 messages per minute to one group or channel; avoid more than
 *   one message per second to a single private chat.
 * - **Slack incoming webhooks** (api.slack.com/apis/rate-limits, "Incoming webhooks" / posting messages):
 *   1 message per second per webhook, short bursts tolerated.
 * - **SNS SMS**: 20 messages per second per account by default (the SNS quotas page,
 *   docs.aws.amazon.com/general/latest/gr/sns.html; adjustable). Origination identities add their own
 *   throughput (e.g. a US toll-free number 3 MPS, a short code 100 MPS); set `rateLimits.sms` to the lower.
 * - **SNS topics** (the alerts and pages topics, which fan out to e-mail and SMS subscriptions): SNS
 *   delivers at most 10 e-mail messages per second per subscription and *disables* an e-mail subscription
 *   published to faster (repost.aws knowledge-center "sns-email-subscription-disabled"): 10/s per topic.
 *
 * The console (`websocket`) has no provider limit and no bucket.
 */

export interface RateLimit {
  /** At most `count` messages in any window of `perSeconds` seconds. */
  count: number;
  perSeconds: number;
}

export const SES_PRODUCTION_PER_SECOND: RateLimit = { count: 14, perSeconds: 1 };
export const SES_SANDBOX_PER_SECOND: RateLimit = { count: 1, perSeconds: 1 };
export const TELEGRAM_BOT_PER_SECOND: RateLimit = { count: 30, perSeconds: 1 };
export const TELEGRAM_GROUP_PER_MINUTE: RateLimit = { count: 20, perSeconds: 60 };
export const TELEGRAM_CHAT_PER_SECOND: RateLimit = { count: 1, perSeconds: 1 };
export const SLACK_WEBHOOK_PER_SECOND: RateLimit = { count: 1, perSeconds: 1 };
export const SNS_SMS_PER_SECOND: RateLimit = { count: 20, perSeconds: 1 };
export const SNS_TOPIC_PER_SECOND: RateLimit = { count: 10, perSeconds: 1 };

/** The limits per bucket kind, as the notification policy's `rateLimits` holds them. */
export interface RateLimits {
  email: RateLimit;
  sms: RateLimit;
  telegram: RateLimit;
  telegramGroup: RateLimit;
  telegramChat: RateLimit;
  webhook: RateLimit;
  topic: RateLimit;
}

export const PUBLISHED_LIMITS: RateLimits = {
  email: SES_PRODUCTION_PER_SECOND,
  sms: SNS_SMS_PER_SECOND,
  telegram: TELEGRAM_BOT_PER_SECOND,
  telegramGroup: TELEGRAM_GROUP_PER_MINUTE,
  telegramChat: TELEGRAM_CHAT_PER_SECOND,
  webhook: SLACK_WEBHOOK_PER_SECOND,
  topic: SNS_TOPIC_PER_SECOND,
};

/**
 * Share of each bucket only priority messages (storm messages and pages) may use, so the one message that
 * replaces thousands is not queued behind the last individual alerts: floor(10% of the count), so none
 * for a bucket of fewer than 10 (a webhook's 1/s, a private chat's).
 */
export const PRIORITY_RESERVE_FRACTION = 0.1;
export const reserveOf = (limit: RateLimit) => Math.floor(limit.count * PRIORITY_RESERVE_FRACTION);

/** What a message to people is sent through: the buckets of one store item. */
export type BucketChannel = 'email' | 'sms' | 'telegram' | 'webhook' | 'topic';

export interface BucketNeed {
  key: string;
  limit: RateLimit;
}

/**
 * The buckets a message takes a token from: e-mail and SMS one per AWS account; Telegram the bot's and
 * the chat's (a group or channel — a negative id or an @name — 20 a minute, a private chat 1 a second);
 * the webhook its own; an SNS topic its own. Null: no limit (the console).
 */
export function bucketsFor(
  channel: 'telegram' | 'email' | 'sms' | 'webhook' | 'websocket' | 'topic',
  to: string,
  limits: RateLimits,
): { channel: BucketChannel; needs: BucketNeed[] } | null {
  switch (channel) {
    case 'email':
      return { channel, needs: [{ key: 'ses', limit: limits.email }] };
    case 'sms':
      return { channel, needs: [{ key: 'sms', limit: limits.sms }] };
    case 'telegram': {
      const group = to.startsWith('-') || to.startsWith('@');
      return {
        channel,
        needs: [
          { key: 'bot', limit: limits.telegram },
          { key: `chat:${to}`, limit: group ? limits.telegramGroup : limits.telegramChat },
        ],
      };
    }
    case 'webhook':
      return { channel, needs: [{ key: 'webhook', limit: limits.webhook }] };
    case 'topic':
      return { channel, needs: [{ key: `topic:${to}`, limit: limits.topic }] };
    default:
      return null;
  }
}

/**
 * Token buckets keyed by name: for each, the times (epoch ms, ascending) its spent tokens were spent.
 * A bucket holds `count` tokens and each spent token comes back `perSeconds` after it was spent — so no
 * window of `perSeconds` ever carries more than `count` messages, while a burst of up to `count` goes out
 * at once. (A bucket refilled at a steady count/perSeconds could let 2·count − 1 through in one window:
 * full at its start, refilled during it.) Integer milliseconds only: no rounding can let one more through.
 */
export type Buckets = Record<string, number[]>;

export type TakeResult = { ok: true; buckets: Buckets } | { ok: false; retryAt: number };

/**
 * Spent tokens are kept this much longer than their period, so a dispatcher whose clock is behind
 * another's (concurrent Lambdas) by up to this much still counts every token out at its own `now`.
 */
export const CLOCK_SKEW_MS = 5000;

/** Tokens still out (spent within the last period) at `now`. */
function outstanding(spent: readonly number[] | undefined, limit: RateLimit, now: number): number[] {
  const periodMs = limit.perSeconds * 1000;
  return (spent ?? []).filter((t) => t + periodMs > now).sort((a, b) => a - b);
}

/** What a bucket keeps: its outstanding tokens, and those returned within the last CLOCK_SKEW_MS. */
const retained = (spent: readonly number[], periodMs: number, now: number) =>
  spent.filter((t) => t + periodMs + CLOCK_SKEW_MS > now).sort((a, b) => a - b);

/**
 * Takes one token from every bucket a message needs, or none: ok with the buckets as they are after it;
 * otherwise the earliest time all of them will have one (for a normal message, one beyond the priority
 * reserve). Buckets not needed are returned pruned, so the stored item stays small.
 */
export function take(
  buckets: Buckets,
  needs: readonly BucketNeed[],
  now: number,
  priority = false,
): TakeResult {
  let retryAt = -Infinity;
  const next: Buckets = {};
  for (const [key, spent] of Object.entries(buckets)) {
    const need = needs.find((n) => n.key === key);
    // A bucket another message uses keeps every token spent within the longest period allowed (1 h).
    next[key] = retained(spent, need ? need.limit.perSeconds * 1000 : 3_600_000, now);
  }
  for (const need of needs) {
    const out = outstanding(next[need.key], need.limit, now);
    const keep = priority ? 0 : Math.min(reserveOf(need.limit), need.limit.count - 1);
    const free = need.limit.count - out.length;
    if (free > keep) continue;
    // The (keep + 1 − free)-th oldest outstanding token is the one whose return lets this message go.
    const returning = out[keep - free];
    retryAt = Math.max(retryAt, returning! + need.limit.perSeconds * 1000);
  }
  if (retryAt > -Infinity) return { ok: false, retryAt };
  for (const need of needs) next[need.key] = [...(next[need.key] ?? []), now].sort((a, b) => a - b);
  return { ok: true, buckets: next };
}
