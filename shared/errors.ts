import type { z } from 'zod';

export interface FieldIssue {
  /** Where the problem is, e.g. `positions[0].price`. */
  field: string;
  message: string;
}

/** Bad input: always names the field, so a user (or a dead-letter record) can say what to fix. */
export class InputError extends Error {
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
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

export function fromZodError(error: z.ZodError, prefix: readonly PropertyKey[] = []): InputError {
  return new InputError(
    error.issues.map((issue) => ({ field: formatPath([...prefix, ...issue.path]), message: issue.message })),
  );
}

/** Parses with a zod schema, turning failures into an InputError whose fields carry `prefix`. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
  prefix: readonly PropertyKey[] = [],
): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw fromZodError(result.error, prefix);
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
