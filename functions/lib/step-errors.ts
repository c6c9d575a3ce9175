/**
 * Error classes a workflow step (escalation, paging) reports to Step Functions. Lambda reports a thrown
 * error's `name` as the error Step Functions sees, so a step throws one of two stable names and the state
 * machines retry by name (infra/constructs/step-retries.ts):
 *
 * - `TransientError`: worth another try — throttling, a 5xx, a dropped connection or timeout, an
 *   optimistic-concurrency conflict that outlasted its own retries, a channel that said "not now".
 *   Retried with capped, jittered exponential backoff.
 * - `PermanentError`: retrying cannot help — invalid input or stored data, a provider that refused for
 *   good, an AWS client error such as a missing resource or a denied call. Never retried: the workflow's
 *   catch path records it and tells a person at once.
 *
 * Anything else keeps its own name (a bug, an error nobody classified yet): the state machines retry it
 * a few times and then catch it too. The original name is the `code`, first in the message.
 */

export const TRANSIENT_ERROR = 'TransientError';
export const PERMANENT_ERROR = 'PermanentError';

interface Classified {
  /** The original error's name (or code): stable, for logs, metrics and the page. */
  readonly code: string;
}

export class TransientError extends Error implements Classified {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
    this.name = TRANSIENT_ERROR;
  }
}

export class PermanentError extends Error implements Classified {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
    this.name = PERMANENT_ERROR;
  }
}

/** AWS and provider error names that mean "not now". */
const TRANSIENT_NAMES = new Set([
  // throttling
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'SlowDown',
  'KMSThrottlingException',
  // the service, not the request
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'InternalServerException',
  'InternalFailure',
  'InternalErrorException',
  'InternalError',
  'InternalServiceError',
  'InternalServiceErrorException',
  'KMSInternalException',
  // the wire
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'AbortError',
  // DynamoDB transactions racing each other
  'TransactionConflictException',
  'TransactionInProgressException',
  // ours: conflicts that outlasted their retries, channels that said "not now", anything busy or throttled
  'VersionConflict',
  'BandConflict',
  'RetryableDeliveryError',
  'RetryLaterError',
]);

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Errors that no retry can fix. */
const PERMANENT_NAMES = new Set(['InputError', 'ZodError', 'PermanentDeliveryError', 'AckRefusedError']);

/** Client faults that are races, not mistakes: left to the bounded retry of unclassified errors. */
const NOT_PERMANENT_CLIENT_FAULTS = new Set([
  'ConditionalCheckFailedException',
  'TransactionCanceledException',
]);

/** Reasons a cancelled DynamoDB transaction is worth retrying. */
const TRANSIENT_CANCELLATION_CODES = new Set([
  'ThrottlingError',
  'TransactionConflict',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

interface ErrorShape {
  name?: string;
  code?: string;
  /** Ours (RetryLaterError): says so itself. */
  retryable?: unknown;
  $fault?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
  CancellationReasons?: { Code?: string }[];
  cause?: unknown;
}

const shape = (e: unknown): ErrorShape | null =>
  e !== null && typeof e === 'object' ? (e as ErrorShape) : null;

/** Throttling, service unavailable, a 5xx, a dropped connection or a conflict: worth another try. */
export function isTransientError(e: unknown): boolean {
  const err = shape(e);
  if (!err) return false;
  if (err.name === TRANSIENT_ERROR) return true;
  if (err.name === PERMANENT_ERROR) return false;
  const status = err.$metadata?.httpStatusCode;
  if (
    TRANSIENT_NAMES.has(err.name ?? '') ||
    TRANSIENT_CODES.has(err.code ?? '') ||
    err.$fault === 'server' ||
    Boolean(err.$retryable) ||
    err.retryable === true ||
    status === 429 ||
    (status !== undefined && status >= 500)
  )
    return true;
  if (err.name === 'TransactionCanceledException')
    return (err.CancellationReasons ?? []).some((r) => TRANSIENT_CANCELLATION_CODES.has(r.Code ?? ''));
  // A wrapped network error (fetch: TypeError('fetch failed', { cause: ECONNRESET })).
  const cause = shape(err.cause);
  return cause !== null && TRANSIENT_CODES.has(cause.code ?? '');
}

/** Invalid input or data, a provider's final refusal, an AWS client error (not throttling): never retried. */
export function isPermanentError(e: unknown): boolean {
  const err = shape(e);
  if (!err) return false;
  if (err.name === PERMANENT_ERROR) return true;
  if (isTransientError(e)) return false;
  if (PERMANENT_NAMES.has(err.name ?? '')) return true;
  return err.$fault === 'client' && !NOT_PERMANENT_CLIENT_FAULTS.has(err.name ?? '');
}

/**
 * The error a step throws to Step Functions: a `TransientError` or `PermanentError` carrying the
 * original name as its code (and the original as its cause), or the original when it is neither.
 */
export function classifyStepError(e: unknown): unknown {
  const err = shape(e);
  if (!err || err.name === TRANSIENT_ERROR || err.name === PERMANENT_ERROR) return e;
  const code = err.name ?? err.code ?? 'Error';
  // An error with a stable code of its own (RetryLaterError's `alert-memory-busy` …) keeps it in the message.
  const own = typeof err.code === 'string' && err.code !== code ? ` [${err.code}]` : '';
  const message = `${e instanceof Error ? e.message : String(e)}${own}`;
  if (isTransientError(e)) return new TransientError(code, message, { cause: e });
  if (isPermanentError(e)) return new PermanentError(code, message, { cause: e });
  return e;
}

/** Runs a step, throwing its failure classified (see classifyStepError). */
export async function classified<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    throw classifyStepError(e);
  }
}
