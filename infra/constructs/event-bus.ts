import { Duration } from 'aws-cdk-lib';
import { Archive, EventBus } from 'aws-cdk-lib/aws-events';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_SOURCE } from '../../shared/events/schemas.ts';

/** The bus brokers' order systems subscribe to, with an archive so a consumer can replay what it missed. */
export class RiskEventBus extends Construct {
  readonly bus: EventBus;
  /**
   * Events the bus could not hand to a Lambda rule target (EventBridge's dead-letter queue), and the
   * asynchronous invocations of those targets that still failed after Lambda's retries (their on-failure
   * destination). SQS-managed encryption (SSE-SQS): EventBridge writes a dead-letter queue with its own
   * service principal, which a customer-managed key's policy would have to name (docs/reliability.md).
   */
  readonly targetDeadLetterQueue: Queue;

  constructor(scope: Construct, id: string, stage: string) {
    super(scope, id);
    this.bus = new EventBus(this, 'Bus', { eventBusName: `margin-guard-${stage}` });
    new Archive(this, 'Archive', {
      sourceEventBus: this.bus,
      eventPattern: { source: [EVENT_SOURCE] },
      retention: Duration.days(30),
      description: 'All Margin Guard events, replayable for 30 days',
    });
    this.targetDeadLetterQueue = new Queue(this, 'TargetDeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
  }
}
