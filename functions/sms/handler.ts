import { SNSClient } from '@aws-sdk/client-sns';
import { SnsSmsSender } from '../lib/channels/aws-senders.ts';
import {
  PermanentDeliveryError,
  RetryableDeliveryError,
  type ChannelSender,
} from '../lib/channels/delivery.ts';
import { smsRequestSchema, type SmsResult } from '../lib/channels/sms-relay.ts';

/**
 * The one function that publishes SMS (sns:Publish to a phone number has no resource to scope it to, so
 * that permission lives on this function's role alone). Every dispatcher hands its SMS deliveries here
 * (functions/lib/channels/sms-relay.ts) and gets the provider's answer back; nothing is logged here.
 */
export async function relaySms(raw: unknown, sender: ChannelSender): Promise<SmsResult> {
  const input = smsRequestSchema.safeParse(raw);
  if (!input.success)
    return {
      ok: false,
      retryable: false,
      message: `sms request refused: ${input.error.issues.map((i) => i.path.join('.') || 'input').join(', ')}`,
    };
  try {
    await sender.send({
      alertId: input.data.alertId,
      route: input.data.route,
      channel: 'sms',
      to: input.data.to,
      severity: input.data.severity,
      subject: '',
      text: input.data.text,
    });
    return { ok: true };
  } catch (e) {
    if (e instanceof PermanentDeliveryError) return { ok: false, retryable: false, message: e.message };
    return {
      ok: false,
      retryable: true,
      message: (e as Error).message,
      ...(e instanceof RetryableDeliveryError && e.retryAfterMs !== undefined
        ? { retryAfterMs: e.retryAfterMs }
        : {}),
    };
  }
}

let sender: ChannelSender | undefined;
export const handler = (event: unknown) =>
  relaySms(event, (sender ??= new SnsSmsSender(new SNSClient({ maxAttempts: 1 }))));
