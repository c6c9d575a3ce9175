import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { readDeployConfig } from '../../infra/config.ts';
import { MarginGuardStack } from '../../infra/stack.ts';

/**
 * The stack as `cdk synth` builds it, cdk-nag included. The dev stack bundles every function with esbuild
 * (so every handler is checked to bundle, once) and goes through CDK's built-in CloudFormation validation;
 * the variants skip both, which changes none of the resources or properties they are checked on and
 * spares a full esbuild pass and a template validation per synth.
 */
function synth(
  context: Record<string, unknown> = {},
  { bundle = false } = {},
): { stack: Stack; template: Template } {
  const app = new App(
    bundle ? {} : { context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false },
  );
  const stack = new MarginGuardStack(app, 'Test', readDeployConfig(context), {
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  Aspects.of(stack).add(new AwsSolutionsChecks({ verbose: true }));
  app.synth();
  return { stack, template: Template.fromStack(stack) };
}

/** Our functions, not the CDK-provided custom-resource handler that uploads the console site. */
const ownFunctions = (template: Template) =>
  Object.fromEntries(
    Object.entries(template.findResources('AWS::Lambda::Function')).filter(
      ([, f]) => f.Properties.Runtime === 'nodejs24.x',
    ),
  );

let dev: { stack: Stack; template: Template };
let prod: { stack: Stack; template: Template };
beforeAll(() => {
  dev = synth({}, { bundle: true });
  prod = synth({ stage: 'prod', sweepRateMinutes: 2, alarmEmail: 'oncall@example.com' });
}, 120_000);

describe('storage', () => {
  it('ten on-demand tables with PITR and customer-managed encryption', () => {
    const tables = dev.template.findResources('AWS::DynamoDB::Table');
    // ten, the band index striped over eight (bandTables' default)
    expect(Object.keys(tables)).toHaveLength(17);
    for (const t of Object.values(tables)) {
      expect(t.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      expect(t.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(t.Properties.SSESpecification).toMatchObject({ SSEEnabled: true, SSEType: 'KMS' });
    }
    dev.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('streams on positions, accounts and prices; the holdings index; TTL on history', () => {
    dev.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'accountId', KeyType: 'HASH' },
        { AttributeName: 'instrument', KeyType: 'RANGE' },
      ],
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      GlobalSecondaryIndexes: [
        Match.objectLike({ IndexName: 'byInstrument', Projection: { ProjectionType: 'KEYS_ONLY' } }),
      ],
    });
    dev.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'instrument', KeyType: 'HASH' }],
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
    dev.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: Match.arrayWith([{ AttributeName: 'entryKey', KeyType: 'RANGE' }]),
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('guard bands: bounds keyed by price bucket on the base table, with no local index to pin a key to one partition', () => {
    const bands = Object.values(dev.template.findResources('AWS::DynamoDB::Table')).filter((t) =>
      JSON.stringify(t.Properties.KeySchema).includes('"sk"'),
    );
    expect(bands).toHaveLength(8); // striped: each on-demand table brings its own write quota
    for (const b of bands) {
      expect(b.Properties.KeySchema).toEqual([
        { AttributeName: 'partition', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ]);
      expect(b.Properties.LocalSecondaryIndexes).toBeUndefined();
    }
  });

  it('every evaluating function names all the band stripes, and may write exactly what the adapter calls on each', () => {
    const stripes = Object.keys(dev.template.findResources('AWS::DynamoDB::Table')).filter((id) =>
      /^StorageBands\d*[0-9A-F]{8}$/.test(id),
    );
    expect(stripes).toHaveLength(8);
    const fns = ownFunctions(dev.template);
    const priceStream = Object.entries(fns).find(([id]) => id.startsWith('EvaluationPriceStream'))![1];
    const joined = JSON.stringify(priceStream.Properties.Environment.Variables.BANDS_TABLES);
    expect([...joined.matchAll(/"Ref":"(StorageBands\w+)"/g)].map((m) => m[1]).sort()).toEqual(
      [...stripes].sort(),
    );
    const policies = Object.values(dev.template.findResources('AWS::IAM::Policy'));
    const statement = policies
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('PriceStream'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string[]; Resource: unknown }[])
      .find((st) => stripes.every((id) => JSON.stringify(st.Resource).includes(id)))!;
    expect([statement.Action].flat().sort()).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
    // One statement, not a grant per stripe: no evaluator's policy overflows into managed policies.
    const overflows = Object.keys(dev.template.findResources('AWS::IAM::ManagedPolicy'));
    expect(overflows.filter((id) => id.startsWith('Evaluation'))).toEqual([]);
  });

  it('names a band index striped over more tables than shards', () => {
    expect(() => synth({ bandTables: 9, bandShards: 8 })).toThrow(
      'bandTables (9) must not exceed bandShards (8)',
    );
  });

  it('deletion protection and retention on prod only', () => {
    for (const t of Object.values(prod.template.findResources('AWS::DynamoDB::Table'))) {
      expect(t.Properties.DeletionProtectionEnabled).toBe(true);
      expect(t.DeletionPolicy).toBe('Retain');
    }
    for (const t of Object.values(dev.template.findResources('AWS::DynamoDB::Table'))) {
      expect(t.Properties.DeletionProtectionEnabled).toBe(false);
      expect(t.DeletionPolicy).toBe('Delete');
    }
  });
});

describe('evaluation', () => {
  it('sixteen arm64 Node 24 functions; the evaluating ones share the pipeline configuration', () => {
    const fns = ownFunctions(dev.template);
    // 5 evaluation, escalation steps, starter and waker, paging ladder and SMS, broker feedback,
    // ingestion, API and summary, WebSocket connections and broadcaster
    expect(Object.keys(fns)).toHaveLength(16);
    for (const f of Object.values(fns)) {
      expect(f.Properties.Architectures).toEqual(['arm64']);
      expect(f.Properties.Runtime).toBe('nodejs24.x');
    }
    for (const f of Object.values(fns).filter((f) => f.Properties.Environment.Variables.SWEEP_SEGMENTS)) {
      expect(f.Properties.Environment.Variables).toMatchObject({
        SWEEP_SEGMENTS: '8',
        STALE_AFTER_MS: '300000',
        RATIO_DELTA: '0.05',
        BAND_SHARDS: '8',
        WATCH_WINDOW_MS: '180000',
        TABLE_BANDS: { Ref: expect.stringMatching(/^StorageBands/) },
        TABLE_RISK_STATE: { Ref: expect.stringMatching(/^StorageRiskState/) },
      });
    }
  });

  it('stream sources bisect on error, report partial failures, and dead-letter to SQS', () => {
    const mappings = Object.values(dev.template.findResources('AWS::Lambda::EventSourceMapping')).map(
      (m) => m.Properties,
    );
    const streams = mappings.filter((m) => m.StartingPosition === 'TRIM_HORIZON');
    expect(streams).toHaveLength(3); // positions, accounts, prices
    for (const m of streams) {
      expect(m).toMatchObject({
        BisectBatchOnFunctionError: true,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumRetryAttempts: 5,
      });
      expect(m.DestinationConfig.OnFailure.Destination).toBeDefined();
    }
    expect(mappings.find((m) => !m.StartingPosition)).toMatchObject({
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 1,
    });
  });

  it('full sweep every 15 minutes behind the bands, watch sweep every minute; both from config', () => {
    dev.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
    dev.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
    prod.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(2 minutes)' });
  });

  it('every function that evaluates may rewrite guard bands; the watch sweep only reads them', () => {
    const policies = Object.values(dev.template.findResources('AWS::IAM::Policy'));
    const writersOfBands = policies.filter((p) =>
      (p.Properties.PolicyDocument.Statement as { Action: string[]; Resource: unknown }[]).some(
        (s) =>
          [s.Action].flat().includes('dynamodb:PutItem') &&
          JSON.stringify(s.Resource).includes('StorageBands'),
      ),
    );
    // position stream, price stream, work queue, escalation steps
    expect(writersOfBands).toHaveLength(4);
  });

  it('queues are KMS-encrypted (SQS-managed where EventBridge writes); the work queue redrives to its own DLQ', () => {
    const entries = Object.entries(dev.template.findResources('AWS::SQS::Queue'));
    const queues = entries.map(([, q]) => q.Properties);
    // stream DLQ, work queue and its DLQ, coalescing queue and its DLQ, escalation start queue and its DLQ,
    // the bus targets' DLQ
    expect(queues).toHaveLength(8);
    for (const [id, { Properties: q }] of entries)
      if (
        id.startsWith('EscalationEscalationStartQueue') ||
        id.startsWith('EscalationStartDeadLetterQueue') ||
        id.startsWith('EventsTargetDeadLetterQueue')
      )
        expect(q.SqsManagedSseEnabled).toBe(true);
      else expect(q.KmsMasterKeyId).toBeDefined();
    expect(queues.some((q) => q.RedrivePolicy?.maxReceiveCount === 5)).toBe(true);
  });

  it('the coalescing queue: high-throughput FIFO with its own FIFO DLQ, written by the price stream, read by the worker', () => {
    const { template } = dev;
    const idOf = (type: string, prefix: string) => {
      const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
      expect(ids, prefix).toHaveLength(1);
      return ids[0]!;
    };
    const queues = template.findResources('AWS::SQS::Queue');
    const queueId = idOf('AWS::SQS::Queue', 'EvaluationCoalescedQueue');
    const dlqId = idOf('AWS::SQS::Queue', 'EvaluationCoalescedDeadLetterQueue');
    const work = queues[idOf('AWS::SQS::Queue', 'EvaluationWorkQueue')]!.Properties;
    const queue = queues[queueId]!.Properties;
    // SqsWorkQueue sets the ids: group = account, de-duplication = account#second, scoped to the group.
    expect(queue).toMatchObject({
      FifoQueue: true,
      ContentBasedDeduplication: false,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      KmsMasterKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^StorageDataKey/), 'Arn'] },
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
        maxReceiveCount: work.RedrivePolicy.maxReceiveCount,
      },
    });
    expect(queues[dlqId]!.Properties).toMatchObject({ FifoQueue: true, KmsMasterKeyId: expect.anything() });
    // A message is not delivered again while the worker may still be on it.
    const worker = Object.values(ownFunctions(template)).find((f) =>
      String(f.Properties.Description).startsWith('Evaluates sweep segments'),
    )!;
    expect(queue.VisibilityTimeout).toBe(work.VisibilityTimeout);
    expect(queue.VisibilityTimeout).toBeGreaterThan(worker.Properties.Timeout);
    for (const id of [queueId, dlqId])
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    // Its dead letters are alarmed like the others; its backlog like the work queue's.
    for (const [metric, id] of [
      ['ApproximateNumberOfMessagesVisible', dlqId],
      ['ApproximateAgeOfOldestMessage', queueId],
    ] as const)
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id, 'QueueName'] } }],
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^ObservabilityOpsAlarms') }],
      });
    // The work-queue function reads it, reporting item failures (no batching window on FIFO sources).
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionName: { Ref: Match.stringLikeRegexp('^EvaluationWorkQueueWorkerFunction') },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumBatchingWindowInSeconds: Match.absent(),
    });
    // Every evaluating function is told its URL; only the price stream (which sends coalesced
    // messages) may send to it, only the worker may receive.
    for (const f of Object.values(ownFunctions(template)).filter(
      (f) => f.Properties.Environment.Variables.WORK_QUEUE_URL,
    ))
      expect(f.Properties.Environment.Variables.COALESCED_QUEUE_URL).toEqual({ Ref: queueId });
    const rolesAllowed = (action: string) =>
      Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((p) =>
          (p.Properties.PolicyDocument.Statement as { Action: string[]; Resource: unknown }[]).some(
            (s) => [s.Action].flat().includes(action) && JSON.stringify(s.Resource).includes(`"${queueId}"`),
          ),
        )
        .flatMap((p) => p.Properties.Roles.map((r: { Ref: string }) => r.Ref));
    expect(rolesAllowed('sqs:SendMessage')).toEqual([expect.stringMatching(/^EvaluationPriceStreamRole/)]);
    expect(rolesAllowed('sqs:ReceiveMessage')).toEqual([
      expect.stringMatching(/^EvaluationWorkQueueWorkerRole/),
    ]);
  });

  it('grants no wildcard actions on data, and no managed policies', () => {
    for (const p of Object.values(dev.template.findResources('AWS::IAM::Policy'))) {
      for (const statement of p.Properties.PolicyDocument.Statement) {
        const actions = [statement.Action].flat() as string[];
        for (const a of actions)
          expect(a === '*' || /^dynamodb:\*$|^sqs:\*$|^events:\*$/.test(a)).toBe(false);
      }
    }
    // Our functions' roles (CDK's own site-upload handler is not one of them).
    const lambdaRoles = Object.values(dev.template.findResources('AWS::IAM::Role')).filter(
      (r) =>
        JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('lambda.amazonaws.com') &&
        !JSON.stringify(r.Properties.ManagedPolicyArns ?? '').includes('AWSLambdaBasicExecutionRole'),
    );
    expect(lambdaRoles).toHaveLength(16);
    for (const r of lambdaRoles) expect(r.Properties.ManagedPolicyArns).toBeUndefined();
  });
});

