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
import { CfnRule, type Rule } from 'aws-cdk-lib/aws-events';
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
  /**
   * Subscribed to the ops topic (alarms) by e-mail.
   * @default - no subscription: subscribe the topic yourself
   */
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
  /** Each alarmed when an execution fails, times out or is throttled (the escalation, the paging ladder). */
  readonly stateMachines: readonly StateMachine[];
  /**
   * EventBridge rules: alarmed when an invocation fails for good (`FailedInvocations`) and when a failed
   * one could not even be dead-lettered (`InvocationsFailedToBeSentToDlq`).
   * @default - none
   */
  readonly rules?: readonly Rule[];
  /**
   * Functions invoked asynchronously (rule and schedule targets): alarmed when Lambda drops an event
   * after its retries (`AsyncEventsDropped`; those with an on-failure destination were sent there first).
   * @default - none
   */
  readonly asyncFunctions?: readonly MarginGuardFunction[];
  /**
   * Functions with an on-failure destination: alarmed when Lambda cannot deliver to it
   * (`DestinationDeliveryFailures`: the event is lost).
   * @default - none
   */
  readonly destinationFunctions?: readonly MarginGuardFunction[];
}

/** What each state machine's failure means for people, for its alarms. */
const WORKFLOW_MEANING: Record<string, string> = {
  Escalation:
    'on-call was paged by its catch path; check the account by hand (its next level change restarts the escalation)',
  Paging: 'ops were told by its catch path; page the people on the ladder by hand',
};

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
    for (const sm of props.stateMachines) {
      const name = sm.node.scope!.node.id;
      const meaning = WORKFLOW_MEANING[name] ?? 'check its executions';
      alarm(
        `${name}ExecutionsFailed`,
        sm.metricFailed({ period }),
        1,
        `A ${name} execution failed: ${meaning}.`,
      );
      alarm(
        `${name}ExecutionsTimedOut`,
        sm.metricTimedOut({ period }),
        1,
        `A ${name} execution timed out: ${meaning}.`,
      );
      alarm(
        `${name}ExecutionsThrottled`,
        sm.metricThrottled({ period }),
        1,
        `${name} executions were throttled (state transitions or starts): steps run late.`,
      );
    }
    for (const rule of props.rules ?? []) {
      const id = `${rule.node.scope!.node.id}${rule.node.id}`;
      // Rules on a custom bus report with the bus's name too; a default-bus rule (a schedule) without.
      const busName = (rule.node.defaultChild as CfnRule).eventBusName;
      const events = (metricName: string) =>
        new Metric({
          namespace: 'AWS/Events',
          metricName,
          dimensionsMap: { ...(busName ? { EventBusName: busName } : {}), RuleName: rule.ruleName },
          statistic: 'Sum',
          period,
        });
      alarm(
        `${id}FailedInvocations`,
        events('FailedInvocations'),
        1,
        `EventBridge could not deliver events of rule ${id} to its target after its retries (see its dead-letter queue).`,
      );
      alarm(
        `${id}DlqSendFailures`,
        events('InvocationsFailedToBeSentToDlq'),
        1,
        `EventBridge could not dead-letter events of rule ${id} either: they are lost. Check the DLQ's policy and encryption.`,
      );
    }
    for (const f of props.asyncFunctions ?? [])
      alarm(
        `${f.node.id}AsyncEventsDropped`,
        f.fn.metric('AsyncEventsDropped', { period, statistic: 'Sum' }),
        1,
        `${f.node.id} gave up on asynchronous events after Lambda's retries (dead-lettered where it has a destination).`,
      );
    for (const f of props.destinationFunctions ?? [])
      alarm(
        `${f.node.id}DestinationDeliveryFailures`,
        f.fn.metric('DestinationDeliveryFailures', { period, statistic: 'Sum' }),
        1,
        `${f.node.id} could not send failed events to its on-failure destination: they are lost.`,
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
