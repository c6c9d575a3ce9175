/**
 * AWS's published limits the capacity model schedules against, each with where it is published. Defaults
 * of a us-east-1 account; "adjustable" ones can be raised through Service Quotas, and the model says
 * which it assumes raised. Check the pages before relying on a figure: they change.
 */
export const LIMITS = {
  dynamodb: {
    /** Per partition: 1,000 write units/s and 3,000 read units/s. A single partition key (an item or an
     * item collection the table keeps together) can never exceed them. Source: DynamoDB Developer Guide,
     * "Understanding DynamoDB warm throughput in different scenarios" (uneven access patterns). */
    partitionWriteUnitsPerS: 1_000,
    partitionReadUnitsPerS: 3_000,
    /** A new on-demand table serves 4,000 writes/s and 12,000 reads/s at once; up to twice its previous
     * peak without throttling; more only after scaling or pre-warming ("warm throughput"). Source:
     * Developer Guide, "Pre-warming a table for on-demand capacity mode", "Understanding DynamoDB warm
     * throughput". */
    newOnDemandWriteUnitsPerS: 4_000,
    newOnDemandReadUnitsPerS: 12_000,
    /** On-demand per-table maximum, default 40,000 read and 40,000 write request units/s (adjustable).
     * Source: Developer Guide, "Quotas in Amazon DynamoDB" (throughput default quotas). The model assumes
     * the tables are pre-warmed to this (a deployment step: docs/guard-bands.md). */
    tableWriteUnitsPerS: 40_000,
    tableReadUnitsPerS: 40_000,
    /** Items per TransactWriteItems. Source: API reference, TransactWriteItems. */
    transactionItems: 100,
    /** Typical single-digit-millisecond request latency, for the latency model (not a quota). */
    requestLatencyMs: 6,
  },
  lambda: {
    /** Concurrent executions per account and Region, default 1,000 (adjustable). Source: Lambda Developer
     * Guide, "Lambda quotas". */
    accountConcurrency: 1_000,
    /** Each function scales by at most 1,000 execution environments every 10 seconds. Source: Lambda
     * Developer Guide, "Lambda scaling behavior" (concurrency scaling rate). */
    scaleUpPerS: 100,
    /** 1,769 MB buys one vCPU. Source: Lambda Developer Guide, "Configure Lambda function memory". */
    memoryMbPerVcpu: 1_769,
    /** DynamoDB stream event sources: one concurrent batch per shard, times the parallelization factor
     * (at most 10); Lambda polls each shard about four times a second. Source: Lambda Developer Guide,
     * "Using AWS Lambda with Amazon DynamoDB" (polling and batching; parallelization factor). */
    maxParallelizationFactor: 10,
    streamPollsPerS: 4,
    /** SQS event sources in provisioned mode: 2–200 minimum pollers kept ready (up to 10,000 maximum),
     * "3 times faster scaling and up to 16 times higher processing capacity" than standard mode, which
     * starts with five concurrent batches. Source: Lambda Developer Guide, "Configuring scaling behavior
     * for SQS event source mappings"; CloudFormation ProvisionedPollerConfig. */
    sqsProvisionedMinimumPollersMax: 200,
    sqsStandardInitialBatches: 5,
  },
  sqs: {
    /** Standard queues: nearly unlimited API calls per second. FIFO: 300 calls/s per action, 3,000
     * messages/s with batching, and in high-throughput mode up to 70,000 transactions/s in the largest
     * Regions. Source: SQS Developer Guide, "Amazon SQS message quotas" / "FIFO queue quotas". */
    fifoHighThroughputMessagesPerS: 70_000,
    /** SendMessageBatch: 10 messages, 256 KiB in all. */
    batchEntries: 10,
  },
  eventBridge: {
    /** PutEvents: 10,000 entries/s in us-east-1, us-west-2, eu-west-1 (adjustable; 2,400 or 1,200
     * elsewhere); 10 entries per call. Source: EventBridge User Guide, "Amazon EventBridge quotas". */
    putEventsEntriesPerS: 10_000,
    entriesPerCall: 10,
  },
  stepFunctions: {
    /** Standard workflows' StartExecution: a token bucket of 1,300, refilled at 300/s in us-east-1,
     * us-west-2 and eu-west-1 (800 and 150/s elsewhere). Source: Step Functions Developer Guide, "Step
     * Functions service quotas" (API action throttling). */
    startExecutionBucket: 1_300,
    startExecutionRefillPerS: 300,
    /** State transitions: bucket 5,000, refill 5,000/s in the large Regions. Same page. */
    stateTransitionsPerS: 5_000,
  },
  notify: {
    /** SES sending rate: 14 messages/s once out of the sandbox (1/s in it). Source: SES Developer Guide,
     * "Managing your Amazon SES sending quotas". */
    sesPerS: 14,
    /** Telegram bots: about 30 messages/s overall, 20 messages/min to one group. Source: Telegram Bot
     * API FAQ ("My bot is hitting limits"). */
    telegramPerS: 30,
    telegramPerGroupPerMin: 20,
    /** Slack incoming webhooks: one message per second per webhook (short bursts allowed). Source: Slack
     * API docs, "Rate limits". */
    chatWebhookPerS: 1,
    /** SNS SMS: 20 messages/s per account by default (adjustable). Source: SNS Developer Guide, SMS quotas. */
    snsSmsPerS: 20,
  },
} as const;
