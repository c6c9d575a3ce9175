import { Duration, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import {
  Choice,
  Condition,
  DefinitionBody,
  Fail,
  JsonPath,
  LogLevel,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  Timeout,
  Wait,
  WaitTime,
  type TaskStateBase,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { TableKey } from '../../functions/lib/table-definitions.ts';
import { allowWildcards, SECRET_BY_NAME, STATE_MACHINE } from '../wildcard-grants.ts';
import { MarginGuardFunction, type MarginGuardFunction as Fn } from './lambda-function.ts';
import { addStepRetries, stepTaskTimeout } from './step-retries.ts';

export interface PagingProps {
  readonly stage: string;
  readonly tables: Record<TableKey, ITable>;
  readonly environment: Record<string, string>;
  readonly alerts: ITopic;
  readonly pages: ITopic;
  readonly deadLetterQueue: IQueue;
  readonly logRetentionDays: number;
  /**
   * Secrets Manager secret holding the deployment's default notification policy (JSON, with its contacts),
   * used until one is stored through the API. Contacts never sit in the template or an environment.
   * @default no default policy: nothing is routed until PUT /notifications stores one
   */
  readonly notificationPolicySecretName?: string;
  /** Secrets Manager secret holding the Telegram bot token. @default Telegram routes fail as not configured */
  readonly telegramSecretName?: string;
  /** SES-verified sender address for e-mail routes. @default e-mail routes fail as not configured */
  readonly notificationSender?: string;
  /**
   * The SES identities (addresses or domains) the sender is verified under: ses:SendEmail is allowed on
   * these alone, and only from notificationSender. @default the sender address and its domain
   */
  readonly notificationSenderIdentities?: readonly string[];
  /** Secrets Manager secret holding the chat webhook URL. @default webhook routes fail as not configured */
  readonly webhookSecretName?: string;
  /** How often held (quiet-hours, digest) deliveries are flushed. @default 5 minutes */
  readonly flushRateMinutes?: number;
}

/**
 * On-call paging: a Standard workflow per page (page a tier → wait its ack time → escalate …, each rung
 * taken once and stopped by an acknowledgement), the signing secret of one-click ack links, and the
 * schedule that flushes deliveries held by quiet hours or collected for digests.
 */
export class Paging extends Construct {
  readonly stateMachine: StateMachine;
  readonly steps: MarginGuardFunction;
  readonly ackSecret: Secret;
  /** The one function that publishes SMS (to phone numbers: no resource to scope sns:Publish to). */
  readonly sms: MarginGuardFunction;
  /** Environment every function that dispatches notifications needs (add ACK_BASE_URL). */
  readonly environment: Record<string, string>;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: PagingProps,
  ) {
    super(scope, id);
    this.ackSecret = new Secret(this, 'AckLinkSecret', {
      description: 'Signs one-click acknowledgement links in pages',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    this.environment = {
      ALERTS_TOPIC_ARN: props.alerts.topicArn,
      PAGES_TOPIC_ARN: props.pages.topicArn,
      ACK_SECRET_NAME: this.ackSecret.secretArn,
      ...(props.notificationPolicySecretName
        ? { NOTIFICATION_POLICY_SECRET_NAME: props.notificationPolicySecretName }
        : {}),
      ...(props.telegramSecretName ? { TELEGRAM_SECRET_NAME: props.telegramSecretName } : {}),
      ...(props.notificationSender ? { NOTIFICATION_SENDER: props.notificationSender } : {}),
      ...(props.webhookSecretName ? { WEBHOOK_SECRET_NAME: props.webhookSecretName } : {}),
    };
    this.sms = new MarginGuardFunction(this, 'Sms', {
      name: 'sms',
      description: 'Publishes SMS to phone numbers for the dispatchers (the only function that may)',
      environment: {},
      timeout: Duration.seconds(15),
      memorySize: 256,
      logRetentionDays: props.logRetentionDays,
    });
    this.sms.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['sns:Publish'],
        resources: ['*'],
        conditions: { Bool: { 'aws:SecureTransport': 'true' } },
      }),
    );
    allowWildcards(this.sms.role, {
      reason:
        'SMS is published to a phone number, which has no ARN: sns:Publish on * is the only form, on this one function (it publishes with PhoneNumber only, validated E.164). Every other role publishes to the project topics alone.',
      actions: ['sns:Publish'],
      resources: [/\*/],
    });
    const stepTimeout = Duration.minutes(1);
    this.steps = new MarginGuardFunction(this, 'Ladder', {
      name: 'paging',
      description: 'On-call ladder steps and the flush of held notifications',
      environment: { ...props.environment, ...this.environment },
      timeout: stepTimeout,
      logRetentionDays: props.logRetentionDays,
    });

    // Every task: transient errors retried with capped, jittered backoff, PermanentError never, anything
    // else a few times (step-retries.ts).
    const task = (name: string, action: string, extra: Record<string, unknown> = {}) =>
      addStepRetries(
        new LambdaInvoke(this, name, {
          lambdaFunction: this.steps.fn,
          payloadResponseOnly: true,
          payload: TaskInput.fromObject({ action, pageId: JsonPath.stringAt('$.pageId'), ...extra }),
          retryOnServiceExceptions: false,
          taskTimeout: Timeout.duration(stepTaskTimeout(stepTimeout)),
        }),
      );
    // A ladder that fails after its retries is never silent: the failure is dead-lettered (alarmed) and
    // told to ops (reportFailuresTo), and the execution fails (alarmed too).
    const failed = new Fail(this, 'Paging failed', {
      cause: 'A paging step failed after retries; ops were told',
    });
    const reportFailure = new LambdaInvoke(this, 'Report the paging failure', {
      lambdaFunction: this.steps.fn,
      payloadResponseOnly: true,
      payload: TaskInput.fromObject({
        action: 'failed',
        pageId: JsonPath.stringAt('$$.Execution.Input.pageId'),
        error: JsonPath.objectAt('$.error'),
      }),
      retryOnServiceExceptions: false,
      taskTimeout: Timeout.duration(stepTaskTimeout(stepTimeout)),
    });
    addStepRetries(reportFailure).next(failed);
    reportFailure.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.reportError' });
    const guarded = <T extends TaskStateBase>(t: T): T => {
      t.addCatch(reportFailure, { errors: ['States.ALL'], resultPath: '$.error' });
      return t;
    };

    const wait = new Wait(this, 'Wait for acknowledgement', { time: WaitTime.secondsPath('$.waitSeconds') });
    // Escalation starts from the rung the previous step reported: a retried step pages nobody twice.
    const escalate = guarded(
      task('Escalate unless acknowledged', 'escalate', {
        tier: JsonPath.numberAt('$.tier'),
        attempt: JsonPath.numberAt('$.attempt'),
      }),
    );
    const done = new Succeed(this, 'Acknowledged or exhausted');
    const decide = (name: string) =>
      new Choice(this, name).when(Condition.booleanEquals('$.done', true), done).otherwise(wait);
    wait.next(escalate);
    escalate.next(decide('After escalation'));
    const start = guarded(task('Page the first tier', 'start')).next(decide('After first page'));
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(start),
      comment: 'Margin Guard on-call paging: one execution per page, up the ladder until acknowledged',
      logs: {
        destination: new LogGroup(this, 'Logs', { retention: RetentionDays.ONE_MONTH }),
        level: LogLevel.ALL,
        includeExecutionData: false,
      },
      tracingEnabled: true,
      timeout: Duration.days(2),
    });
    allowWildcards(this.stateMachine, ...STATE_MACHINE);

    new Rule(this, 'FlushSchedule', {
      description: 'Sends notifications held by quiet hours or collected for digests, once due',
      schedule: Schedule.rate(Duration.minutes(props.flushRateMinutes ?? 5)),
      targets: [
        new LambdaFunction(this.steps.fn, {
          event: RuleTargetInput.fromObject({ action: 'flush' }),
          retryAttempts: 2,
        }),
      ],
    });
    this.grantDispatch(this.steps);
    // Predictive (approaching) alerts from written evaluations.
    props.tables.accounts.grantReadData(this.steps.role);
    this.steps.addStreamSource(
      new DynamoEventSource(props.tables.riskState, {
        startingPosition: StartingPosition.LATEST,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(5),
        bisectBatchOnError: true,
        retryAttempts: 2,
        maxRecordAge: Duration.hours(1),
        onFailure: new SqsDlq(props.deadLetterQueue),
      }),
    );
  }

  /**
   * Where a ladder that failed after its retries is reported (besides the dead-letter queue): the ops
   * topic, set once the stack's observability exists.
   */
  reportFailuresTo(topic: ITopic): void {
    this.steps.fn.addEnvironment('OPS_TOPIC_ARN', topic.topicArn);
    topic.grantPublish(this.steps.role);
  }

  /**
   * Where one-click acknowledgement links point (the REST API's public /ack route), for every function
   * that dispatches; set once the API exists.
   */
  setAckBaseUrl(url: string, ...fns: Fn[]): void {
    for (const f of [this.steps, ...fns]) f.fn.addEnvironment('ACK_BASE_URL', url);
  }

  /**
   * What a function that dispatches notifications may do: the tables, the project's two topics, invoke
   * the SMS function (never publish to a phone number itself), SES from the sender's identities, the
   * secrets, the DLQ.
   */
  grantDispatch(fn: Fn): void {
    const props = this.props;
    props.tables.actions.grantReadWriteData(fn.role);
    props.tables.settings.grantReadData(fn.role);
    props.alerts.grantPublish(fn.role);
    props.pages.grantPublish(fn.role);
    props.deadLetterQueue.grantSendMessages(fn.role);
    this.ackSecret.grantRead(fn.role);
    // The unqualified function only (grantInvoke would add every version and alias, a wildcard).
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.sms.fn.functionArn] }),
    );
    fn.fn.addEnvironment('SMS_FUNCTION_NAME', this.sms.fn.functionName);
    if (props.notificationSender) {
      const stack = Stack.of(this);
      const identities = props.notificationSenderIdentities ?? [
        props.notificationSender,
        props.notificationSender.slice(props.notificationSender.lastIndexOf('@') + 1),
      ];
      fn.role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['ses:SendEmail'],
          resources: identities.map((identity) =>
            stack.formatArn({ service: 'ses', resource: 'identity', resourceName: identity }),
          ),
          conditions: { StringEquals: { 'ses:FromAddress': props.notificationSender } },
        }),
      );
    }
    const grantSecret = (name: string, id: string) => {
      (Secret.fromSecretNameV2(this, `${id}${fn.node.addr.slice(0, 6)}`, name) as ISecret).grantRead(fn.role);
      allowWildcards(fn.role, SECRET_BY_NAME);
    };
    if (props.telegramSecretName) grantSecret(props.telegramSecretName, 'Telegram');
    if (props.webhookSecretName) grantSecret(props.webhookSecretName, 'Webhook');
    if (props.notificationPolicySecretName) grantSecret(props.notificationPolicySecretName, 'Policy');
  }
}