describe('events and observability', () => {
  it('a custom bus with an archive', () => {
    dev.template.hasResourceProperties('AWS::Events::EventBus', { Name: 'margin-guard-dev' });
    dev.template.hasResourceProperties('AWS::Events::Archive', {
      EventPattern: { source: ['margin-guard'] },
    });
  });

  it('alarms on DLQ depth, iterator age, errors and throttles, to an encrypted ops topic', () => {
    const alarms = Object.values(dev.template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties,
    );
    const names = alarms.map((a) => a.MetricName);
    expect(names.filter((n) => n === 'ApproximateNumberOfMessagesVisible')).toHaveLength(5);
    // the work queue, the coalescing queue, the escalation start queue
    expect(names.filter((n) => n === 'ApproximateAgeOfOldestMessage')).toHaveLength(3);
    expect(names.filter((n) => n === 'IteratorAge')).toHaveLength(2);
    expect(names.filter((n) => n === 'Errors')).toHaveLength(16);
    expect(names.filter((n) => n === 'Throttles')).toHaveLength(16);
    // the escalation and the paging workflows (more in test/infra/reliability.test.ts)
    expect(names.filter((n) => n === 'ExecutionsFailed')).toHaveLength(2);
    for (const a of alarms) expect(a.AlarmActions).toHaveLength(1);
    dev.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    dev.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    prod.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
  });
});

