import { RetryLaterError } from '../../../shared/errors.ts';
import type { ChannelKind, Severity } from '../../../shared/notify/policy.ts';

/** One message to one recipient over one channel. */
export interface Delivery {
  alertId: string;
  route: string;
  channel: ChannelKind;
  /** Chat id, e-mail address, phone number; '-' for the webhook and the console. */
  to: string;
  severity: Severity;
  subject: string;
  text: string;
  html?: string;
}

/** A provider answered "not now" (throttled, 5xx, network): try again, after `retryAfterMs` if it said so. */
export class RetryableDeliveryError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'RetryableDeliveryError';
  }
}

/** A provider refused for good (bad recipient, blocked bot): retrying cannot help. */
export class PermanentDeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentDeliveryError';
  }
}

export interface ChannelSender {
  send(delivery: Delivery): Promise<void>;
}

export type DeliveryOutcome =
  | { status: 'sent'; attempts: number }
  | { status: 'failed'; attempts: number; error: string; permanent: boolean };

export interface RetryOptions {
  /** @default 4 */
  attempts?: number;
  /** First backoff; doubled each time, capped at `maxWaitMs`, unless the provider says how long. @default 250 */
  baseDelayMs?: number;
  /**
   * The longest one wait in-process. A provider that asks for longer (Telegram's `retry_after`, up to
   * minutes) is not waited out against the function's timeout: a RetryLaterError says when. @default 3000
   */
  maxWaitMs?: number;
  /** All waits of one delivery together; past it, the same RetryLaterError. @default 10000 */
  budgetMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Classifies an HTTP status: 429 and 5xx are worth retrying, other non-2xx are not. */
export function httpFailure(status: number, what: string, retryAfterMs?: number): Error {
  return status === 429 || status >= 500
    ? new RetryableDeliveryError(`${what} answered ${status}`, retryAfterMs)
    : new PermanentDeliveryError(`${what} answered ${status}`);
}

/**
 * Sends with retries on retryable failures; the caller dead-letters a failed outcome (nothing is lost).
 * A wait longer than `maxWaitMs` (or beyond `budgetMs` in all) throws RetryLaterError
 * (`provider-retry-later`, with the wait): the caller holds the delivery for later, never drops it.
 */
export async function deliverWithRetries(
  sender: ChannelSender,
  delivery: Delivery,
  options: RetryOptions = {},
): Promise<DeliveryOutcome> {
  const attempts = options.attempts ?? 4;
  const maxWait = options.maxWaitMs ?? 3000;
  const budget = options.budgetMs ?? 10_000;
  const sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  let waited = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      await sender.send(delivery);
      return { status: 'sent', attempts: attempt };
    } catch (e) {
      const retryable = e instanceof RetryableDeliveryError || !(e instanceof PermanentDeliveryError);
      if (!retryable || attempt >= attempts)
        return { status: 'failed', attempts: attempt, error: (e as Error).message, permanent: !retryable };
      const asked = e instanceof RetryableDeliveryError ? e.retryAfterMs : undefined;
      const wait = asked ?? Math.min(maxWait, (options.baseDelayMs ?? 250) * 2 ** (attempt - 1));
      if (wait > maxWait || waited + wait > budget)
        throw new RetryLaterError(
          'provider-retry-later',
          `${delivery.channel} asked to wait ${wait} ms: ${(e as Error).message}`,
          wait,
          { cause: e },
        );
      waited += wait;
      await sleep(wait);
    }
  }
}
