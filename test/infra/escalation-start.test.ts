import { App, Aspects, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Table } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, NagSuppressions } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ESCALATION_START_LIMITS } from '../../functions/escalation-starter/limits.ts';
import { readDeployConfig } from '../../infra/config.ts';
import { Escalation } from '../../infra/constructs/escalation.ts';
import { MarginGuardStack } from '../../infra/stack.ts';
import { TABLES, type TableKey } from '../../functions/lib/table-definitions.ts';

const env = { account: '123456789012', region: 'eu-west-1' };
/**
 * Bundling and CDK's CloudFormation validation skipped: nothing here reads the functions' code or the
 * validation's warnings (test/infra/stack.test.ts bundles and validates the stack).
 */
const noBundling = { context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false };

/** Only the escalation, on imported tables and stand-in topics, bus and queue. */
function escalationOnly() {
  const app = new App(noBundling);
  const stack = new Stack(app, 'EscalationOnly', { env });
  const key = new Key(stack, 'Key', { enableKeyRotation: true });
  const tables = Object.fromEntries(
    (Object.keys(TABLES) as TableKey[]).map((k) => [k, Table.fromTableName(stack, `Table${k}`, `t-${k}`)]),
  ) as Record<TableKey, Table>;
  const topic = (id: string) => new Topic(stack, id, { masterKey: key, enforceSSL: true });
  const deadLetterQueue = new Queue(stack, 'DeadLetterQueue', {
    encryption: QueueEncryption.KMS,
    encryptionMasterKey: key,
    enforceSSL: true,
  });
  const escalation = new Escalation(stack, 'Escalation', {
    config: readDeployConfig({}),
    tables,
    bus: new EventBus(stack, 'Bus'),
    key,
    alerts: topic('Alerts'),
    pages: topic('Pages'),
    evaluationEnvironment: {},
    deadLetterQueue,
  });
  const ops = topic('Ops');
  escalation.alarmOnLateStarts(new SnsAction(ops));
  NagSuppressions.addResourceSuppressions(deadLetterQueue, [
    { id: 'AwsSolutions-SQS3', reason: 'stand-in for the stack’s dead-letter queue' },
  ]);
  NagSuppressions.addStackSuppressions(stack, [
    { id: 'AwsSolutions-IAM5', reason: 'as in the stack: CDK grant helpers on the one key and function' },
  ]);
  Aspects.of(stack).add(new AwsSolutionsChecks({ verbose: true }));
  app.synth();
  return { stack, template: Template.fromStack(stack), escalation };
}

const logicalId = (template: Template, type: string, prefix: string) => {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  expect(ids, `${type} ${prefix}*`).toHaveLength(1);
  return ids[0]!;
};

let only: ReturnType<typeof escalationOnly>;
let full: { stack: Stack; template: Template };
beforeAll(() => {
  only = escalationOnly();
  const app = new App(noBundling);
  const stack = new MarginGuardStack(app, 'Test', readDeployConfig({}), { env });
  app.synth();
  full = { stack, template: Template.fromStack(stack) };
}, 120_000);