describe('operator console', () => {
  it('overview indexes on the risk state, by level shard and ratio or distance to call, small projection', () => {
    dev.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'accountId', KeyType: 'HASH' }],
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: 'byLevelRatio',
          KeySchema: [
            { AttributeName: 'overviewPartition', KeyType: 'HASH' },
            { AttributeName: 'ratioKey', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: Match.arrayWith(['level', 'overview']) },
        }),
        Match.objectLike({ IndexName: 'byLevelCallDistance' }),
      ],
    });
    dev.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
  });

  it('an IAM-authorized WebSocket API whose subscribe replies; the broadcaster hears the bus and two streams', () => {
    dev.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: '$request.body.action',
    });
    dev.template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: '$connect',
      AuthorizationType: 'AWS_IAM',
    });
    dev.template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'subscribe',
      RouteResponseSelectionExpression: '$default',
    });
    dev.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('connectionId') },
    });
    dev.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['margin-guard'] },
      Targets: [
        Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 } }),
      ],
    });
    const latest = Object.values(dev.template.findResources('AWS::Lambda::EventSourceMapping')).filter(
      (m) => m.Properties.StartingPosition === 'LATEST',
    );
    expect(latest).toHaveLength(3); // broadcaster: risk state, actions; notifications: risk state (approaching)
    for (const m of latest) expect(m.Properties.DestinationConfig.OnFailure.Destination).toBeDefined();
    dev.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'connectionId', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('a private site bucket behind CloudFront (origin access control, HTTPS, security headers)', () => {
    const buckets = Object.values(dev.template.findResources('AWS::S3::Bucket')).map((b) => b.Properties);
    for (const b of buckets)
      expect(b.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    dev.template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    dev.template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
      }),
    });
    dev.template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: Match.objectLike({ FrameOptions: { FrameOption: 'DENY', Override: true } }),
      }),
    });
    dev.template.hasResourceProperties('Custom::CDKBucketDeployment', {
      DistributionPaths: Match.arrayWith(['/config.json']),
    });
  });

  it('people: viewer and operator groups mapped to IAM roles; viewers may only invoke GET', () => {
    dev.template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
    });
    const groups = Object.values(dev.template.findResources('AWS::Cognito::UserPoolGroup')).map(
      (g) => g.Properties.GroupName,
    );
    expect(groups.sort()).toEqual(['operator', 'viewer']);
    dev.template.hasResourceProperties('AWS::Cognito::IdentityPool', {
      AllowUnauthenticatedIdentities: false,
    });
    dev.template.hasResourceProperties('AWS::Cognito::IdentityPoolRoleAttachment', {
      RoleMappings: { console: Match.objectLike({ Type: 'Token', AmbiguousRoleResolution: 'Deny' }) },
    });
    const policies = Object.entries(dev.template.findResources('AWS::IAM::Policy'));
    const invokes = (name: string) =>
      JSON.stringify(policies.find(([id]) => id.startsWith(`ConsoleAuth${name}DefaultPolicy`))![1]);
    expect(invokes('ViewerRole')).toContain('/GET/*');
    expect(invokes('ViewerRole')).not.toMatch(/\/dev\/\*\/\*/);
    expect(invokes('OperatorRole')).toContain('/dev/*/*');
    for (const role of ['ViewerRole', 'OperatorRole']) expect(invokes(role)).toContain('$connect');
  });
});

