import { webhookPayload } from '../../../shared/escalation/webhook.ts';
import { isWebUrl } from '../../../shared/schemas/web-url.ts';
import {
  httpFailure,
  PermanentDeliveryError,
  RetryableDeliveryError,
  type ChannelSender,
  type Delivery,
} from './delivery.ts';

/** The chat webhook (Slack/Teams-style incoming webhook); its URL is a credential. */
export class WebhookSender implements ChannelSender {
  constructor(private readonly url: () => Promise<string>) {}

  async send(d: Delivery): Promise<void> {
    const url = await this.url();
    // The URL is a credential: the error says what is wrong with it, never what it is.
    if (!isWebUrl(url)) throw new PermanentDeliveryError('webhook URL: not an https:// URL');
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(
          webhookPayload(d.subject, d.text, { severity: d.severity, alertId: d.alertId, route: d.route }),
        ),
        signal: AbortSignal.timeout(5000),
      });
    } catch (e) {
      throw new RetryableDeliveryError(`webhook unreachable: ${(e as Error).message}`);
    }
    if (!response.ok) throw httpFailure(response.status, 'webhook');
  }
}
