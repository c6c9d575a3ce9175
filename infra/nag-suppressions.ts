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
      ],
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
}
