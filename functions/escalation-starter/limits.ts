/**
 * How fast escalations are started, and how hard a throttled start is retried. One source for the
 * starter (functions/escalation-starter), its queue and event source (infra/constructs/escalation.ts) and
 * the capacity model (bench/capacity/). No imports: the capacity model reads it without the AWS SDK.
 *
 * Step Functions `StartExecution` (Standard workflows) is a token bucket per account and region: a bucket
 * of 1,300 refilled at 300/s in us-east-1, us-west-2 and eu-west-1, 800 refilled at 150/s elsewhere
 * (Step Functions quotas, "Quotas related to API action throttling"). The paging workflow's starts draw
 * on the same bucket.
 *
 * The steady start rate is about maxConcurrency × parallelism / L, L being one StartExecution round trip:
 * 3 invocations × 5 calls in flight / 50 ms ≈ 300 starts/s, the refill of the large regions (at L = 100 ms,
 * 150/s, the refill elsewhere). Faster than the refill, the overshoot is throttled and backs off; it is
 * never lost. A crash wave of 78,000 starts drains in about (78,000 − 1,300) / 300 ≈ 256 s (4.3 min), or
 * (78,000 − 800) / 150 ≈ 515 s (8.6 min) in the other regions, waiting on the queue meanwhile.
 */
export const ESCALATION_START_LIMITS = {
  /** SQS messages (one start each) per invocation. */
  batchSize: 10,
  /** Event source maximum concurrency: invocations at once (SQS allows 2–1,000). */
  maxConcurrency: 3,
  /** StartExecution calls in flight per invocation. */
  parallelism: 5,
  /** Calls per start, the first included, before the message goes back to the queue. */
  maxAttempts: 6,
  /** Full-jitter exponential backoff: before attempt n+1, a random wait in [0, min(maxDelayMs, baseDelayMs × 2^(n−1))). */
  baseDelayMs: 100,
  maxDelayMs: 1_600,
  /** The starter's timeout; the queue's visibility timeout is six times it (AWS's advice for SQS sources). */
  functionTimeoutSeconds: 30,
  /** Receives before a message that never started is moved to the start dead-letter queue. */
  maxReceiveCount: 10,
  /**
   * Restarts of an incident whose execution failed (each by a later level change of the incident), so
   * at most 1 + maxRestarts executions per incident; past it, the starter leaves it to people (each
   * failure paged on-call).
   */
  maxRestarts: 3,
} as const;

/** StartExecution token bucket (Standard workflows), from the Step Functions quotas page. */
export const START_EXECUTION_BUCKET = {
  largeRegions: { regions: ['us-east-1', 'us-west-2', 'eu-west-1'], bucket: 1_300, refillPerSecond: 300 },
  otherRegions: { bucket: 800, refillPerSecond: 150 },
} as const;
