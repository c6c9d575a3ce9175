import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, type IEventBus } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BROKER_EVENT_SCHEMAS, BROKER_EVENT_SOURCE } from '../../shared/events/broker-feedback.ts';
import type { TableKey } from '../../functions/lib/table-definitions.ts';
import { MarginGuardFunction } from './lambda-function.ts';
import type { Paging } from './paging.ts';

export interface BrokerFeedbackProps {
  readonly tables: Record<TableKey, ITable>;
  readonly bus: IEventBus;
  readonly environment: Record<string, string>;
  readonly deadLetterQueue: IQueue;
  /**
   * Broker events the bus could not hand to the handler, or that still failed after Lambda's retries
   * (SQS-managed encryption: EventBridge must be able to write it).
   */
  readonly targetDeadLetterQueue: IQueue;
  readonly paging: Paging;
  readonly logRetentionDays: number;
}

/**
 * The broker's order events (accepted, filled, rejected, cancelled) from the Margin Guard bus: each is
 * applied to its order and audited as requested vs filled; the escalation's re-checks act on them
 * (re-plan what ended short, page what stays unfilled). A rejected liquidation pages at once.
 */
export class BrokerFeedback extends Construct {
  readonly handler: MarginGuardFunction;

  constructor(scope: Construct, id: string, props: BrokerFeedbackProps) {
    super(scope, id);
    // Alarm names come from construct ids: "Handler" is the API's.
    this.handler = new MarginGuardFunction(this, 'Feedback', {
      name: 'broker-feedback',
      description: 'Applies the broker’s order events to the requested orders',
      environment: { ...props.environment, ...props.paging.environment },
      timeout: Duration.seconds(30),
      logRetentionDays: props.logRetentionDays,
    });
    props.paging.grantDispatch(this.handler);
    // Bankruptcy accounting: the account's balance reset with the insurance-fund draw, in one transaction.
    props.tables.accounts.grantReadWriteData(this.handler.role);
    props.tables.positions.grantReadData(this.handler.role);
    // The ADL queue it publishes reads holders, their risk state and the mark.
    props.tables.riskState.grantReadData(this.handler.role);
    props.tables.prices.grantReadData(this.handler.role);
    props.bus.grantPutEventsTo(this.handler.role);
    // EventBridge invokes asynchronously: an event that keeps failing in the handler (Lambda's own two
    // retries) lands in the dead-letter queue too, never dropped.
    this.handler.fn.configureAsyncInvoke({
      retryAttempts: 2,
      onFailure: new SqsDestination(props.targetDeadLetterQueue),
    });
    new Rule(this, 'FromBroker', {
      description: 'The broker’s order events to the feedback handler',
      eventBus: props.bus,
      eventPattern: { source: [BROKER_EVENT_SOURCE], detailType: Object.keys(BROKER_EVENT_SCHEMAS) },
      targets: [
        new LambdaFunction(this.handler.fn, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(2),
          deadLetterQueue: props.targetDeadLetterQueue,
        }),
      ],
    });
  }
}
