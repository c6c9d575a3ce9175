import { SendEmailCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import {
  PermanentDeliveryError,
  RetryableDeliveryError,
  type ChannelSender,
  type Delivery,
} from './delivery.ts';

/** An AWS SDK error as retryable (throttling, 5xx, network) or permanent (validation, rejected recipient). */
function classify(e: unknown, what: string): Error {
  const err = e as {
    name?: string;
    message?: string;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  const status = err.$metadata?.httpStatusCode ?? 0;
  const retryable =
    err.$retryable !== undefined ||
    status === 429 ||
    status >= 500 ||
    /Throttl|TooManyRequests|ServiceUnavailable|InternalFailure|TimeoutError|ECONNREFUSED/i.test(
      `${err.name} ${err.message}`,
    );
  const message = `${what}: ${err.name ?? 'error'} ${err.message ?? ''}`.trim();
  return retryable ? new RetryableDeliveryError(message) : new PermanentDeliveryError(message);
}

/** Amazon SES (v2): the HTML and text parts of a notification e-mail. */
export class SesEmailSender implements ChannelSender {
  constructor(
    private readonly client: SESv2Client,
    private readonly from: string,
  ) {}

  async send(d: Delivery): Promise<void> {
    try {
      await this.client.send(
        new SendEmailCommand({
          FromEmailAddress: this.from,
          Destination: { ToAddresses: [d.to] },
          Content: {
            Simple: {
              Subject: { Data: d.subject, Charset: 'UTF-8' },
              Body: {
                Text: { Data: d.text, Charset: 'UTF-8' },
                ...(d.html ? { Html: { Data: d.html, Charset: 'UTF-8' } } : {}),
              },
            },
          },
        }),
      );
    } catch (e) {
      throw classify(e, 'ses');
    }
  }
}

/** SNS SMS to an E.164 number, transactional (delivered even to numbers that opted out of promotions). */
export class SnsSmsSender implements ChannelSender {
  constructor(private readonly client: SNSClient) {}

  async send(d: Delivery): Promise<void> {
    try {
      await this.client.send(
        new PublishCommand({
          PhoneNumber: d.to,
          Message: d.text,
          MessageAttributes: {
            'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
            'AWS.SNS.SMS.SenderID': { DataType: 'String', StringValue: 'MarginGrd' },
          },
        }),
      );
    } catch (e) {
      throw classify(e, 'sns sms');
    }
  }
}