describe('notifications and on-call paging', () => {
  it('a paging workflow per page: page, wait for the ack time, escalate until acknowledged or exhausted', () => {
    const machines = Object.values(dev.template.findResources('AWS::StepFunctions::StateMachine'));
    expect(machines).toHaveLength(2);
    const paging = machines.find((m) =>
      JSON.stringify(m.Properties.DefinitionString).includes('Wait for acknowledgement'),
    )!;
    const definition = JSON.stringify(paging.Properties.DefinitionString);
    expect(definition).toContain('"SecondsPath\\":\\"$.waitSeconds\\"');
    expect(definition).toContain('Escalate unless acknowledged');
    dev.template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [Match.objectLike({ Input: '{"action":"flush"}' })],
    });
    dev.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ PasswordLength: 48 }),
    });
  });

  it('the escalation may start pages and send SMS; the one-click /ack routes (GET page, POST form) alone skip IAM', () => {
    const fns = ownFunctions(dev.template);
    const steps = Object.entries(fns).find(([id]) => id.startsWith('EscalationSteps'))![1];
    expect(Object.keys(steps.Properties.Environment.Variables)).toEqual(
      expect.arrayContaining([
        'PAGING_STATE_MACHINE_ARN',
        'ACK_SECRET_NAME',
        'ACK_BASE_URL',
        'SMS_FUNCTION_NAME',
      ]),
    );
    // Contacts are not in the environment (test/infra/least-privilege.test.ts).
    expect(Object.keys(steps.Properties.Environment.Variables)).not.toContain('NOTIFICATION_POLICY');
    const methods = Object.values(dev.template.findResources('AWS::ApiGateway::Method')).map(
      (m) => m.Properties,
    );
    // Only the acknowledgement link's two routes are open: its confirmation page (GET) and that page's
    // form (POST); each proves itself with the signed, single-use token. No HEAD, no ANY.
    const open = methods.filter((m) => m.AuthorizationType === 'NONE');
    expect(open.map((m) => m.HttpMethod).sort()).toEqual(['GET', 'POST']);
    expect(methods.some((m) => m.HttpMethod === 'HEAD' || m.HttpMethod === 'ANY')).toBe(false);
    expect(methods.filter((m) => m.AuthorizationType === 'AWS_IAM').length).toBe(methods.length - 2);
  });

  it('the broker’s order events reach the feedback handler, retried, dead-lettered when they keep failing', () => {
    dev.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['margin-guard.broker'],
        'detail-type': ['OrderAccepted', 'OrderFilled', 'OrderRejected', 'OrderCancelled'],
      },
      Targets: [
        Match.objectLike({
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: Match.anyValue(),
        }),
      ],
    });
  });

  it('names a bad notification policy or sender in the context', () => {
    expect(() => readDeployConfig({ notificationSender: 'not-an-address' })).toThrow(
      /context\.notificationSender/,
    );
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('has zero unsuppressed findings', () => {
    for (const { stack } of [dev, prod]) {
      const findings = [
        ...Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
        ...Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
      ];
      expect(findings.map((f) => `${f.id}: ${String(f.entry.data).slice(0, 120)}`)).toEqual([]);
    }
  });
});

