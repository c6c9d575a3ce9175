import type { Stack } from 'aws-cdk-lib';
import { NagSuppressions } from 'cdk-nag';

/**
 * The cdk-nag findings we accept, each with its reason. Everything else must pass AwsSolutions checks.
 */
export function applyNagSuppressions(stack: Stack): void {
  NagSuppressions.addStackSuppressions(stack, [
    {
      id: 'AwsSolutions-IAM5',
      reason:
        'Wildcards only where the resource name is not known in advance or the action family is required together: ' +
        'DynamoDB stream ARNs (table/stream/*), GSI ARNs (table/index/*), dynamodb:ListStreams (no resource-level permission), ' +
        'and KMS data-key actions (kms:GenerateDataKey*, kms:ReEncrypt*) on the one data key, all granted by the CDK grant helpers.',
      appliesTo: [
        { regex: '/^Resource::<StorageAccounts.*\\.Arn>\\/stream\\/\\*$/' },
        { regex: '/^Resource::<StoragePositions.*\\.Arn>\\/stream\\/\\*$/' },
        { regex: '/^Resource::<StoragePrices.*\\.Arn>\\/stream\\/\\*$/' },
        { regex: '/^Resource::<Storage.*\\.Arn>\\/index\\/\\*$/' },
        'Resource::*',
        'Action::kms:GenerateDataKey*',
        'Action::kms:ReEncrypt*',
        // Step Functions may invoke any version or alias of the one escalation function.
        { regex: '/^Resource::<EscalationStepsFunction.*\\.Arn>:\\*$/' },
        // Console roles: every route of the one REST API (operators) or its GET routes (viewers); the
        // broadcaster: posting to any connection of the one WebSocket stage.
        { regex: '/^Resource::arn:<AWS::Partition>:execute-api:.*:<ApiRestApi.*>\\/.*\\/(GET|\\*)\\/\\*$/' },
        {
          regex:
            '/^Resource::arn:<AWS::Partition>:execute-api:.*:<LiveApi.*>\\/.*\\/\\*\\/@connections\\/\\*$/',
        },
      ],
    },
    {
      id: 'AwsSolutions-APIG4',
      reason:
        'WebSocket APIs authorize on $connect only (IAM here); subscribe and $disconnect run on a connection that was already authorized.',
    },
    {
      id: 'AwsSolutions-CFR1',
      reason:
        'The console is for the broker’s own staff behind Cognito sign-in with MFA; add geo restrictions if policy requires.',
    },
    {
      id: 'AwsSolutions-CFR2',
      reason:
        'The console site is static files; every data call is IAM-signed against API Gateway. Attach a WAF web ACL if your organisation requires one.',
    },
    {
      id: 'AwsSolutions-CFR4',
      reason:
        'With the default *.cloudfront.net certificate CloudFront cannot enforce a minimum TLS version; TLSv1.2_2021 is set and applies once a custom domain and certificate are configured.',
    },
    {
      id: 'AwsSolutions-COG8',
      reason:
        'MFA (TOTP) is required for every console user and self sign-up is off; the Plus feature plan is a cost decision left to the operator.',
    },
    {
      id: 'AwsSolutions-APIG3',
      reason:
        'Every method requires IAM (SigV4) credentials, so anonymous traffic never reaches the handler; put a WAF web ACL in front if your organisation requires one for all APIs.',
    },
    {
      id: 'AwsSolutions-COG4',
      reason:
        'The API is for machines (brokers’ systems, operators’ tools): it uses IAM (SigV4) authorization on every method instead of Cognito.',
    },
    {
      id: 'AwsSolutions-IAM4',
      reason:
        'API Gateway’s account-level CloudWatch Logs role uses the AWS-managed AmazonAPIGatewayPushToCloudWatchLogs policy, as AWS documents; no Lambda role uses a managed policy.',
      appliesTo: [
        'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs',
      ],
    },
    {
      id: 'AwsSolutions-SQS3',
      reason:
        'These queues are dead-letter queues themselves (stream on-failure destination and work-queue redrive target).',
    },
  ]);
  // The site upload is CDK's own BucketDeployment custom resource (its runtime, role and S3 actions are CDK's).
  for (const deployment of stack.node.children.filter((c) =>
    c.node.id.startsWith('Custom::CDKBucketDeployment'),
  ))
    NagSuppressions.addResourceSuppressions(
      deployment,
      ['AwsSolutions-L1', 'AwsSolutions-IAM4', 'AwsSolutions-IAM5'].map((id) => ({
        id,
        reason:
          'CDK-provided BucketDeployment handler that uploads the console bundle; its runtime and policies are managed by aws-cdk-lib.',
      })),
      true,
    );
}
