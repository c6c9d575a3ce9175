import { Duration } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { LambdaSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { allowWildcards, SECRET_BY_NAME } from '../wildcard-grants.ts';
import { MarginGuardFunction } from './lambda-function.ts';
import { SubscriptionFilter, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription, SmsSubscription, UrlSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { SubscriptionConfig } from '../config.ts';

/**
 * Two KMS-encrypted topics: risk alerts (for the desk) and pages (for on-call). Messages carry severity,
 * level, accountId and kind attributes; each subscription can filter on severity.
 */
export class Alerts extends Construct {
  readonly alerts: Topic;
  readonly pages: Topic;

  readonly forwarder?: MarginGuardFunction;

  constructor(
    scope: Construct,
    id: string,
    props: {
      stage: string;
      key: IKey;
      alertSubscriptions: SubscriptionConfig[];
      pageSubscriptions: SubscriptionConfig[];
      webhookSecretName?: string;
      logRetentionDays: number;
      deadLetterQueue: IQueue;
    },
  ) {
    super(scope, id);
    this.alerts = new Topic(this, 'RiskAlerts', {
      displayName: `Margin Guard ${props.stage} risk alerts`,
      masterKey: props.key,
      enforceSSL: true,
    });
    this.pages = new Topic(this, 'OnCallPages', {
      displayName: `Margin Guard ${props.stage} on-call pages`,
      masterKey: props.key,
      enforceSSL: true,
    });
    const subscribe = (topic: Topic, s: SubscriptionConfig) => {
      const filterPolicy = s.severities
        ? { severity: SubscriptionFilter.stringFilter({ allowlist: s.severities }) }
        : undefined;
      const subscription =
        s.protocol === 'email'
          ? new EmailSubscription(s.endpoint, { filterPolicy })
          : s.protocol === 'sms'
            ? new SmsSubscription(s.endpoint, { filterPolicy })
            : new UrlSubscription(s.endpoint, { filterPolicy });
      topic.addSubscription(subscription);
    };
    props.alertSubscriptions.forEach((s) => subscribe(this.alerts, s));
    props.pageSubscriptions.forEach((s) => subscribe(this.pages, s));

    if (props.webhookSecretName) {
      this.forwarder = new MarginGuardFunction(this, 'WebhookForwarder', {
        name: 'webhook-forwarder',
        description: 'Forwards alerts and pages to a chat webhook',
        environment: { WEBHOOK_SECRET_NAME: props.webhookSecretName },
        timeout: Duration.seconds(15),
        logRetentionDays: props.logRetentionDays,
      });
      Secret.fromSecretNameV2(this, 'WebhookSecret', props.webhookSecretName).grantRead(this.forwarder.role);
      allowWildcards(this.forwarder.role, SECRET_BY_NAME);
      props.deadLetterQueue.grantSendMessages(this.forwarder.role);
      this.forwarder.fn.configureAsyncInvoke({
        retryAttempts: 2,
        onFailure: new SqsDestination(props.deadLetterQueue),
      });
      this.alerts.addSubscription(new LambdaSubscription(this.forwarder.fn));
      this.pages.addSubscription(new LambdaSubscription(this.forwarder.fn));
    }
  }
}
