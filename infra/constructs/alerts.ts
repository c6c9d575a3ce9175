import type { IKey } from 'aws-cdk-lib/aws-kms';
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

  constructor(
    scope: Construct,
    id: string,
    props: {
      stage: string;
      key: IKey;
      alertSubscriptions: SubscriptionConfig[];
      pageSubscriptions: SubscriptionConfig[];
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
  }
}
