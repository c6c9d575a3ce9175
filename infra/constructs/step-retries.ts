import { Duration } from 'aws-cdk-lib';
import { Errors, JitterType, type TaskStateBase } from 'aws-cdk-lib/aws-stepfunctions';
import { ACCOUNT_CHANGED } from '../../functions/lib/escalation-waits.ts';
import { PERMANENT_ERROR, TRANSIENT_ERROR } from '../../functions/lib/step-errors.ts';

/**
 * Errors retried with the long backoff: the steps' own `TransientError`, Lambda's service errors, and a
 * step that timed out — Lambda reports a function timeout (or running out of memory) as
 * `Lambda.Unknown` or `Sandbox.Timedout`; `States.Timeout` is the task's own `TimeoutSeconds`.
 */
export const TRANSIENT_STEP_ERRORS = [
  TRANSIENT_ERROR,
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.Unknown',
  'Sandbox.Timedout',
  Errors.TIMEOUT,
] as const;

/**
 * The retry policy of every workflow task, in the order Step Functions tries them (the first retrier
 * whose list names the error decides):
 *
 * 1. `PermanentError`: never retried (0 attempts), so it goes straight to the catch path.
 * 2. transient errors (above): 10 retries, 2 s doubling to at most 60 s, full jitter — about 6 minutes
 *    at worst (3 on average), enough to ride out a throttled table, a regional blip or a Lambda timeout.
 * 3. anything else a task raises (`States.TaskFailed`: an error nobody classified): 3 retries, 2 s
 *    doubling to at most 30 s, full jitter; then the catch path.
 */
export const STEP_RETRY = {
  transient: {
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 10,
    maxDelay: Duration.seconds(60),
  },
  unclassified: {
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 3,
    maxDelay: Duration.seconds(30),
  },
} as const;

/** How long one task may take before Step Functions times it out (`States.Timeout`, retried). */
export const stepTaskTimeout = (lambdaTimeout: Duration) => lambdaTimeout.plus(Duration.seconds(30));

/**
 * The same policy for a callback task (`.waitForTaskToken`), but for its own timeout: a wait that timed out
 * is the backstop firing, caught and sent on to the re-check, never retried (a retry would wait again).
 */
export function addCallbackRetries<T extends TaskStateBase>(task: T): T {
  // A wait that ended before it began (functions/lib/escalation-waits.ts): caught, never retried.
  task.addRetry({ errors: [ACCOUNT_CHANGED], maxAttempts: 0 });
  return addStepRetries(task, { timeoutRetried: false });
}

export function addStepRetries<T extends TaskStateBase>(
  task: T,
  options: { readonly timeoutRetried?: boolean } = {},
): T {
  const transient =
    options.timeoutRetried === false
      ? TRANSIENT_STEP_ERRORS.filter((e) => e !== Errors.TIMEOUT)
      : [...TRANSIENT_STEP_ERRORS];
  task.addRetry({ errors: [PERMANENT_ERROR], maxAttempts: 0 });
  task.addRetry({
    errors: transient,
    ...STEP_RETRY.transient,
    jitterStrategy: JitterType.FULL,
  });
  task.addRetry({
    errors: [Errors.TASKS_FAILED],
    ...STEP_RETRY.unclassified,
    jitterStrategy: JitterType.FULL,
  });
  return task;
}