describe('escalation starts are buffered on a queue', () => {
  it('the StartOnRisk rule targets the start queue, with retries and a dead-letter queue of its own', () => {
    const { template } = only;
    const queue = logicalId(template, 'AWS::SQS::Queue', 'EscalationEscalationStartQueue');
    const dlq = logicalId(template, 'AWS::SQS::Queue', 'EscalationStartDeadLetterQueue');
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ 'detail-type': ['RiskLevelChanged'] }),
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [queue, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlq, 'Arn'] } },
        }),
      ],
    });
    // No Lambda target is left, so no async invoke whose retries could drop a start.
    const targets = Object.values(template.findResources('AWS::Events::Rule')).flatMap(
      (r) => r.Properties.Targets ?? [],
    );
    expect(JSON.stringify(targets)).not.toMatch(/EscalationStarter/);
    // EventBridge may send to the queue, from this rule only.
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queue }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['sqs:SendMessage']),
            Principal: { Service: 'events.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': Match.anyValue() } },
          }),
        ]),
      },
    });
  });

  it('the queue: SQS-managed encryption, visibility ≥ 6 × the starter’s timeout, redrive after 10 receives', () => {
    const { template } = only;
    const queues = template.findResources('AWS::SQS::Queue');
    const queue =
      queues[logicalId(template, 'AWS::SQS::Queue', 'EscalationEscalationStartQueue')]!.Properties;
    const dlqId = logicalId(template, 'AWS::SQS::Queue', 'EscalationStartDeadLetterQueue');
    expect(queue.SqsManagedSseEnabled).toBe(true);
    expect(queue.KmsMasterKeyId).toBeUndefined();
    expect(queues[dlqId]!.Properties.SqsManagedSseEnabled).toBe(true);
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
      maxReceiveCount: ESCALATION_START_LIMITS.maxReceiveCount,
    });
    const starter = Object.values(template.findResources('AWS::Lambda::Function')).find((f) =>
      String(f.Properties.Description).startsWith('Starts one escalation'),
    )!.Properties;
    expect(starter.Timeout).toBe(ESCALATION_START_LIMITS.functionTimeoutSeconds);
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * starter.Timeout);
    expect(Object.keys(starter.Environment.Variables)).toEqual(
      expect.arrayContaining(['STATE_MACHINE_ARN', 'DEAD_LETTER_QUEUE_URL']),
    );
  });

  it('the starter reads it in batches, reporting item failures, at a bounded concurrency', () => {
    const { template } = only;
    const queue = logicalId(template, 'AWS::SQS::Queue', 'EscalationEscalationStartQueue');
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queue, 'Arn'] },
      FunctionName: { Ref: Match.stringLikeRegexp('^EscalationStarterFunction') },
      BatchSize: ESCALATION_START_LIMITS.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: ESCALATION_START_LIMITS.maxConcurrency },
    });
    expect(ESCALATION_START_LIMITS.maxConcurrency).toBeGreaterThanOrEqual(2); // SQS's minimum
  });

  it('late starts alarm on the oldest message’s age', () => {
    only.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: {
            'Fn::GetAtt': [
              logicalId(only.template, 'AWS::SQS::Queue', 'EscalationEscalationStartQueue'),
              'QueueName',
            ],
          },
        },
      ],
      Threshold: Duration.minutes(5).toSeconds(),
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Ops') }],
    });
  });

  it('cdk-nag AwsSolutions: no findings on the construct', () => {
    const findings = [
      ...Annotations.fromStack(only.stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
      ...Annotations.fromStack(only.stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
    ];
    expect(findings.map((f) => `${f.id}: ${String(f.entry.data).slice(0, 160)}`)).toEqual([]);
  });

  it('in the stack, the start dead-letter queue’s depth alarms to the ops topic', () => {
    const { template } = full;
    const dlq = logicalId(template, 'AWS::SQS::Queue', 'EscalationStartDeadLetterQueue');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^ObservabilityOpsAlarms') }],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({
          Arn: {
            'Fn::GetAtt': [logicalId(template, 'AWS::SQS::Queue', 'EscalationEscalationStartQueue'), 'Arn'],
          },
        }),
      ],
    });
  });
});

describe('escalation waits end on events (callback tasks and the waker)', () => {
  it('every level change goes to the waker Lambda, retried, then to the start dead-letter queue', () => {
    const { template } = only;
    const waker = logicalId(template, 'AWS::Lambda::Function', 'EscalationWakerFunction');
    const dlq = logicalId(template, 'AWS::SQS::Queue', 'EscalationStartDeadLetterQueue');
    template.hasResourceProperties('AWS::Events::Rule', {
      // Any level: a recovery ends the wait too (the re-check then resolves).
      EventPattern: { source: Match.anyValue(), 'detail-type': ['RiskLevelChanged'] },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [waker, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlq, 'Arn'] } },
        }),
      ],
    });
  });

  it('the waker may answer the escalation state machine’s tasks; the steps need no Step Functions permission', () => {
    const { template } = only;
    const machine = logicalId(template, 'AWS::StepFunctions::StateMachine', 'EscalationStateMachine');
    const policies = template.findResources('AWS::IAM::Policy');
    const statementsOf = (prefix: string) =>
      Object.entries(policies)
        .filter(([id]) => id.startsWith(prefix))
        .flatMap(
          ([, p]) => p.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[],
        );
    const taskResponse = statementsOf('EscalationWakerRole').find((s) =>
      ([] as unknown[]).concat(s.Action).includes('states:SendTaskSuccess'),
    );
    expect(taskResponse?.Resource).toEqual({ Ref: machine });
    expect(JSON.stringify(statementsOf('EscalationStepsRole'))).not.toMatch(/states:SendTask/);
  });

  it('the two waits are callback tasks that time out at $.wakeSeconds; no Wait state polls but the holds', () => {
    const { template } = only;
    const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0]!;
    const definition = JSON.stringify(machine.Properties.DefinitionString);
    expect(definition).toContain('lambda:invoke.waitForTaskToken');
    expect(definition.match(/\\"TimeoutSecondsPath\\":\\"\$\.wakeSeconds\\"/g)).toHaveLength(2);
    expect(definition).not.toContain('$.waitSeconds');
    expect(definition.match(/\\"SecondsPath\\":\\"\$\.holdPollSeconds\\"/g)).toHaveLength(3); // the three holds
  });
});

describe('a wake-up that keeps failing is not dropped', () => {
  it('the waker’s asynchronous invocations: two retries, then the start dead-letter queue', () => {
    const { template } = only;
    const waker = logicalId(template, 'AWS::Lambda::Function', 'EscalationWakerFunction');
    const dlq = logicalId(template, 'AWS::SQS::Queue', 'EscalationStartDeadLetterQueue');
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: waker },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [dlq, 'Arn'] } } },
    });
  });
});
