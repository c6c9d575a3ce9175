import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule, type IEventBus } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { DeduplicationScope, FifoThroughputLimit, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { DeployConfig } from '../config.ts';
import { tableEnvName, type TableKey } from '../../functions/lib/table-definitions.ts';
import { grantBandIndex } from './storage.ts';
import { MarginGuardFunction } from './lambda-function.ts';

export interface EvaluationProps {
  readonly config: DeployConfig;
  readonly tables: Record<TableKey, ITable>;
  readonly bus: IEventBus;
  readonly key: IKey;
  /**
   * The guard-band index's tables (Storage.bandTables), `tables.bands` first.
   * @default [tables.bands]
   */
  readonly bandTables?: readonly ITable[];
}

/**
 * The evaluation pipeline: stream Lambdas on positions/accounts and prices, the scheduled sweep, and the
 * work-queue Lambda that runs sweep segments, wide price fan-outs and the coalescing queue's unbanded
 * accounts. Records that cannot be processed land in the dead-letter queue, never dropped.
 */
export class Evaluation extends Construct {
  readonly deadLetterQueue: Queue;
  readonly workQueue: Queue;
  readonly workDeadLetterQueue: Queue;
  /**
   * The coalescing queue (FIFO): one message per unbanded account a tick finds (`coalescedMessages`),
   * grouped by account and de-duplicated per account and second (`coalesceId`), so however many ticks find
   * an unbanded account it is evaluated about once a second. The work-queue function consumes it.
   */
  readonly coalescedQueue: Queue;
  readonly coalescedDeadLetterQueue: Queue;
  readonly functions: Record<
    'positionStream' | 'priceStream' | 'sweep' | 'watch' | 'workQueue',
    MarginGuardFunction
  >;
  /** Table names, bus, queues and pipeline settings: every evaluating function gets the same. */
  readonly environment: Record<string, string>;

  constructor(scope: Construct, id: string, props: EvaluationProps) {
    super(scope, id);
    const { config, tables, bus, key } = props;
    const bandTables = props.bandTables ?? [tables.bands];
    const queueDefaults = {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    };
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', queueDefaults);
    // A message becomes visible again only after the worker's timeout (plus a minute), so one still being
    // worked on is not delivered a second time.
    const workerTimeout = Duration.minutes(5);
    const workQueueDefaults = {
      ...queueDefaults,
      retentionPeriod: Duration.days(1),
      visibilityTimeout: workerTimeout.plus(Duration.minutes(1)),
    };
    this.workDeadLetterQueue = new Queue(this, 'WorkDeadLetterQueue', queueDefaults);
    this.workQueue = new Queue(this, 'WorkQueue', {
      ...workQueueDefaults,
      deadLetterQueue: { queue: this.workDeadLetterQueue, maxReceiveCount: 5 },
    });
    // A FIFO queue's dead-letter queue must be FIFO too.
    this.coalescedDeadLetterQueue = new Queue(this, 'CoalescedDeadLetterQueue', {
      ...queueDefaults,
      fifo: true,
    });
    this.coalescedQueue = new Queue(this, 'CoalescedQueue', {
      ...workQueueDefaults,
      fifo: true,
      // SqsWorkQueue sets MessageDeduplicationId (account#second) and MessageGroupId (the account) itself.
      contentBasedDeduplication: false,
      // High-throughput FIFO: de-duplication and the throughput quota per message group, i.e. per account.
      deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      deadLetterQueue: { queue: this.coalescedDeadLetterQueue, maxReceiveCount: 5 },
    });

    const environment = (this.environment = {
      ...Object.fromEntries(
        (Object.keys(tables) as TableKey[]).map((k) => [tableEnvName(k), tables[k].tableName]),
      ),
      EVENT_BUS_NAME: bus.eventBusName,
      DEAD_LETTER_QUEUE_URL: this.deadLetterQueue.queueUrl,
      WORK_QUEUE_URL: this.workQueue.queueUrl,
      COALESCED_QUEUE_URL: this.coalescedQueue.queueUrl,
      BANDS_TABLES: bandTables.map((t) => t.tableName).join(','),
      SWEEP_SEGMENTS: String(config.sweepSegments),
      INLINE_FANOUT_LIMIT: String(config.inlineFanoutLimit),
      BAND_SHARDS: String(config.bandShards),
      // The watch sweep looks back over three of its periods, so a late or retried run misses nothing.
      WATCH_WINDOW_MS: String(config.watchRateMinutes * 3 * 60_000),
      STALE_AFTER_MS: String(config.staleAfterSeconds * 1000),
      HEARTBEAT_MS: String(config.heartbeatMinutes * 60_000),
      RATIO_DELTA: config.ratioDelta,
      HISTORY_TTL_DAYS: String(config.historyTtlDays),
    });
    const make = (id: string, name: string, description: string, timeout: Duration) =>
      new MarginGuardFunction(this, id, {
        name,
        description,
        environment,
        timeout,
        logRetentionDays: config.logRetentionDays,
      });
    this.functions = {
      positionStream: make(
        'PositionStream',
        'position-stream',
        'Recomputes accounts whose positions or cash changed',
        Duration.minutes(1),
      ),
      priceStream: make(
        'PriceStream',
        'price-stream',
        'Evaluates the accounts whose guard band a price change crossed',
        Duration.minutes(1),
      ),
      sweep: make('Sweep', 'sweep', 'Enqueues one work message per sweep segment', Duration.seconds(30)),
      watch: make(
        'Watch',
        'watch',
        'Enqueues unbanded accounts and holders of newly stale prices',
        Duration.minutes(1),
      ),
      workQueue: make(
        'WorkQueueWorker',
        'work-queue',
        'Evaluates sweep segments and fanned-out account batches',
        workerTimeout,
      ),
    };

    // Least privilege: each function gets exactly the tables and actions its code uses.
    const evaluators = [this.functions.positionStream, this.functions.priceStream, this.functions.workQueue];
    for (const f of evaluators) {
      for (const t of ['accounts', 'positions', 'prices'] as const) tables[t].grantReadData(f.role);
      tables.riskState.grantReadWriteData(f.role);
      tables.riskHistory.grantWriteData(f.role);
      grantBandIndex(bandTables, f.role, 'readWrite');
      bus.grantPutEventsTo(f.role);
      this.deadLetterQueue.grantSendMessages(f.role);
    }
    this.workQueue.grantSendMessages(this.functions.priceStream.role);
    // Only the price stream sends coalesced messages (unbanded accounts a tick found).
    this.coalescedQueue.grantSendMessages(this.functions.priceStream.role);
    this.workQueue.grantSendMessages(this.functions.workQueue.role);
    this.workQueue.grantSendMessages(this.functions.sweep.role);
    tables.idempotency.grantReadWriteData(this.functions.sweep.role);
    const watch = this.functions.watch.role;
    this.workQueue.grantSendMessages(watch);
    tables.idempotency.grantReadWriteData(watch);
    grantBandIndex(bandTables, watch, 'read');
    tables.prices.grantReadData(watch);
    tables.positions.grantReadData(watch);

    const streamOptions = {
      startingPosition: StartingPosition.TRIM_HORIZON,
      batchSize: 100,
      maxBatchingWindow: Duration.seconds(1),
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      retryAttempts: 5,
      maxRecordAge: Duration.hours(1),
      parallelizationFactor: 4,
      onFailure: new SqsDlq(this.deadLetterQueue),
    };
    this.functions.positionStream.addStreamSource(new DynamoEventSource(tables.positions, streamOptions));
    this.functions.positionStream.addStreamSource(new DynamoEventSource(tables.accounts, streamOptions));
    this.functions.priceStream.addStreamSource(new DynamoEventSource(tables.prices, streamOptions));
    this.functions.workQueue.fn.addEventSource(
      new SqsEventSource(this.workQueue, { batchSize: 1, reportBatchItemFailures: true, maxConcurrency: 50 }),
    );
    // One account per coalesced message, so ten to a batch; nothing depends on their order (each is
    // "evaluate this account now"), so a failed one alone is retried. FIFO sources take no batching window.
    this.functions.workQueue.fn.addEventSource(
      new SqsEventSource(this.coalescedQueue, {
        batchSize: 10,
        reportBatchItemFailures: true,
        maxConcurrency: 50,
      }),
    );

    new Rule(this, 'WatchSchedule', {
      description: `Evaluates unbanded accounts and holders of newly stale prices every ${config.watchRateMinutes} minute(s)`,
      schedule: Schedule.rate(Duration.minutes(config.watchRateMinutes)),
      targets: [
        new LambdaFunction(this.functions.watch.fn, { retryAttempts: 2, maxEventAge: Duration.minutes(2) }),
      ],
    });
    new Rule(this, 'SweepSchedule', {
      description: `Re-evaluates every account every ${config.sweepRateMinutes} minute(s), behind the guard bands`,
      schedule: Schedule.rate(Duration.minutes(config.sweepRateMinutes)),
      targets: [
        new LambdaFunction(this.functions.sweep.fn, { retryAttempts: 2, maxEventAge: Duration.minutes(5) }),
      ],
    });
  }
}
