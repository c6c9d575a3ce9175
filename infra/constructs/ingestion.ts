import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, type IEventBus } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { INGEST_EVENT_SOURCE, INGEST_EVENT_TYPES } from '../../shared/ingest/contract.ts';
import type { TableKey } from '../../functions/lib/table-definitions.ts';
import { MarginGuardFunction } from './lambda-function.ts';

export interface IngestionProps {
  readonly tables: Record<TableKey, ITable>;
  readonly bus: IEventBus;
  readonly environment: Record<string, string>;
  /** Where invalid updates go, each with every bad field named (the pipeline's dead-letter queue, alarmed). */
  readonly deadLetterQueue: IQueue;
  /** Events the bus could not hand to the handler, or that kept failing after its retries (alarmed). */
  readonly targetDeadLetterQueue: IQueue;
  readonly logRetentionDays: number;
  /**
   * How long an update for an account that does not exist yet is retried (the bus's retries) before it is
   * dead-lettered: its account's AccountUpserted should land well within it.
   * @default Duration.hours(2)
   */
  readonly maxEventAge?: Duration;
}

/**
 * The broker's ingestion events (shared/ingest/contract.ts: AccountUpserted, CashChanged, PositionChanged,
 * PositionsReplaced, PriceTicks from source `margin-guard.broker.ingest`) from the Margin Guard bus to the
 * ingest handler, which applies each only if newer; its writes land on the streamed tables, and the
 * evaluation follows from the streams. Nothing is dropped: invalid input is dead-lettered with its fields
 * named, and an event that keeps failing ends in the target's dead-letter queue.
 */
export class Ingestion extends Construct {
  readonly handler: MarginGuardFunction;

  constructor(scope: Construct, id: string, props: IngestionProps) {
    super(scope, id);
    this.handler = new MarginGuardFunction(this, 'Ingest', {
      name: 'ingest',
      description: 'Applies the broker’s account, cash, position and price updates, only if newer',
      environment: props.environment,
      timeout: Duration.seconds(30),
      logRetentionDays: props.logRetentionDays,
    });
    props.tables.accounts.grantReadWriteData(this.handler.role);
    props.tables.positions.grantReadWriteData(this.handler.role);
    props.tables.prices.grantReadWriteData(this.handler.role);
    props.deadLetterQueue.grantSendMessages(this.handler.role);
    this.handler.fn.configureAsyncInvoke({
      retryAttempts: 2,
      onFailure: new SqsDestination(props.targetDeadLetterQueue),
    });
    new Rule(this, 'FromBroker', {
      description: 'The broker’s ingestion events to the ingest handler',
      eventBus: props.bus,
      eventPattern: { source: [INGEST_EVENT_SOURCE], detailType: [...INGEST_EVENT_TYPES] },
      targets: [
        new LambdaFunction(this.handler.fn, {
          retryAttempts: 8,
          maxEventAge: props.maxEventAge ?? Duration.hours(2),
          deadLetterQueue: props.targetDeadLetterQueue,
        }),
      ],
    });
  }
}
