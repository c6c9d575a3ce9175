import { createHash } from 'node:crypto';
import { ExecutionAlreadyExists, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { executionName, failedAttemptStep } from '../../shared/escalation/settings.ts';
import { riskLevelChangedSchema } from '../../shared/events/schemas.ts';
import { ESCALATION_START_LIMITS } from './limits.ts';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export interface StartResult {
  started: boolean;
  name: string | null;
  reason: string;
  /** StartExecution calls made (0 when there was nothing to start). */
  attempts: number;
}

export interface StartOptions {
  /** Calls per start, the first included; after the last retryable failure the error is thrown. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Injected in tests; a real timer otherwise. */
  sleep?: (ms: number) => Promise<void>;
  /** In [0, 1); Math.random otherwise. */
  random?: () => number;
  /** Told before each wait, for logs and metrics. */
  onRetry?: (retry: { attempt: number; delayMs: number; error: unknown }) => void;
  /**
   * How many attempts at the incident have failed (the escalation's catch path records each; see
   * countFailedAttempts). Without it, every start is the first attempt.
   */
  failedAttempts?: (accountId: string, incidentId: string) => Promise<number>;
  /** @default ESCALATION_START_LIMITS.maxRestarts */
  maxRestarts?: number;
}

/**
 * Failed attempts at an incident: the `failed-a0`, `failed-a1` … step records in a row (at most
 * `limit` reads; one, a miss, for an incident that never failed).
 */
export async function countFailedAttempts(
  getStep: (accountId: string, incidentId: string, step: string) => Promise<unknown>,
  accountId: string,
  incidentId: string,
  limit: number = ESCALATION_START_LIMITS.maxRestarts + 1,
): Promise<number> {
  let failed = 0;
  while (failed < limit && (await getStep(accountId, incidentId, failedAttemptStep(failed)))) failed++;
  return failed;
}

const RETRYABLE_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'InternalFailure',
  'InternalServerException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);
const RETRYABLE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

/** Throttling, service unavailable, a 5xx or a dropped connection: worth another try. */
export function isRetryableStartError(e: unknown): boolean {
  const err = e as {
    name?: string;
    code?: string;
    $fault?: string;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  if (err === null || typeof err !== 'object') return false;
  const status = err.$metadata?.httpStatusCode;
  return (
    RETRYABLE_NAMES.has(err.name ?? '') ||
    RETRYABLE_CODES.has(err.code ?? '') ||
    err.$fault === 'server' ||
    Boolean(err.$retryable) ||
    status === 429 ||
    (status !== undefined && status >= 500)
  );
}

/** Full jitter: a random wait below min(maxDelayMs, baseDelayMs × 2^(attempt−1)), after call `attempt`. */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number) {
  return Math.floor(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1)));
}

const timer = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const alreadyExists = (e: unknown) =>
  e instanceof ExecutionAlreadyExists || (e as { name?: string } | null)?.name === 'ExecutionAlreadyExists';

/**
 * Starts the escalation of an incident when an account moves to WARNING or worse. The execution name is
 * derived from account, incident and attempt, so a second start for the same attempt is refused by Step
 * Functions and becomes a no-op here. An attempt whose execution failed (its catch path recorded it) is
 * followed, at the incident's next level change, by the next attempt under a new name — at most
 * `maxRestarts` times; its steps find what the failed one already did and never do it twice. A throttled (or otherwise transient) start is retried with bounded
 * exponential backoff and jitter; past the bound the error is thrown, so the start goes back to its queue
 * instead of being dropped. A detail that is not a RiskLevelChanged throws (a ZodError) at once.
 */
export async function startEscalation(
  detail: unknown,
  sfn: Pick<SFNClient, 'send'>,
  stateMachineArn: string,
  options: StartOptions = {},
): Promise<StartResult> {
  const event = riskLevelChangedSchema.parse(detail);
  if (event.to === 'SAFE' || event.incidentId === null)
    return { started: false, name: null, reason: `level ${event.to}: nothing to escalate`, attempts: 0 };
  const {
    maxAttempts = ESCALATION_START_LIMITS.maxAttempts,
    baseDelayMs = ESCALATION_START_LIMITS.baseDelayMs,
    maxDelayMs = ESCALATION_START_LIMITS.maxDelayMs,
    sleep = timer,
    random = Math.random,
    onRetry,
    maxRestarts = ESCALATION_START_LIMITS.maxRestarts,
  } = options;
  const attempt = (await options.failedAttempts?.(event.accountId, event.incidentId)) ?? 0;
  if (attempt > maxRestarts)
    return {
      started: false,
      name: null,
      reason: `escalation failed ${attempt} times for this incident: left to people (each failure paged)`,
      attempts: 0,
    };
  const name = executionName(event.accountId, event.incidentId, sha256, attempt);
  const command = new StartExecutionCommand({
    stateMachineArn,
    name,
    input: JSON.stringify({ accountId: event.accountId, incidentId: event.incidentId, attempt }),
  });
  for (let call = 1; ; call++) {
    try {
      await sfn.send(command);
      return {
        started: true,
        name,
        reason:
          attempt === 0
            ? `incident ${event.incidentId} at ${event.to}`
            : `incident ${event.incidentId} at ${event.to}: restarted after ${attempt} failed attempt(s)`,
        attempts: call,
      };
    } catch (e) {
      // A retry after a call that did start (its answer lost) lands here too: the incident is escalating.
      if (alreadyExists(e))
        return { started: false, name, reason: 'already escalating this incident', attempts: call };
      if (!isRetryableStartError(e) || call >= maxAttempts) throw e;
      const delayMs = backoffDelay(call, baseDelayMs, maxDelayMs, random);
      onRetry?.({ attempt: call, delayMs, error: e });
      await sleep(delayMs);
    }
  }
}
