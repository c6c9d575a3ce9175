import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notification } from '../../shared/escalation/messages.ts';

export type Channel = 'alerts' | 'pages';

export interface Notifier {
  notify(channel: Channel, notification: Notification): Promise<void>;
}

/**
 * SNS with message attributes (severity, level, accountId, kind) so each subscriber filters what it
 * wants with a subscription filter policy.
 */
export class SnsNotifier implements Notifier {
  constructor(
    private readonly client: SNSClient,
    private readonly topics: Record<Channel, string>,
  ) {}

  async notify(channel: Channel, n: Notification): Promise<void> {
    const attribute = (value: string) => ({ DataType: 'String', StringValue: value });
    await this.client.send(
      new PublishCommand({
        TopicArn: this.topics[channel],
        Subject: n.subject,
        Message: n.message,
        MessageAttributes: {
          severity: attribute(n.severity),
          level: attribute(n.level ?? 'UNKNOWN'),
          accountId: attribute(n.accountId),
          kind: attribute(n.kind),
        },
      }),
    );
  }
}
