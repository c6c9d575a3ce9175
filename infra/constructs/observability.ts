import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  Metric,
  TextWidget,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { MarginGuardFunction } from './lambda-function.ts';

export interface ObservabilityProps {
  readonly stage: string;
  readonly key: IKey;
  readonly alarmEmail?: string;
  readonly streamFunctions: MarginGuardFunction[];
  readonly functions: MarginGuardFunction[];
  readonly deadLetterQueues: Queue[];
  readonly workQueue: Queue;
  /**
   * The coalescing (FIFO) work queue: its oldest message is alarmed like the work queue's.
   * @default - no coalescing queue, no alarm
   */
  readonly coalescedQueue?: Queue;
  readonly stateMachine: StateMachine;
}

/** Alarms on what means data is not being watched (DLQ depth, stream lag, errors, throttles) and a dashboard. */
export class Observability extends Construct {
  readonly opsTopic: Topic;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.opsTopic = new Topic(this, 'OpsAlarms', {
      displayName: `Margin Guard ${props.stage} operational alarms`,
      masterKey: props.key,
      enforceSSL: true,
    });
    // CloudWatch must be able to use the key to publish alarm notifications to the encrypted topic.
    props.key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    if (props.alarmEmail) this.opsTopic.addSubscription(new EmailSubscription(props.alarmEmail));

    const alarm = (id: string, metric: IMetric, threshold: number, description: string) => {
      const a = new Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(new SnsAction(this.opsTopic));
      this.alarms.push(a);
      return a;
    };
    const period = Duration.minutes(5);
    for (const q of props.deadLetterQueues) {
      alarm(
        `${q.node.id}Depth`,
        q.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
        1,
        `Records in ${q.node.id}: data that was not evaluated. Inspect and redrive.`,
      );
    }
    alarm(
      'WorkQueueAge',
      props.workQueue.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum' }),
      300,
      'Evaluation work is waiting more than 5 minutes: sweeps are falling behind.',
    );
    if (props.coalescedQueue)
      alarm(
        'CoalescedQueueAge',
        props.coalescedQueue.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum' }),
        300,
        'Unbanded accounts found by ticks are waiting more than 5 minutes to be evaluated.',
      );
    for (const f of props.streamFunctions) {
      alarm(
        `${f.node.id}IteratorAge`,
        f.fn.metric('IteratorAge', { period: Duration.minutes(1), statistic: 'Maximum' }),
        60_000,
        `${f.node.id} is more than a minute behind its stream: accounts are evaluated late.`,
      );
    }
    alarm(
      'EscalationFailures',
      props.stateMachine.metricFailed({ period }),
      1,
      'An escalation execution failed: on-call was paged; check the account by hand.',
    );
    for (const f of props.functions) {
      alarm(`${f.node.id}Errors`, f.fn.metricErrors({ period }), 1, `${f.node.id} failed invocations.`);
      alarm(`${f.node.id}Throttles`, f.fn.metricThrottles({ period }), 1, `${f.node.id} was throttled.`);
    }

    const custom = (name: string) =>
      new Metric({
        namespace: 'MarginGuard',
        metricName: name,
        dimensionsMap: { service: 'margin-guard' },
        statistic: 'Sum',
        period: Duration.minutes(1),
      });
    new Dashboard(this, 'Dashboard', {
      dashboardName: `margin-guard-${props.stage}`,
      widgets: [
        [
          new TextWidget({
            markdown: `# Margin Guard (${props.stage})\nEvaluations, writes and events; stream lag; failures.`,
            width: 24,
            height: 2,
          }),
        ],
        [
          new GraphWidget({
            title: 'Evaluations and state writes',
            left: ['Evaluations', 'StateWrites', 'EventsPublished'].map(custom),
            width: 12,
          }),
          new GraphWidget({
            title: 'Conflicts, dead letters, stale ticks',
            left: ['VersionConflicts', 'DeadLettered', 'StaleTicksIgnored'].map(custom),
            width: 12,
          }),
        ],
        [
          new GraphWidget({
            title: 'Stream iterator age (ms)',
            left: props.streamFunctions.map((f) => f.fn.metric('IteratorAge', { statistic: 'Maximum' })),
            width: 8,
          }),
          new GraphWidget({
            title: 'Errors',
            left: props.functions.map((f) => f.fn.metricErrors()),
            width: 8,
          }),
          new GraphWidget({
            title: 'Queues',
            left: [
              ...props.deadLetterQueues,
              props.workQueue,
              ...(props.coalescedQueue ? [props.coalescedQueue] : []),
            ].map((q) => q.metricApproximateNumberOfMessagesVisible()),
            width: 8,
          }),
        ],
      ],
    });
  }
}
