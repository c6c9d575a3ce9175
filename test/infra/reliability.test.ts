import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { readDeployConfig } from '../../infra/config.ts';
import { MarginGuardStack } from '../../infra/stack.ts';
import { tableEnvName } from '../../functions/lib/table-definitions.ts';

/**
 * Nothing a rule, a function or a workflow gives up on is lost or silent: every dead-letter queue a rule
 * names is one EventBridge can write; every failed delivery, dropped event and failed, timed-out or
 * throttled execution is alarmed to the ops topic; the paging workflow ends its failures in a report.
 */

type Resource = { Type: string; Properties: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
let template: Template;
let resources: Record<string, Resource>;
let opsTopic: string;

beforeAll(() => {
  // Bundling and CDK's CloudFormation validation skipped (test/infra/stack.test.ts does both).
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stack = new MarginGuardStack(app, 'Test', readDeployConfig({}), {
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources as Record<string, Resource>;
  const topics = Object.keys(template.findResources('AWS::SNS::Topic')).filter((id) =>
    id.startsWith('ObservabilityOpsAlarms'),
  );
  expect(topics).toHaveLength(1);
  opsTopic = topics[0]!;
}, 120_000);

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const idOf = (ref: unknown): string | undefined =>
  (ref as { 'Fn::GetAtt'?: string[] })?.['Fn::GetAtt']?.[0] ?? (ref as { Ref?: string })?.Ref;
const alarmsOn = (metricName: string, dimension: string, id: string) =>
  ofType('AWS::CloudWatch::Alarm')
    .map(([, a]) => a.Properties)
    .filter(
      (a) =>
        a.MetricName === metricName &&
        (a.Dimensions as { Name: string; Value: unknown }[]).some(
          (d) => d.Name === dimension && idOf(d.Value) === id,
        ),
    );
const expectOneOpsAlarm = (metricName: string, dimension: string, id: string) => {
  const found = alarmsOn(metricName, dimension, id);
  expect(found, `${metricName} alarm on ${id}`).toHaveLength(1);
  expect(found[0]!.AlarmActions).toEqual([{ Ref: opsTopic }]);
  expect(found[0]!.Threshold).toBe(1);
  expect(found[0]!.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
};

const rules = () => ofType('AWS::Events::Rule');
const targets = () =>
  rules().flatMap(([ruleId, r]) =>
    (r.Properties.Targets as Record<string, unknown>[]).map((t) => ({ ruleId, target: t })),
  );
const lambdaTargets = () =>
  targets().filter(({ target }) => resources[idOf(target.Arn)!]?.Type === 'AWS::Lambda::Function');

describe('EventBridge dead-letter queues', () => {
  it('every dead-letter queue a rule target names uses SQS-managed encryption and lets that rule send', () => {
    const withDlq = targets().filter(({ target }) => target.DeadLetterConfig);
    // the broker feedback handler, the console broadcaster, the escalation start queue
    expect(withDlq.length).toBeGreaterThanOrEqual(3);
    for (const { ruleId, target } of withDlq) {
      const queueId = idOf((target.DeadLetterConfig as { Arn: unknown }).Arn)!;
      const queue = resources[queueId]!.Properties;
      expect(queue.SqsManagedSseEnabled, `${ruleId} → ${queueId}`).toBe(true);
      expect(queue.KmsMasterKeyId, `${ruleId} → ${queueId}`).toBeUndefined();
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: Match.anyValue(),
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
            }),
          ]),
        },
      });
    }
  });

  it('the bus’s Lambda targets dead-letter too, and keep what still fails after Lambda’s retries', () => {
    const busTargets = lambdaTargets().filter(({ ruleId }) => resources[ruleId]!.Properties.EventBusName);
    expect(busTargets.map(({ target }) => idOf(target.Arn)!.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'BrokerFeedbackFunction',
      'EscalationWakerFunction',
      'IngestionIngestFunction',
      'LiveBroadcasterFunction',
    ]);
    for (const { target } of busTargets) {
      const fn = idOf(target.Arn)!;
      const dlq = idOf((target.DeadLetterConfig as { Arn: unknown }).Arn);
      // The waker's wake-ups go with the escalation starts they belong to; the others to the bus's DLQ.
      expect(dlq, fn).toMatch(
        fn.startsWith('EscalationWaker') ? /^EscalationStartDeadLetterQueue/ : /^EventsTargetDeadLetterQueue/,
      );
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: fn },
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [dlq, 'Arn'] } } },
      });
      expectOneOpsAlarm('DestinationDeliveryFailures', 'FunctionName', fn);
    }
    // its depth is alarmed with the other dead-letter queues
    expectOneOpsAlarm(
      'ApproximateNumberOfMessagesVisible',
      'QueueName',
      ofType('AWS::SQS::Queue').find(([id]) => id.startsWith('EventsTargetDeadLetterQueue'))![0],
    );
  });
});

