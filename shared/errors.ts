import type { z } from 'zod';
import { unknownKeyMessage } from './did-you-mean.ts';

export interface FieldIssue {
  /** Where the problem is, e.g. `positions[0].price`. */
  field: string;
  message: string;
}

/** The stable code of bad input, in the family of HttpError's and RetryLaterError's codes: a 400 or exit 2. */
export const INVALID_INPUT = 'invalid-input';

/** Bad input: always names the field, so a user (or a dead-letter record) can say what to fix. */
export class InputError extends Error {
  readonly code = INVALID_INPUT;
  readonly issues: FieldIssue[];

  constructor(issues: FieldIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('\n'));
    this.name = 'InputError';
    this.issues = issues;
  }

  static single(field: string, message: string): InputError {
    return new InputError([{ field, message }]);
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    // A key that would not read as one (empty, blanks, quotes, brackets) is named in JSON quotes.
    else if (!/^[^\s"'[\]]+$/.test(String(key))) out += `[${JSON.stringify(String(key))}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

/** The allowed keys of each object that had unknown ones, by where it is and what was unknown. */
type AllowedKeys = ReadonlyMap<string, readonly string[]>;

const unknownKeysAt = (path: readonly PropertyKey[], keys: readonly string[]) =>
  JSON.stringify([path.map(String), keys]);

/**
 * One FieldIssue per problem: an object's unknown keys are one issue each, named by their own path
 * (`account.houseRate`), with a "did you mean" when an allowed key is a near miss.
 */
export function fromZodError(
  error: z.ZodError,
  prefix: readonly PropertyKey[] = [],
  allowed?: AllowedKeys,
): InputError {
  return new InputError(
    error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({
            field: formatPath([...prefix, ...issue.path, key]),
            message: unknownKeyMessage(key, allowed?.get(unknownKeysAt(issue.path, issue.keys))),
          }))
        : [{ field: formatPath([...prefix, ...issue.path]), message: issue.message }],
    ),
  );
}

/**
 * safeParse that keeps what a "did you mean" needs: zod's issue for unknown keys names them but not the
 * keys the object allows, so they are taken from the object schema (`issue.inst`) as the issue is made.
 */
export function safeParseFields<S extends z.ZodType>(
  schema: S,
  input: unknown,
  prefix: readonly PropertyKey[] = [],
): { success: true; data: z.output<S> } | { success: false; error: InputError } {
  const allowed = new Map<string, readonly string[]>();
  const result = schema.safeParse(input, {
    error: (issue) => {
      const shape = (issue.inst as { shape?: unknown } | undefined)?.shape;
      if (issue.code === 'unrecognized_keys' && typeof shape === 'object' && shape !== null)
        allowed.set(unknownKeysAt(issue.path ?? [], issue.keys), Object.keys(shape));
      return undefined; // the schema's own message (or zod's)
    },
  });
  return result.success
    ? { success: true, data: result.data }
    : { success: false, error: fromZodError(result.error, prefix, allowed) };
}

/** Parses with a zod schema, turning failures into an InputError whose fields carry `prefix`. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
  prefix: readonly PropertyKey[] = [],
): z.output<S> {
  const result = safeParseFields(schema, input, prefix);
  if (!result.success) throw result.error;
  return result.data;
}

/**
 * Stable codes of failures that are worth retrying later: nothing was lost and nothing was done twice;
 * something is busy or throttled. A step's or a queue's retry (after `retryAfterMs`, when known) goes on.
 */
export const RETRY_LATER_CODES = [
  /** Another alert of the account is being delivered (its fatigue lease stands). */
  'alert-memory-busy',
  /** This delivery is claimed by another attempt that may still be sending (its lease stands). */
  'delivery-in-flight',
  /** A provider asked to wait longer than the dispatcher may wait in-process (e.g. Telegram's retry_after). */
  'provider-retry-later',
  /** A secret could not be read (throttled, unreachable) after the SDK's retries; nothing was cached. */
  'secret-unavailable',
  /** A DynamoDB transaction was still throttled or conflicting after its retries; nothing was written. */
  'transaction-contended',
  /** An evaluation kept losing races with concurrent ones for the account (state or bands); retry it. */
  'evaluation-contended',
  /** A notification item (an account's alert memory, the storm, a delivery claim) kept changing under concurrent writers. */
  'notify-contended',
  /** DynamoDB kept answering with unprocessed keys (throttled) after the retries; nothing was dropped. */
  'keys-unprocessed',
] as const;
export type RetryLaterCode = (typeof RETRY_LATER_CODES)[number];

/** A transient failure with a stable code: retry later, it is safe (see RETRY_LATER_CODES). */
export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';
  readonly retryable = true;

  constructor(
    readonly code: RetryLaterCode,
    message: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Stable codes of a refused one-click acknowledgement (shared/notify/ack-token.ts, the public /ack
 * route): nothing was acknowledged, and the page says which of these it was.
 */
export const ACK_REFUSAL_CODES = [
  /** Not an acknowledgement link at all (malformed, cut short, or of a format no longer accepted). */
  'ack-link-invalid',
  /** A well-formed link whose signature does not verify: altered, forged, or signed by a retired key. */
  'ack-link-tampered',
  /** Past its expiry (`ackLinkMinutes` after it was sent). */
  'ack-link-expired',
  /** Already used once: a link acknowledges one time only (a second POST, a resubmitted form, a replay). */
  'ack-link-replayed',
  /**
   * The recipient the link was sent to is not the page's: not on the on-call ladder any more, or the route
   * now reaches another channel or address than the one the link went to.
   */
  'ack-link-foreign-recipient',
  /** The page the link names does not exist (any more). */
  'ack-page-unknown',
] as const;
export type AckRefusalCode = (typeof ACK_REFUSAL_CODES)[number];

/** An acknowledgement refused, with its stable code (see ACK_REFUSAL_CODES); never retried. */
export class AckRefusedError extends Error {
  override readonly name = 'AckRefusedError';

  constructor(
    readonly code: AckRefusalCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Stable codes of a pre-trade what-if's rejection (shared/risk/what-if.ts): facts about the orders under the
 * account's restriction and funds, not bad input (the request itself was valid).
 */
export const ORDER_REJECTION_CODES = [
  /** The account is reduce-only (`no-new-risk`): the order opens, adds to or flips a position. */
  'restricted-no-new-risk',
  /** The account is `close-only`: the order does not close its position entirely. */
  'restricted-close-only',
  /** The orders add risk and leave available funds (equity − initial requirement) negative. */
  'insufficient-funds',
  /** The orders add risk and would put the account under a restriction that forbids new risk. */
  'restricted-after',
  /** The book after the orders breaks a rule of its margin model (e.g. a short in a cash account). */
  'model-rule',
] as const;
export type OrderRejectionCode = (typeof ORDER_REJECTION_CODES)[number];
