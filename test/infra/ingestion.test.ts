import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Table } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Ingestion } from '../../infra/constructs/ingestion.ts';
import { TABLES, type TableKey } from '../../functions/lib/table-definitions.ts';

/** Bundling and CDK's CloudFormation validation skipped: nothing here reads the function's code. */
const noBundling = { context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false };

let template: Template;
beforeAll(() => {
  const app = new App(noBundling);
  const stack = new Stack(app, 'IngestionOnly', { env: { account: '123456789012', region: 'eu-west-1' } });
  const tables = Object.fromEntries(
    (Object.keys(TABLES) as TableKey[]).map((k) => [k, Table.fromTableName(stack, `Table${k}`, `t-${k}`)]),
  ) as Record<TableKey, Table>;
  new Ingestion(stack, 'Ingestion', {
    tables,
    bus: new EventBus(stack, 'Bus'),
    environment: {},
    deadLetterQueue: new Queue(stack, 'DeadLetters'),
    targetDeadLetterQueue: new Queue(stack, 'TargetDeadLetters'),
    logRetentionDays: 30,
  });
  template = Template.fromStack(stack);
});

describe('Ingestion construct', () => {
  it('routes the broker’s five ingestion event types to the handler, retried, with a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['margin-guard.broker.ingest'],
        'detail-type': [
          'AccountUpserted',
          'CashChanged',
          'PositionChanged',
          'PositionsReplaced',
          'PriceTicks',
        ],
      },
      Targets: [
        Match.objectLike({
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TargetDeadLetters'), 'Arn'] } },
        }),
      ],
    });
    // An event that keeps failing inside the handler (an account that never arrives) is kept, not dropped.
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TargetDeadLetters'), 'Arn'] } },
      },
    });
  });

  it('may write accounts, positions and prices and nothing else among the tables', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const written = new Set<string>();
    for (const policy of Object.values(policies))
      for (const statement of policy.Properties.PolicyDocument.Statement as {
        Action: string | string[];
        Resource: unknown;
      }[]) {
        const actions = ([] as string[]).concat(statement.Action);
        if (!actions.includes('dynamodb:PutItem')) continue;
        for (const resource of ([] as unknown[]).concat(statement.Resource))
          for (const m of JSON.stringify(resource).matchAll(/table\/t-(\w+)/g)) written.add(m[1]!);
      }
    expect([...written].sort()).toEqual(['accounts', 'positions', 'prices']);
  });
});