describe('alarms on every delivery that gave up', () => {
  it('each rule: failed invocations, and invocations that could not be dead-lettered', () => {
    expect(rules().length).toBeGreaterThanOrEqual(7);
    for (const [ruleId, rule] of rules()) {
      for (const metric of ['FailedInvocations', 'InvocationsFailedToBeSentToDlq']) {
        expectOneOpsAlarm(metric, 'RuleName', ruleId);
        const [alarm] = alarmsOn(metric, 'RuleName', ruleId);
        expect(alarm!.Namespace).toBe('AWS/Events');
        expect(alarm!.Statistic).toBe('Sum');
        // A custom bus's rules report with the bus's name as well; the default bus's (schedules) without.
        const bus = (alarm!.Dimensions as { Name: string; Value: unknown }[]).find(
          (d) => d.Name === 'EventBusName',
        );
        expect(bus?.Value, ruleId).toEqual(rule.Properties.EventBusName);
      }
    }
  });

  it('each function a rule invokes asynchronously: events dropped after Lambda’s retries', () => {
    const fns = new Set(lambdaTargets().map(({ target }) => idOf(target.Arn)!));
    expect(fns.size).toBeGreaterThanOrEqual(6);
    for (const fn of fns) expectOneOpsAlarm('AsyncEventsDropped', 'FunctionName', fn);
  });

  it('each state machine: executions failed, timed out or throttled', () => {
    const machines = ofType('AWS::StepFunctions::StateMachine').map(([id]) => id);
    expect(machines).toHaveLength(2);
    for (const sm of machines)
      for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionThrottled'])
        expectOneOpsAlarm(metric, 'StateMachineArn', sm);
  });
});

describe('workflow failures', () => {
  const definitionOf = (prefix: string) => {
    const [, sm] = ofType('AWS::StepFunctions::StateMachine').find(([id]) => id.startsWith(prefix))!;
    const parts = (sm.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'ref')).join('')) as {
      States: Record<string, Record<string, unknown>>;
    };
  };

  it('paging: every ladder step is caught into a report of the failure, which ends the execution failed', () => {
    const { States } = definitionOf('PagingStateMachine');
    for (const name of ['Page the first tier', 'Escalate unless acknowledged'])
      expect(States[name]!.Catch, name).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Report the paging failure' },
      ]);
    const report = States['Report the paging failure']!;
    expect(report.Next).toBe('Paging failed');
    expect(report.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.reportError', Next: 'Paging failed' },
    ]);
    expect(report.Parameters).toEqual({
      action: 'failed',
      'pageId.$': '$$.Execution.Input.pageId',
      'error.$': '$.error',
    });
    expect(States['Paging failed']!.Type).toBe('Fail');
    for (const [name, s] of Object.entries(States))
      if (s.Type === 'Task') expect((s.Retry as unknown[]).length, name).toBe(3);
  });

  it('paging: the report goes to the ops topic, which the ladder function may publish to', () => {
    const [fnId, fn] = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith('PagingLadderFunction'))!;
    expect(fn.Properties.Environment.Variables.OPS_TOPIC_ARN).toEqual({ Ref: opsTopic });
    const role = idOf(fn.Properties.Role)!;
    const statements = ofType('AWS::IAM::Policy')
      .filter(([, p]) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Record<string, unknown>[]);
    expect(statements, fnId).toContainEqual(
      expect.objectContaining({ Action: 'sns:Publish', Resource: { Ref: opsTopic } }),
    );
  });

  it('escalation: the starter may read an incident’s failed attempts (to name its next one)', () => {
    const [, starter] = ofType('AWS::Lambda::Function').find(([id]) =>
      id.startsWith('EscalationStarterFunction'),
    )!;
    const actions = starter.Properties.Environment.Variables[tableEnvName('actions')];
    expect(idOf(actions)).toMatch(/^StorageActions/);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: idOf(starter.Properties.Role) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['dynamodb:GetItem']),
            Resource: Match.arrayWith([{ 'Fn::GetAtt': [idOf(actions), 'Arn'] }]),
          }),
        ]),
      },
    });
  });
});