describe('config', () => {
  it('names a bad context value', () => {
    expect(() => readDeployConfig({ sweepRateMinutes: 0 })).toThrow(/context\.sweepRateMinutes/);
    expect(() => readDeployConfig({ stage: 'Prod!' })).toThrow(/context\.stage/);
    expect(() => readDeployConfig({ alarmEmail: 'nope' })).toThrow(/context\.alarmEmail/);
  });

  it('every function that evaluates accounts may dead-letter (the escalation steps re-evaluate too)', () => {
    const policies = Object.values(dev.template.findResources('AWS::IAM::Policy'));
    const sendsToDlq = policies.filter((p) =>
      JSON.stringify(p.Properties.PolicyDocument).match(/sqs:SendMessage[\s\S]*EvaluationDeadLetterQueue/),
    );
    const roles = sendsToDlq.flatMap((p) => p.Properties.Roles.map((r: { Ref: string }) => r.Ref));
    for (const name of ['PositionStream', 'PriceStream', 'WorkQueueWorker', 'EscalationSteps']) {
      expect(
        roles.some((r: string) => r.includes(name)),
        name,
      ).toBe(true);
    }
  });

  it('forwards alerts and pages to a chat webhook when a secret is configured, failures to the DLQ', () => {
    const { template, stack } = synth({ webhookSecretName: 'margin-guard/chat-webhook' });
    const findings = [
      ...Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
      ...Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
    ];
    expect(findings.map((f) => `${f.id}: ${String(f.entry.data).slice(0, 160)}`)).toEqual([]);
    expect(Object.keys(ownFunctions(template))).toHaveLength(17);
    const subs = Object.values(template.findResources('AWS::SNS::Subscription')).map(
      (s) => s.Properties.Protocol,
    );
    expect(subs.filter((p) => p === 'lambda')).toHaveLength(2);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: Match.stringLikeRegexp('^AlertsWebhookForwarder') },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    // with it, the forwarder too; without it, the bus's four Lambda targets (broker feedback, ingestion,
    // console broadcaster, escalation waker)
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 5);
    dev.template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 4);
  }, 90_000); // a second synthesis with cdk-nag: slow on a busy 2-core box
});
