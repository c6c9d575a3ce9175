import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, type IEventBus } from 'aws-cdk-lib/aws-events';
import { Alarm, ComparisonOperator, TreatMissingData, type IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import { LambdaFunction, SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import {
  Choice,
  Condition,
  DefinitionBody,
  Errors,
  Fail,
  IntegrationPattern,
  JsonPath,
  LogLevel,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  Timeout,
  Wait,
  WaitTime,
  type IChainable,
  type INextable,
  type TaskStateBase,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { ESCALATION_START_LIMITS } from '../../functions/escalation-starter/limits.ts';
import { ACCOUNT_CHANGED } from '../../functions/lib/escalation-waits.ts';
import { EVENT_SOURCE } from '../../shared/events/schemas.ts';
import type { DeployConfig } from '../config.ts';
import { tableEnvName, type TableKey } from '../../functions/lib/table-definitions.ts';
import { allowWildcards, STATE_MACHINE } from '../wildcard-grants.ts';
import { MarginGuardFunction } from './lambda-function.ts';
import { addCallbackRetries, addStepRetries, stepTaskTimeout } from './step-retries.ts';

export interface EscalationProps {
  readonly config: DeployConfig;
  readonly tables: Record<TableKey, ITable>;
  readonly bus: IEventBus;
  readonly key: IKey;
  readonly alerts: ITopic;
  readonly pages: ITopic;
  readonly evaluationEnvironment: Record<string, string>;
  /** Re-checks run the evaluator, which dead-letters invalid account data. */
  readonly deadLetterQueue: IQueue;
}

/**
 * Escalation per incident (Standard workflow): alert → wait → re-check → deleverage → wait → re-check →
 * liquidate, each task re-evaluating the account first; held accounts wait; recovered ones resolve.
 */
export class Escalation extends Construct {
  readonly stateMachine: StateMachine;
  readonly steps: MarginGuardFunction;
  readonly starter: MarginGuardFunction;
  /** RiskLevelChanged events waiting for their escalation to start. */
  readonly startQueue: Queue;
  /**
   * Starts that never happened: events EventBridge could not queue, messages that kept failing; and
   * wake-ups EventBridge could not deliver (that wait then ends at its backstop).
   */
  readonly startDeadLetterQueue: Queue;
  /** Ends an escalation's wait on the account's next RiskLevelChanged (SendTaskSuccess). */
  readonly waker: MarginGuardFunction;

  constructor(scope: Construct, id: string, props: EscalationProps) {
    super(scope, id);
    const { config, tables } = props;
    const stepTimeout = Duration.minutes(1);
    this.steps = new MarginGuardFunction(this, 'Steps', {
      name: 'escalation',
      description: 'Escalation steps: check, alert, deleverage, liquidate, resolve, fail',
      environment: {
        ...props.evaluationEnvironment,
        ALERTS_TOPIC_ARN: props.alerts.topicArn,
        PAGES_TOPIC_ARN: props.pages.topicArn,
      },
      timeout: stepTimeout,
      logRetentionDays: config.logRetentionDays,
    });
    const role = this.steps.role;
    for (const t of ['accounts', 'positions', 'prices'] as const) tables[t].grantReadData(role);
    tables.riskState.grantReadWriteData(role);
    tables.riskHistory.grantWriteData(role);
    tables.bands.grantReadWriteData(role); // its re-checks evaluate, and an evaluation rewrites bands
    tables.actions.grantReadWriteData(role);
    tables.settings.grantReadData(role);
    props.bus.grantPutEventsTo(role);
    props.alerts.grantPublish(role);
    props.deadLetterQueue.grantSendMessages(role);
    props.pages.grantPublish(role);

    // Every task: transient errors (the steps' TransientError, Lambda's service errors, timeouts) retried
    // with capped, jittered backoff; PermanentError never; anything else a few times (step-retries.ts).
    const task = (name: string, action: string, extra: Record<string, unknown> = {}) =>
      addStepRetries(
        new LambdaInvoke(this, name, {
          lambdaFunction: this.steps.fn,
          payloadResponseOnly: true,
          payload: TaskInput.fromObject({
            action,
            accountId: JsonPath.stringAt('$.accountId'),
            incidentId: JsonPath.stringAt('$.incidentId'),
            ...extra,
          }),
          retryOnServiceExceptions: false,
          taskTimeout: Timeout.duration(stepTaskTimeout(stepTimeout)),
        }),
      );

    const failed = new Fail(this, 'Escalation failed', {
      cause: 'A step failed after retries; on-call was paged',
    });
    // The execution's input says which attempt at the incident this is (the starter's restart count):
    // the failure is recorded per attempt, and a later level change starts the next one.
    const pageFailure = task('Page on-call about the failure', 'fail', {
      error: JsonPath.objectAt('$.error'),
      execution: JsonPath.objectAt('$$.Execution.Input'),
    }).next(failed);
    const guarded = <T extends TaskStateBase>(t: T): T => {
      t.addCatch(pageFailure, { errors: ['States.ALL'], resultPath: '$.error' });
      return t;
    };

    const resolve = guarded(task('Resolve and notify', 'resolve')).next(new Succeed(this, 'Resolved'));
    const liquidate = guarded(task('Liquidate', 'liquidate')).next(
      new Succeed(this, 'Liquidation requested'),
    );
    // Waits end on events, not on a clock: a callback task stores its token under the account (the `wait`
    // step, which ends the wait at once if the account changed since the re-check), the waker completes
    // it on the account's next RiskLevelChanged, and the task times out at `$.wakeSeconds` — the backstop
    // (wakeBackstopSeconds, an hour by default), or waitSeconds while the incident's orders are working —
    // and re-checks anyway. Polling every 5 minutes was 3 transitions × 8,640 loops a month per open
    // incident (docs/cost.md). The state is passed through unchanged (the task's result is discarded).
    const waitFor = (name: string, recheck: IChainable) => {
      const wait = addCallbackRetries(
        new LambdaInvoke(this, name, {
          lambdaFunction: this.steps.fn,
          integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
          payload: TaskInput.fromObject({
            action: 'wait',
            accountId: JsonPath.stringAt('$.accountId'),
            incidentId: JsonPath.stringAt('$.incidentId'),
            taskToken: JsonPath.taskToken,
            level: JsonPath.stringAt('$.level'),
          }),
          resultPath: JsonPath.DISCARD,
          retryOnServiceExceptions: false,
          taskTimeout: Timeout.at('$.wakeSeconds'),
        }),
      );
      // Its backstop, or the account changed before the wait began: on to the re-check.
      wait.addCatch(recheck, { errors: [Errors.TIMEOUT, ACCOUNT_CHANGED], resultPath: JsonPath.DISCARD });
      guarded(wait).next(recheck);
      return wait;
    };
    const holdWait = (name: string) =>
      new Wait(this, name, { time: WaitTime.secondsPath('$.holdPollSeconds') });

    // After the alert: watch until recovered, CRITICAL (deleverage) or LIQUIDATION (liquidate).
    const recheckAfterAlert = guarded(task('Re-check after alert', 'check'));
    const waitAfterAlert = waitFor('Wait after alert', recheckAfterAlert);
    const recheckAfterDeleverage = guarded(task('Re-check after deleverage', 'check'));
    const waitAfterDeleverage = waitFor('Wait after deleverage', recheckAfterDeleverage);
    const deleverage = guarded(task('Deleverage', 'deleverage')).next(waitAfterDeleverage);

    const decide = (
      name: string,
      onCritical: IChainable,
      onWarning: IChainable,
      hold: Wait & INextable,
      recheck: IChainable,
    ) => {
      hold.next(recheck);
      return new Choice(this, name)
        .when(Condition.booleanEquals('$.recovered', true), resolve)
        .when(Condition.booleanEquals('$.held', true), hold)
        .when(Condition.stringEquals('$.level', 'LIQUIDATION'), liquidate)
        .when(Condition.stringEquals('$.level', 'CRITICAL'), onCritical)
        .otherwise(onWarning);
    };
    recheckAfterAlert.next(
      decide('After alert', deleverage, waitAfterAlert, holdWait('On hold (after alert)'), recheckAfterAlert),
    );
    // Deleverage runs once per incident; after it, only recovery or liquidation end the watch.
    recheckAfterDeleverage.next(
      decide(
        'After deleverage',
        waitAfterDeleverage,
        waitAfterDeleverage,
        holdWait('On hold (after deleverage)'),
        recheckAfterDeleverage,
      ),
    );

    const alert = guarded(task('Alert', 'alert'));
    alert.next(
      decide(
        'After first look',
        deleverage,
        waitAfterAlert,
        holdWait('On hold (at start)'),
        recheckAfterAlert,
      ),
    );

    const logs = new LogGroup(this, 'Logs', { retention: RetentionDays.ONE_MONTH });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(alert),
      comment: 'Margin Guard escalation: one execution per account incident',
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
      // An incident still open after two weeks needs a person; the failed execution raises the alarm.
      timeout: Duration.days(14),
    });
    allowWildcards(this.stateMachine, ...STATE_MACHINE);

    // Starts are buffered on a queue, never dropped: StartExecution is a token bucket (limits.ts), and a
    // crash wave needs tens of thousands of starts. EventBridge puts each matching event on the start
    // queue; the starter takes batches at a bounded concurrency, so the start rate stays near the
    // bucket's refill: maxConcurrency 3 × 5 calls in flight / ~50 ms a call ≈ 300 starts/s (the refill
    // in us-east-1, us-west-2 and eu-west-1; 150/s elsewhere, where the overshoot is throttled and backs
    // off). A start still throttled after its backoff returns to the queue; after maxReceiveCount
    // receives it is moved to the start dead-letter queue (alarmed), as is an event EventBridge could not
    // put on the queue. SQS-managed encryption: EventBridge may write to both without KMS key grants.
    const limits = ESCALATION_START_LIMITS;
    const timeout = Duration.seconds(limits.functionTimeoutSeconds);
    this.starter = new MarginGuardFunction(this, 'Starter', {
      name: 'escalation-starter',
      description: 'Starts one escalation per incident from the start queue (duplicate starts are no-ops)',
      environment: {
        STATE_MACHINE_ARN: this.stateMachine.stateMachineArn,
        DEAD_LETTER_QUEUE_URL: props.deadLetterQueue.queueUrl,
        // The failed attempts at an incident (recorded by the catch path) name its next execution.
        [tableEnvName('actions')]: tables.actions.tableName,
      },
      timeout,
      logRetentionDays: config.logRetentionDays,
    });
    this.stateMachine.grantStartExecution(this.starter.role);
    tables.actions.grantReadData(this.starter.role);
    props.deadLetterQueue.grantSendMessages(this.starter.role); // bodies that can never start
    this.startDeadLetterQueue = new Queue(this, 'StartDeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.startQueue = new Queue(this, 'EscalationStartQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
      visibilityTimeout: Duration.seconds(6 * limits.functionTimeoutSeconds),
      deadLetterQueue: { queue: this.startDeadLetterQueue, maxReceiveCount: limits.maxReceiveCount },
    });
    this.starter.fn.addEventSource(
      new SqsEventSource(this.startQueue, {
        batchSize: limits.batchSize,
        maxConcurrency: limits.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
    new Rule(this, 'StartOnRisk', {
      eventBus: props.bus,
      description: 'An account moved to WARNING or worse: queue the start of its escalation',
      eventPattern: {
        source: [EVENT_SOURCE],
        detailType: ['RiskLevelChanged'],
        detail: { to: ['WARNING', 'CRITICAL', 'LIQUIDATION'] },
      },
      targets: [
        new SqsQueue(this.startQueue, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(2),
          deadLetterQueue: this.startDeadLetterQueue,
        }),
      ],
    });

    // Every level change of an account ends its escalation's wait, if one is waiting (escalation-waits.ts).
    this.waker = new MarginGuardFunction(this, 'Waker', {
      name: 'escalation-waker',
      description: "Ends an escalation's wait on the account's next RiskLevelChanged (SendTaskSuccess)",
      environment: { [tableEnvName('actions')]: tables.actions.tableName },
      timeout: Duration.seconds(30),
      logRetentionDays: config.logRetentionDays,
    });
    tables.actions.grantReadWriteData(this.waker.role);
    this.stateMachine.grantTaskResponse(this.waker.role);
    // EventBridge invokes asynchronously: a wake-up that keeps failing in the handler (throttled
    // SendTaskSuccess; Lambda's own two retries) lands in the start dead-letter queue, never dropped
    // silently, and its wait still ends at the backstop.
    this.waker.fn.configureAsyncInvoke({
      retryAttempts: 2,
      onFailure: new SqsDestination(this.startDeadLetterQueue),
    });
    new Rule(this, 'WakeOnLevelChange', {
      eventBus: props.bus,
      description: "An account's level changed: end its escalation's wait, so the next step runs now",
      eventPattern: { source: [EVENT_SOURCE], detailType: ['RiskLevelChanged'] },
      targets: [
        new LambdaFunction(this.waker.fn, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(2),
          deadLetterQueue: this.startDeadLetterQueue,
        }),
      ],
    });
  }

  /**
   * Escalation starts waiting too long (the oldest on the start queue ≥ 5 minutes: a crash wave drains in
   * about 4–9, see limits.ts). The start dead-letter queue's depth is alarmed with the other DLQs.
   */
  alarmOnLateStarts(action: IAlarmAction): Alarm {
    const alarm = new Alarm(this, 'StartQueueAge', {
      metric: this.startQueue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: 300,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription:
        'Escalation starts are waiting more than 5 minutes on the start queue: accounts at risk are escalated late.',
    });
    alarm.addAlarmAction(action);
    return alarm;
  }
}
