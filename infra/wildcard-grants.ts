import { AspectPriority, Aspects, CfnResource } from 'aws-cdk-lib';
import { NagSuppressions } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/**
 * A wildcard one role's IAM statements may carry, and why. Granted on the construct that owns the role
 * (allowWildcards), it becomes that resource's cdk-nag AwsSolutions-IAM5 suppression, with this reason;
 * test/infra/least-privilege.test.ts holds every statement of the template to the grants of its own
 * role, statement by statement: a wildcard action or resource nobody granted there fails it.
 */
export interface WildcardGrant {
  /** Why the wildcard cannot be avoided: the suppression's reason. */
  readonly reason: string;
  /**
   * Every action a statement under this grant may hold, wildcard actions (`kms:GenerateDataKey*`) included;
   * a wildcard action is allowed on the statement's named resources.
   */
  readonly actions: readonly string[];
  /**
   * The wildcard resources, as cdk-nag renders them after `Resource::` (`<StorageActions1A2B3C4D.Arn>/index/*`,
   * `*`), each a pattern of the whole resource. @default none: the wildcards are only in the actions
   */
  readonly resources?: readonly RegExp[];
}

const grants = new WeakMap<IConstruct, WildcardGrant[]>();

/** Allows these wildcards in the IAM policies under `scope` (a role, a function, a state machine). */
export function allowWildcards(scope: IConstruct, ...allowed: WildcardGrant[]): void {
  grants.set(scope, [...(grants.get(scope) ?? []), ...allowed]);
}

/** The grants that apply to a construct: its own and its scopes'. */
export function wildcardGrantsFor(construct: IConstruct): WildcardGrant[] {
  return construct.node.scopes.flatMap((s) => grants.get(s) ?? []);
}

/** cdk-nag's finding ids for a grant: `Action::kms:ReEncrypt*`, `Resource::…`. */
export function findingIds(grant: WildcardGrant): (string | { regex: string })[] {
  return [
    ...grant.actions.filter((a) => a.includes('*')).map((a) => `Action::${a}`),
    ...(grant.resources ?? []).map((r) => ({ regex: `/^Resource::${r.source}$/` })),
  ];
}

const IAM_POLICY_TYPES = new Set(['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::Role']);

/**
 * Every grant as an IAM5 suppression on each IAM policy under the construct it was granted on. An aspect: a role's
 * policies exist only once something is granted to it, and its overflow policies only once CDK has split
 * a large policy (a mutating aspect); this runs after those and before the checks (default priority).
 */
export function suppressGrantedWildcards(root: IConstruct): void {
  Aspects.of(root).add(
    {
      visit(c) {
        if (!(c instanceof CfnResource) || !IAM_POLICY_TYPES.has(c.cfnResourceType)) return;
        const allowed = wildcardGrantsFor(c);
        if (allowed.length === 0) return;
        NagSuppressions.addResourceSuppressions(
          c,
          allowed.map((g) => ({ id: 'AwsSolutions-IAM5', reason: g.reason, appliesTo: findingIds(g) })),
        );
      },
    },
    { priority: AspectPriority.MUTATING + 100 },
  );
}

/** The wildcards of the CDK table and key grants (`grantReadData`, `grantReadWriteData`, …) on a role. */
export const TABLE_GRANTS: readonly WildcardGrant[] = [
  {
    reason:
      'CDK table grants cover the table and its global secondary indexes (table/index/*): the adapters query the indexes by name.',
    actions: [
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:ConditionCheckItem',
      'dynamodb:DeleteItem',
      'dynamodb:DescribeTable',
      'dynamodb:GetItem',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:Scan',
      'dynamodb:UpdateItem',
    ],
    resources: [/<Storage[A-Za-z0-9]+\.Arn>\/index\/\*/],
  },
  {
    reason:
      'KMS data-key actions (kms:GenerateDataKey*, kms:ReEncrypt*) on the one customer-managed data key, as the CDK grants of its tables, topics and queues request them.',
    actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
  },
];

/** DynamoDB stream event sources: dynamodb:ListStreams has no resource-level permission. */
export const LIST_STREAMS: WildcardGrant = {
  reason:
    'A DynamoDB stream event source needs dynamodb:ListStreams, which has no resource-level permission (the stream reads are on the one stream ARN).',
  actions: ['dynamodb:ListStreams'],
  resources: [/\*/],
};

/**
 * A state machine's own role as CDK makes it: vended log delivery and X-Ray (neither takes a resource),
 * and every version and alias of the one function its tasks invoke (`<Fn.Arn>:*`).
 */
export const STATE_MACHINE: readonly WildcardGrant[] = [
  {
    reason:
      'Step Functions logging to CloudWatch Logs uses vended log delivery (logs:*LogDelivery*, resource policies), which has no resource-level permission.',
    actions: [
      'logs:CreateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:DescribeLogGroups',
      'logs:DescribeResourcePolicies',
      'logs:GetLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:UpdateLogDelivery',
    ],
    resources: [/\*/],
  },
  {
    reason:
      'X-Ray tracing of the workflow: the X-Ray write and sampling APIs have no resource-level permission.',
    actions: [
      'xray:GetSamplingRules',
      'xray:GetSamplingTargets',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ],
    resources: [/\*/],
  },
  {
    reason:
      'The workflow may invoke any version or alias of its one step function (LambdaInvoke grants function:*).',
    actions: ['lambda:InvokeFunction'],
    resources: [/<[A-Za-z0-9]+\.Arn>:\*/],
  },
];

/**
 * A secret named in the configuration (not created here): its ARN ends in a random six-character suffix
 * that is not known at synth time, so CDK grants `name-??????`.
 */
export const SECRET_BY_NAME: WildcardGrant = {
  reason:
    'A Secrets Manager secret referenced by name: its ARN ends in a random suffix unknown at synth time (secret:name-??????), read-only.',
  actions: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
  resources: [/arn:<AWS::Partition>:secretsmanager:[^:]+:[^:]+:secret:[^*?]+-\?{6}/],
};
